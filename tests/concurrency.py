"""Helpers for the PostgreSQL race tests: real threads, each with its own connection."""

import threading
from collections import Counter
from collections.abc import Callable

from django.db import connection


def race(count: int, action: Callable[[int], object]) -> list:
    """Run `action(i)` in `count` threads released at once; each result or the exception it raised."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def worker(index: int) -> None:
        try:
            barrier.wait()
            results[index] = action(index)
        except Exception as error:
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def outcome_kinds(results: list) -> Counter:
    """How many results of each type (e.g. {'PotTransaction': 10, 'InsufficientPot': 10})."""
    return Counter(type(result).__name__ for result in results)
