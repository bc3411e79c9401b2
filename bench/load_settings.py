"""Settings for `bench/load.py`: the production settings, plus one bare view to compare with.

Everything else (middleware, database, cache, templates) is `imatch.settings` as read from
the environment `bench/load.py` gives gunicorn.
"""

from imatch.settings import *  # noqa: F403 - the production settings, unchanged

ROOT_URLCONF = "load_urls"
