"""The one settings file. Every knob comes from the environment (see README).

Unset DATABASE_URL means the embedded default (an SQLite file beside manage.py);
unset CELERY_BROKER_URL means tasks run eagerly in-process.
"""

import datetime
import os
from email.utils import getaddresses
from pathlib import Path

import dj_database_url
import plotly
from celery.schedules import crontab
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG")
DATABASE_URL = os.environ.get("DATABASE_URL", "")

# A production database without a secret key is a misconfiguration, not something to
# paper over with a generated key that would change on every restart.
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if DATABASE_URL and not DEBUG:
        raise ImproperlyConfigured("Set DJANGO_SECRET_KEY when DATABASE_URL is set and DJANGO_DEBUG is off.")
    SECRET_KEY = "django-insecure-embedded-default-for-trying-out-only"  # noqa: S105 - refused with DATABASE_URL set unless DEBUG

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost")
# Behind a proxy that serves the site under another origin (https://oversight.example.org).
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "")

# HTTPS: on in production, which is what the secret key rule above already calls it (a
# DATABASE_URL with debug off); the embedded default keeps plain http on 127.0.0.1.
PRODUCTION = bool(DATABASE_URL) and not DEBUG
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", PRODUCTION)
# Load balancers and compose probe /healthz over plain http inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", PRODUCTION)
SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_SECURE_HSTS_SECONDS") or (365 * 24 * 3600 if PRODUCTION else 0))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", True)
# A TLS-terminating proxy in front says so in X-Forwarded-Proto; trust it only when told to.
if env_bool("DJANGO_SECURE_PROXY_SSL_HEADER"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
X_FRAME_OPTIONS = "DENY"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_celery_beat",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "csp",
    "auditlog",
    "forces",
    "incidents",
    "scrutiny",
    "dashboards",
    "audit",
]

MIDDLEWARE = [
    # First: every line logged while a request is served carries its id.
    "oversight.logging.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # An anonymous reader's kept public page, answered before the sessions, as WhiteNoise answers a static file.
    "dashboards.middleware.PublicPageMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "audit.middleware.AuditActorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "oversight.middleware.StorageErrorMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into its answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "oversight.urls"
WSGI_APPLICATION = "oversight.wsgi.application"

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
                "forces.views.role_context",
            ],
        },
    },
]


def database_from_url(url):
    try:
        return dj_database_url.parse(url, conn_max_age=60)
    except ValueError as error:
        raise ImproperlyConfigured(
            f"DATABASE_URL {url.split('://')[0]!r}... is not a database address: give one like "
            "postgres://user:password@host:5432/oversight."
        ) from error


