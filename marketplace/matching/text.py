"""Text relevance of a seeker's needs against providers' profiles: Okapi BM25.

Pure Python, no ORM. Documents are tokenized once when the index is built (the
category's candidates), so ranking one seeker only walks the postings of the query's
terms. The query-independent part of BM25 (the saturated, length-normalised term
frequency) is precomputed per posting; a query multiplies it by the term's IDF.
"""

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import lru_cache

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

# Longest first: the first suffix that leaves a stem of at least three letters is removed.
_SUFFIXES = ("ements", "ement", "ments", "ment", "ings", "ing", "ers", "er", "ies", "es", "ed", "ly", "s")


@lru_cache(maxsize=100_000)
def stem(word: str) -> str:
    """A light suffix-stripping stemmer: retire/retiring/retirement → retir, planner/planning → plan."""
    if len(word) <= 3 or word.isdigit():
        return word
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)] + ("y" if suffix == "ies" else "")
            break
    if word.endswith("e") and len(word) > 4:
        word = word[:-1]
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "aeiouls":
        word = word[:-1]  # planning → plann → plan
    return word


def words(text: str) -> list[str]:
    """The text's words, lower-cased, without stop words."""
    return [w for w in TOKEN_RE.findall(text.lower()) if w not in STOPWORDS and len(w) > 1]


def tokenize(text: str) -> list[str]:
    """The text's terms as the index stores them (stemmed words)."""
    return [stem(w) for w in words(text)]


def query_terms(text: str) -> dict[str, str]:
    """Distinct stemmed terms of a query, each with the first word that produced it (for reasons)."""
    terms: dict[str, str] = {}
    for word in words(text):
        terms.setdefault(stem(word), word)
    return terms


class BM25Index:
    """BM25 over a fixed list of documents, addressed by their position in that list."""

    def __init__(self, documents: Sequence[Iterable[str]], *, k1: float = 1.2, b: float = 0.75):
        self.k1 = k1
        self.size = len(documents)
        counted = [Counter(terms) for terms in documents]
        lengths = [sum(c.values()) for c in counted]
        avgdl = (sum(lengths) / self.size) if self.size and sum(lengths) else 1.0
        postings: dict[str, tuple[list[int], list[float]]] = {}
        for position, (counts, length) in enumerate(zip(counted, lengths, strict=True)):
            norm = k1 * (1.0 - b + b * length / avgdl)
            for term, tf in counts.items():
                entry = postings.get(term)
                if entry is None:
                    entry = postings[term] = ([], [])
                entry[0].append(position)
                entry[1].append(tf * (k1 + 1.0) / (tf + norm))
        self.postings = postings
        self.terms_of = [frozenset(counts) for counts in counted]

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
        """The query terms a document contains, rarest first (what a reason should name)."""
        present = [t for t in dict.fromkeys(terms) if t in self.terms_of[position]]
        return sorted(present, key=lambda t: (len(self.postings[t][0]), t))
