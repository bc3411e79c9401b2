"""Settings for the test suite: fast hashing, in-memory email, no throttling surprises.

The cache is per process (tests/conftest.py empties it around every test, so no test
inherits another's throttle counts or lockouts); tests/test_shared_cache.py proves the
counters against the real Redis.
"""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key-not-used-anywhere-else-0123456789")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,testserver")
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("DJANGO_SECURE_COOKIES", "false")

from imatch.settings import *  # noqa: F403
from imatch.settings import REST_FRAMEWORK, SILENCED_SYSTEM_CHECKS, STORAGES

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
SITE_URL = "https://imatch.test"  # every email link starts with it (whatever PORT the shell has)
LOGIN_ATTEMPTS_PER_MINUTE = 10000
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "imatch-tests"}}
# axes.W001 warns that a per-process cache cannot share lockouts between processes: true, and
# wanted here; production settings never use one.
SILENCED_SYSTEM_CHECKS = [*SILENCED_SYSTEM_CHECKS, "axes.W001"]
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_RATES": {"anon": "10000/minute", "user": "10000/minute", "auth": "10000/minute"},
}

# Tasks run inline in tests, whatever the environment says (tests/test_worker.py starts a
# real worker against a real broker in a process of its own).
CELERY_BROKER_URL = ""
# Tests change rules and options with queryset updates and expect the next award to see them;
# tests/currency/test_pot_rules_cache.py turns the per-process copy on.
POT_RULES_CACHE_SECONDS = 0
CELERY_TASK_ALWAYS_EAGER = True
# Every answer kept per person (imatch.person_cache) is built again when served and compared,
# and asked for again at the end of each test (tests/conftest.py): a write that changes what it
# shows without forgetting it fails whichever test makes it, even one that never looks again.
PERSON_CACHE_VERIFY = True

# Uploaded photos go to a throw-away folder, never into the project: one per test run, which the
# processes the tests start share (they inherit its name), removed when the run ends.
import atexit  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402

MEDIA_ROOT = os.environ.get("IMATCH_TEST_MEDIA_ROOT", "")
if not MEDIA_ROOT:
    MEDIA_ROOT = os.environ["IMATCH_TEST_MEDIA_ROOT"] = tempfile.mkdtemp(prefix="imatch-test-media-")
    atexit.register(shutil.rmtree, MEDIA_ROOT, ignore_errors=True)