DATABASES = {
    "default": database_from_url(DATABASE_URL)
    if DATABASE_URL
    else {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": BASE_DIR / "db.sqlite3",
        # Waiting beats failing when a web request and an in-process import overlap.
        "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Web requests only (wsgi.py and asgi.py say which process this is): a query running longer is
# cancelled, and its request answers an error instead of holding a server thread. The worker and
# the commands (imports, rebuilds, retention) run long statements by design. 0 turns it off.
WEB_STATEMENT_TIMEOUT_MS = int(os.environ.get("DJANGO_WEB_STATEMENT_TIMEOUT_MS", "30000"))
# Web requests read pages of reports newest first off an index, fetching each row from the table.
# PostgreSQL's default random_page_cost (4) prices each fetch as a seek on a spinning disk, so the planner
# read whole indexes into bitmaps instead (an area's reports with a severe officer injury: 50 ms, where
# reading the rare value's index newest first takes 6.5; bench/RESULTS.md). On SSDs, or with the
# reports in memory, PostgreSQL's documentation suggests about 1.1. The worker and the commands keep the
# server's own setting: their benchmarks were measured with it.
WEB_RANDOM_PAGE_COST = float(os.environ.get("DJANGO_WEB_RANDOM_PAGE_COST", "1.1"))
if DATABASES["default"]["ENGINE"].endswith("postgresql") and os.environ.get("OVERSIGHT_PROCESS") == "web":
    web_options = [f"-c random_page_cost={WEB_RANDOM_PAGE_COST}"]
    if WEB_STATEMENT_TIMEOUT_MS:
        web_options.append(f"-c statement_timeout={WEB_STATEMENT_TIMEOUT_MS}")
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = " ".join(web_options)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Sign-in throttling (django-axes): after DJANGO_LOGIN_FAILURE_LIMIT wrong passwords for one
# username from one address, that pair is refused for DJANGO_LOGIN_COOLOFF_MINUTES. Keyed on
# the pair, so nobody can lock a colleague out from elsewhere; every attempt is kept (admin).
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = int(os.environ.get("DJANGO_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = datetime.timedelta(minutes=int(os.environ.get("DJANGO_LOGIN_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# The same address DRF's throttling counts (DJANGO_NUM_PROXIES below).
AXES_CLIENT_IP_CALLABLE = "forces.authentication.client_address"

LOGIN_URL = "login"
# Each role's own work (scrutiny.views.start): the next meeting, my cases, responses due, the force's figures.
LOGIN_REDIRECT_URL = "scrutiny-start"
LOGOUT_REDIRECT_URL = "home"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# plotly.js comes from the installed plotly package, served as /static/plotly/plotly.min.js: no CDN.
STATICFILES_DIRS = [BASE_DIR / "static", ("plotly", Path(plotly.__file__).parent / "package_data")]
# Without DEBUG, runserver and gunicorn serve static files through WhiteNoise; this lets
# them do so from the source folders too, so trying it out needs no collectstatic step.
WHITENOISE_USE_FINDERS = True

# Content Security Policy (django-csp): scripts only from files of this site, never inline
# (chart data sits in <script type="application/json">, which runs nothing). Plotly and
# Swagger UI set styles from their scripts, hence inline styles; their icons are data: URIs.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:", "blob:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# Uploaded files are never served: the web process stores them, the worker reads them,
# so both need this folder (a shared volume when they run on different machines).
MEDIA_ROOT = BASE_DIR / "media"
# The largest use-of-force file the upload page and the API take; bigger files go
# through `manage.py import_uof` on the server.
IMPORT_UPLOAD_MAX_BYTES = 200 * 1024 * 1024
# The most an XLSX (a ZIP of XML) may expand to: a year of the Met's export, some 150,000 rows
# of 270 columns, is about 1.5 GB of XML; a "zip bomb" is refused before it is expanded.
IMPORT_XLSX_MAX_EXPANDED_BYTES = 4 * 1024 * 1024 * 1024

# Celery: with no broker configured, tasks run in-process so the embedded default needs
# nothing else running.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
# Every wait on the broker is bounded: a Redis stopped or frozen costs an upload a few seconds and
# an answer that says so, never a request hung for minutes.
BROKER_TIMEOUT_SECONDS = float(os.environ.get("CELERY_BROKER_TIMEOUT_SECONDS", "3"))
CELERY_BROKER_CONNECTION_TIMEOUT = BROKER_TIMEOUT_SECONDS
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_timeout": BROKER_TIMEOUT_SECONDS,
    "socket_connect_timeout": BROKER_TIMEOUT_SECONDS,
}
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.5, "interval_max": 0.5}
# The worker logs through LOGGING below, one line per event like the web and the commands.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# An import's lease: its worker renews it as it reads; one not renewed for this long is taken over
# or ended by recover_imports (every RECOVER_EVERY_MINUTES), after IMPORT_MAX_ATTEMPTS starts as failed.
IMPORT_LEASE_SECONDS = int(os.environ.get("IMPORT_LEASE_SECONDS", "300"))
IMPORT_MAX_ATTEMPTS = int(os.environ.get("IMPORT_MAX_ATTEMPTS", "3"))
RECOVER_EVERY_MINUTES = int(os.environ.get("RECOVER_EVERY_MINUTES", "2"))
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Beat copies these into its database schedule, where the admin can change them.
CELERY_BEAT_SCHEDULE = {
    "rebuild-stale-summaries": {
        "task": "incidents.tasks.rebuild_stale_summaries",
        "schedule": crontab(hour=2, minute=0),
    },
    # Does nothing while RECORD_RETENTION_YEARS is 0.
    "apply-retention": {
        "task": "incidents.tasks.apply_retention",
        "schedule": crontab(hour=1, minute=30),
    },
    # Imports stuck past their lease, and summaries lagging behind their data: mended within minutes.
    "recover-imports": {
        "task": "incidents.tasks.recover_imports",
        "schedule": crontab(minute=f"*/{RECOVER_EVERY_MINUTES}"),
    },
    # After the night's rebuild, on the first day of each quarter.
    "quarterly-reports": {
        "task": "incidents.tasks.build_last_quarter_reports",
        "schedule": crontab(hour=3, minute=0, day_of_month=1, month_of_year="1,4,7,10"),
    },
    # Responses due and overdue, actions overdue: each reminder is sent once.
    "scrutiny-reminders": {
        "task": "scrutiny.tasks.send_reminders",
        "schedule": crontab(hour=7, minute=0),
    },
}

# Record-level retention: reports (with their CED uses, audit entries and uploaded files) that
# occurred more than this many years ago are removed each night, the monthly summaries kept;
# 0 keeps everything. See README.
RECORD_RETENTION_YEARS = int(os.environ.get("RECORD_RETENTION_YEARS", "0"))

# Every event a line on standard output, with the id of its request, task or command (see
# oversight/logging.py); compose, systemd or the platform keeps them. An error (a 500 among them)
# is also mailed to DJANGO_ADMINS when set ("Name <address>, other@example.org"), and sent to
# Sentry when SENTRY_DSN is set.
LOG_LEVEL = os.environ.get("DJANGO_LOG_LEVEL", "INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "oversight.logging.RequestIdFilter"},
        "require_debug_false": {"()": "django.utils.log.RequireDebugFalse"},
    },
    "formatters": {
        "line": {
            "()": "oversight.logging.OneLineFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s",
        }
    },
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "filters": ["request_id"],
            "formatter": "line",
        },
        "mail_admins": {
            "class": "django.utils.log.AdminEmailHandler",
            "level": "ERROR",
            "filters": ["require_debug_false"],
        },
    },  # fmt: skip
    "root": {"handlers": ["stdout"], "level": LOG_LEVEL},
    # Django's own lines go to the root's handler too; its errors are also mailed.
    "loggers": {
        "django": {"handlers": ["mail_admins"], "level": "INFO"},
        "axes": {"level": "WARNING"},  # not a line for every process start
    },
}
ADMINS = [(name, address) for name, address in getaddresses([os.environ.get("DJANGO_ADMINS", "")]) if address]
SENTRY_DSN = os.environ.get("SENTRY_DSN", "")
if SENTRY_DSN:
    import sentry_sdk

    # Django, Celery and logging are found and followed by themselves; no personal data is sent.
    sentry_sdk.init(dsn=SENTRY_DSN, environment=os.environ.get("SENTRY_ENVIRONMENT", "production"))

