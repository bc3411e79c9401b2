"""Names and free text as we store them: one Unicode form, no invisible characters.

People paste names and descriptions from everywhere. Two names that look the same must
compare the same (Unicode NFC), and a name must not hide text or reverse how it reads:
zero-width characters and bidirectional overrides/isolates are removed.
"""

import unicodedata

# Zero-width space, non-joiner, joiner; word joiner; byte-order mark (zero-width no-break space).
ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"
# Bidirectional embeddings and overrides (LRE, RLE, PDF, LRO, RLO) and isolates (LRI, RLI, FSI, PDI).
BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_REMOVED = dict.fromkeys(map(ord, ZERO_WIDTH + BIDI_CONTROLS))


def clean_text(value: str | None) -> str:
    """The text normalized to NFC, without zero-width or bidi control characters, stripped ("" for None)."""
    if not value:
        return ""
    return unicodedata.normalize("NFC", value.translate(_REMOVED)).strip()
