"""The matching engine: pure Python over plain dataclasses, no ORM import.

- `factors`: the plain data (category rules, seeker, provider candidate), the factors,
  the hard filters and how factors combine into a score and an order;
- `pool`: one category's providers prepared once (`CandidatePool`) and ranked for a seeker;
- `reasons`: why a provider was matched, in plain words;
- `text`: BM25 relevance of a seeker's needs against providers' profiles.

They are tested and benchmarked on plain data. `marketplace.candidates` reads a
category's candidates from the database for the engine; `marketplace.services.matches`
saves the results.
"""