# Alerts are e-mailed to PCC staff; by default the message is printed, not sent.
EMAIL_BACKEND = os.environ.get("DJANGO_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DJANGO_DEFAULT_FROM_EMAIL", "taser-oversight@localhost")
EMAIL_HOST = os.environ.get("DJANGO_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("DJANGO_EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("DJANGO_EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("DJANGO_EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = os.environ.get("DJANGO_EMAIL_USE_TLS", "").lower() in ("1", "true", "yes")
SERVER_EMAIL = DEFAULT_FROM_EMAIL  # what errors are mailed to ADMINS from

# Import progress goes through the cache: the import runs in one database transaction,
# so counts written to its batch stay invisible to the status page until it commits.
# With a Redis broker the web processes and the workers share Redis; without one, tasks
# run in the web process itself and its own memory will do.
# With Redis down the pages and the API still serve: django-redis then answers every read as a
# miss and drops every write (logged), and throttling, cached answers and progress do without.
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": CELERY_BROKER_URL,
            "KEY_PREFIX": "oversight",
            "OPTIONS": {"IGNORE_EXCEPTIONS": True, "SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1},
        }
    }
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Public aggregates show counts from 1 to this many as suppressed (see docs/api.md).
SUPPRESSION_THRESHOLD = int(os.environ.get("SUPPRESSION_THRESHOLD", "5"))
# Secondary suppression (incidents/disclosure.py) hides more counts until no hidden one can be worked out from
# what is shown; "off" leaves primary suppression alone, which the attack in the tests shows to be unsafe.
SECONDARY_SUPPRESSION = os.environ.get("SECONDARY_SUPPRESSION", "on") != "off"

# Panel members' vetting (non-police personnel vetting) is renewed after this many years;
# a member whose vetting is older opens and reviews no case until it is recorded again.
PANEL_VETTING_VALID_YEARS = int(os.environ.get("PANEL_VETTING_VALID_YEARS", "3"))
# Days the force has to respond to a finding sent to it, and how many before the due day it is reminded.
SCRUTINY_RESPONSE_DAYS = int(os.environ.get("SCRUTINY_RESPONSE_DAYS", "28"))
SCRUTINY_REMIND_DAYS_BEFORE = int(os.environ.get("SCRUTINY_REMIND_DAYS_BEFORE", "7"))

REST_FRAMEWORK = {
    # Tokens first: an unauthenticated call is then told 401 with how to authenticate.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "forces.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated", "forces.authentication.TokenAccess"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer", "oversight.api.CsvRenderer"],
    "DEFAULT_PAGINATION_CLASS": "oversight.api.PagePagination",
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "oversight.api.FormatNegotiation",
    "DEFAULT_FILTER_BACKENDS": ["oversight.api.FilterBackend"],
    "DEFAULT_THROTTLE_CLASSES": ["oversight.api.AnonymousRateThrottle", "oversight.api.CallerRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "anon": os.environ.get("API_RATE_ANONYMOUS", "120/minute"),
        "caller": os.environ.get("API_RATE_CALLER", "600/minute"),
    },
    # Behind a proxy, how many of them add to X-Forwarded-For; 0 trusts only the socket's address.
    "NUM_PROXIES": int(os.environ.get("DJANGO_NUM_PROXIES", "0")),
    "DEFAULT_SCHEMA_CLASS": "oversight.schema.OversightSchema",
    "EXCEPTION_HANDLER": "oversight.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Taser oversight API",
    "DESCRIPTION": "Taser use by the police forces of England and Wales: public aggregates, and record-level "
    "reports and imports scoped to the caller's force. Guide with examples: docs/api.md.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # The interactive docs come from the installed sidecar package: no CDN at run time.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # Deep links put a link inside each operation's expand button, an interactive control within
    # another (WCAG 4.1.2, axe's nested-interactive); without them the path is plain text.
    "SWAGGER_UI_SETTINGS": {"deepLinking": False},
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {"CedLevelEnum": "incidents.filters.CED_LEVEL_NAMES"},
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "forces.api.force_ids_in_schema"],
}
