"""The matching engine.

`text` (BM25 relevance) and `scoring` (filters, factors, ranking) are pure Python over
plain dataclasses: no ORM import, so they are tested and benchmarked on plain data.
`candidates` is the thin layer that reads one category's candidates from the database
with a fixed number of queries; the `marketplace.services.matches` service saves results.
"""
