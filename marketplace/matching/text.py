"""Text relevance of a seeker's needs against providers' profiles: Okapi BM25 over meanings.

Pure Python, no ORM. Words are reduced to a *term*: the Snowball English stem
(negotiating/negotiation → negoti), then a `Lexicon` maps lemmas the stemmer cannot join
(grieving/grief, pregnant/pregnancy) and synonyms (PTSD / post-traumatic stress disorder)
onto one term. The lexicon is data (`fixtures/matching_synonyms.json`, one list of groups
for every category and one per category), read by `marketplace.candidates`.

Documents are tokenized once when the index is built (the category's candidates), so
ranking one seeker only walks the postings of the query's terms. The query-independent
part of BM25 (the saturated, length-normalised term frequency) is precomputed per
posting and stored in compact arrays (4 bytes a posting per column, not Python objects).

A sentence-embedding model (all-MiniLM-L6-v2) was considered and left out: its vectors
alone (384 floats a provider) would take 150 MB a worker at 100,000 providers, above what
the whole index may use (README, *How matching works*).
"""

import bisect
import math
import re
from array import array
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import lru_cache

import snowballstemmer

TOKEN_RE = re.compile(r"[a-z0-9]+")

_STOPWORDS_TEXT = """
    a about after all also am an and any are as at be been before being but by can could
    did do does doing for from get got had has have he her here him his how i if in into is
    it its just let me more most my need needs no not of on or our out over own please she
    should so some than that the their them then there these they this those to too up us
    very want wants was we were what when where which who will with would you your yours
    looking help someone something
"""
STOPWORDS = frozenset(_STOPWORDS_TEXT.split())

_snowball = snowballstemmer.stemmer("english")


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """The Snowball (Porter 2) English stem: retire/retiring/retirement → retir."""
    if len(word) <= 2 or word.isdigit():
        return word
    return _snowball.stemWord(word)


def words(text: str) -> list[str]:
    """The text's words, lower-cased, without stop words."""
    return [w for w in TOKEN_RE.findall(text.lower()) if w not in STOPWORDS and len(w) > 1]


class Lexicon:
    """Groups of words or phrases that mean the same, each group read as one term.

    A group is a list of words or phrases; its first entry names it. A phrase matches the
    same words in a row (after stemming), so "post-traumatic stress disorder" in a bio and
    "PTSD" in a need are the same term. Longest phrases match first.
    """

    def __init__(self, groups: Iterable[Sequence[str]] = ()):
        self.phrases: dict[tuple[str, ...], str] = {}
        for group in groups:
            entries = [tuple(stem(w) for w in words(entry)) for entry in group]
            entries = [e for e in entries if e]
            if len(entries) < 2:
                continue
            name = "_".join(entries[0])
            for entry in entries:
                self.phrases.setdefault(entry, name)
        self.longest = max((len(p) for p in self.phrases), default=0)
        self.starts = frozenset(p[0] for p in self.phrases)

    def __bool__(self) -> bool:
        return bool(self.phrases)

    def terms(self, stems: Sequence[str]) -> list[tuple[str, int, int]]:
        """(term, first word, end) for each term of a stemmed text, phrases joined."""
        found: list[tuple[str, int, int]] = []
        i, n = 0, len(stems)
        phrases, starts = self.phrases, self.starts
        while i < n:
            if stems[i] in starts:
                for size in range(min(self.longest, n - i), 0, -1):
                    name = phrases.get(tuple(stems[i : i + size]))
                    if name is not None:
                        found.append((name, i, i + size))
                        i += size
                        break
                else:
                    found.append((stems[i], i, i + 1))
                    i += 1
            else:
                found.append((stems[i], i, i + 1))
                i += 1
        return found


NO_LEXICON = Lexicon()


def tokenize(text: str, lexicon: Lexicon = NO_LEXICON) -> list[str]:
    """The text's terms as the index stores them (stems, synonyms and lemmas joined)."""
    stems = [stem(w) for w in words(text)]
    if not lexicon:
        return stems
    return [term for term, _, _ in lexicon.terms(stems)]


def query_terms(text: str, lexicon: Lexicon = NO_LEXICON) -> dict[str, str]:
    """Distinct terms of a query, each with the first words that produced it (for reasons)."""
    typed = words(text)
    stems = [stem(w) for w in typed]
    terms: dict[str, str] = {}
    for term, start, end in lexicon.terms(stems) if lexicon else ((s, i, i + 1) for i, s in enumerate(stems)):
        terms.setdefault(term, " ".join(typed[start:end]))
    return terms


class BM25Index:
    """BM25 over a fixed list of documents, addressed by their position in that list."""

    def __init__(self, documents: Iterable[Iterable[str]], *, k1: float = 1.2, b: float = 0.75):
        self.k1 = k1
        # One pass over the documents, each counted and dropped at once (no per-document
        # counters kept: at 100,000 profiles they were the peak of a worker's memory); the
        # term frequencies are then turned into saturated weights in place, once the mean
        # document length is known.
        positions: dict[str, array] = {}
        saturated: dict[str, array] = {}
        lengths = array("i")
        for position, terms in enumerate(documents):
            counts = Counter(terms)
            lengths.append(sum(counts.values()))
            for term, tf in counts.items():
                entry = positions.get(term)
                if entry is None:
                    entry = positions[term] = array("i")
                    saturated[term] = array("f")
                entry.append(position)
                saturated[term].append(tf)
        self.size = len(lengths)
        total = sum(lengths)
        avgdl = (total / self.size) if self.size and total else 1.0
        norms = array("d", (k1 * (1.0 - b + b * length / avgdl) for length in lengths))
        for term, weights in saturated.items():
            for i, position in enumerate(positions[term]):
                tf = weights[i]
                weights[i] = tf * (k1 + 1.0) / (tf + norms[position])
        self.postings = {term: (positions[term], saturated[term]) for term in positions}

    def idf(self, term: str) -> float:
        """Always positive (the Lucene form), so a common term never counts against a document."""
        df = len(self.postings[term][0]) if term in self.postings else 0
        return math.log(1.0 + (self.size - df + 0.5) / (df + 0.5))

    def relevance(self, terms: Iterable[str]) -> list[float]:
        """Normalised BM25 in [0, 1] of every document (by position) for these query terms.

        The raw score is divided by its upper bound for this query (every known term with
        an unbounded frequency: IDF x (k1 + 1)), so the value means the same in a small
        category as in a large one.
        """
        scores = [0.0] * self.size
        known = [t for t in dict.fromkeys(terms) if t in self.postings]
        if not known:
            return scores
        weights = {t: self.idf(t) for t in known}
        bound = sum(weights.values()) * (self.k1 + 1.0)
        for term in known:
            idf = weights[term] / bound
            positions, saturated = self.postings[term]
            for position, w in zip(positions, saturated, strict=True):
                scores[position] += idf * w
        return scores

    def matched_terms(self, position: int, terms: Iterable[str]) -> list[str]:
        """The query terms a document contains, rarest first (what a reason names).

        Read from the postings (positions are in order: a binary search per term), so
        the index keeps no copy of each document's terms.
        """
        found = []
        for term in dict.fromkeys(terms):
            positions = self.postings.get(term, (None,))[0]
            if positions is not None:
                at = bisect.bisect_left(positions, position)
                if at < len(positions) and positions[at] == position:
                    found.append(term)
        return sorted(found, key=lambda t: (len(self.postings[t][0]), t))
