"""The matching engine: pure Python over plain dataclasses, no ORM import.

`text` (BM25 relevance) and `scoring` (filters, factors, ranking) are tested and
benchmarked on plain data. `marketplace.candidates` reads a category's candidates from
the database for it; the `marketplace.services.matches` service saves results.
"""
