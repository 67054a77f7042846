"""Django settings. Every knob is one environment variable, documented in the README table."""

from __future__ import annotations

from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

from sharehub import config
from sharehub.directory import conf as directory_conf
from sharehub.ops import logs

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = config.data_dir()

SECRET_KEY = config.secret("django-secret-key", "SECRET_KEY")
DEBUG = config.env_bool("SHAREHUB_DEBUG", False)
ALLOWED_HOSTS = config.env_list("SHAREHUB_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = config.env_list("SHAREHUB_CSRF_TRUSTED_ORIGINS", [])
# Reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are believed (sharehub.net); none by default.
TRUSTED_PROXIES = config.env_networks("SHAREHUB_TRUSTED_PROXIES")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "axes",
    "csp",
    "ninja",  # serves the API docs' Swagger UI from its own static files, not from a CDN
    "sharehub.web",
    "sharehub.org",
    "sharehub.events",
    "sharehub.policy",
    "sharehub.catalog",
    "sharehub.access",
    "sharehub.feeds",
    "sharehub.search",
    "sharehub.exchange",
    "sharehub.directory",
    "sharehub.knowledge",
]

MIDDLEWARE = [
    "sharehub.ops.middleware.OpsMiddleware",  # counts and times every request; health and metrics answer here
    "sharehub.web.middleware.TrustedProxyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "sharehub.bodies.PlaintextBodiesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "sharehub.api.JsonErrorsMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "sharehub.web.middleware.UserTimezoneMiddleware",
    "sharehub.web.middleware.DatabaseBusyMiddleware",
    "axes.middleware.AxesMiddleware",
    "sharehub.idempotency.IdempotencyMiddleware",
]

ROOT_URLCONF = "sharehub.urls"
ASGI_APPLICATION = "sharehub.asgi.application"
WSGI_APPLICATION = "sharehub.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "sharehub.web.context.navigation",
            ],
        },
    },
]

_database_url = config.env_str("DATABASE_URL", "")
if _database_url:
    # Each process keeps a bounded pool of connections (psycopg 3's pool, Django 5.1+). Persistent per-thread
    # connections are off: a process runs as many request threads as it has requests at once (sharehub.asgi),
    # and each thread would keep its own connection and exhaust PostgreSQL's max_connections. A request that
    # waits longer than the timeout for a connection gets 503 with Retry-After (DatabaseBusyMiddleware).
    DATABASES = {"default": dj_database_url.parse(_database_url, conn_max_age=0)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": 1,
            "max_size": config.env_int("SHAREHUB_DB_POOL_SIZE", 8),
            "timeout": config.env_int("SHAREHUB_DB_POOL_TIMEOUT", 10),
            "max_idle": 300,
        }
else:
    DATABASES = {
        "default": {
            "ENGINE": "sharehub.db.sqlite3",  # Django's, with a process's writers queued (see there)
            "NAME": DATA_DIR / "sharehub.sqlite3",
            "OPTIONS": {
                # WAL lets readers run beside the writer; IMMEDIATE takes the write lock at BEGIN so two
                # writers queue up instead of failing halfway through a transaction.
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
            # Kept open between requests: requests run on reused threads (sharehub.asgi), and a new
            # connection reads the whole schema again on its first statement.
            "CONN_MAX_AGE": 600,
        }
    }
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = config.env_str("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Email (notifications of what people follow, at once or as digests): off unless SHAREHUB_EMAIL_URL is set.
EMAIL_URL = config.env_str("SHAREHUB_EMAIL_URL", "")
globals().update(config.email_settings(EMAIL_URL))
EMAIL_ENABLED = bool(EMAIL_URL)
DEFAULT_FROM_EMAIL = config.env_str("SHAREHUB_EMAIL_FROM", "Sharehub <sharehub@localhost>")
SITE_URL = config.env_str("SHAREHUB_SITE_URL", "").rstrip("/")  # links in email point here
if EMAIL_ENABLED and not SITE_URL.startswith(("http://", "https://")):
    raise config.ConfigError(
        "SHAREHUB_SITE_URL must give the address people open Sharehub at (https://sharehub.example.org) "
        "when SHAREHUB_EMAIL_URL is set: email links point there"
    )

AUTH_USER_MODEL = "org.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "sharehub.directory.backends.LocalPasswordBackend",  # Django's ModelBackend (see DIRECTORY_LOCAL_PASSWORDS)
    "sharehub.directory.backends.DirectoryBackend",  # the LDAP directory's passwords, when DIRECTORY_LDAP is set
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Failed-sign-in throttling: after this many failures for one username (from any address), or from one
# address (for any username), wait. A success clears only that person's failures from that address
# (sharehub.org.signin), so signing in to one's own account does not wipe the count against another.
AXES_FAILURE_LIMIT = config.env_int("SHAREHUB_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_HANDLER = "sharehub.org.signin.SignInAttempts"
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "sharehub.net.client_address"
AXES_LOCKOUT_TEMPLATE = "web/locked_out.html"
AXES_VERBOSE = False

# Directory sign-in (sharehub.directory, README "Directory sign-in"): LDAP / Active Directory passwords when
# SHAREHUB_LDAP_URL is set, OpenID Connect when SHAREHUB_OIDC_ISSUER is; people are made at first sign-in and
# placed in departments by the mapping rules; the sync reads the whole LDAP directory every so many minutes
# (0: only `sharehub directory sync`). With DIRECTORY_LOCAL_PASSWORDS false, people from a directory sign in
# only through it; local accounts (break-glass admins) keep their password.
DIRECTORY_LDAP = directory_conf.ldap()
DIRECTORY_OIDC = directory_conf.oidc()
DIRECTORY_LOCAL_PASSWORDS = config.env_bool("SHAREHUB_DIRECTORY_LOCAL_PASSWORDS", True)
DIRECTORY_SYNC_MINUTES = config.env_int("SHAREHUB_DIRECTORY_SYNC_MINUTES", 60)

LANGUAGE_CODE = config.env_str("SHAREHUB_LANGUAGE", "zh-hans")
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["sharehub.formats"]  # one date and one date-time format per language
USE_I18N = True
USE_TZ = True
TIME_ZONE = config.env_str("SHAREHUB_TIME_ZONE", "Asia/Shanghai")

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# `sharehub serve` collects static files into STATIC_ROOT; finders only in debug mode, where files change.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

# Background work (log readers, deadlines, grant expiry): a thread of `sharehub serve`, or separate
# `sharehub worker` processes when this is false.
SERVER_RUNS_WORKER = config.env_bool("SHAREHUB_SERVER_RUNS_WORKER", True)
WORKER_INTERVAL_SECONDS = config.env_int("SHAREHUB_WORKER_INTERVAL", 30)

# Attachments live content-addressed under the data directory.
BLOB_DIR = DATA_DIR / "blobs"
UPLOAD_LIMIT_BYTES = config.env_int("SHAREHUB_UPLOAD_LIMIT_MB", 25) * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = UPLOAD_LIMIT_BYTES + 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# Attachment text is read after the upload commits, by a child process under these caps (sharehub.catalog.tasks).
EXTRACT_TIMEOUT_SECONDS = config.env_int("SHAREHUB_EXTRACT_TIMEOUT", 60)
EXTRACT_MEMORY_BYTES = config.env_int("SHAREHUB_EXTRACT_MEMORY_MB", 512) * 1024 * 1024
EXTRACT_MAX_UNCOMPRESSED_BYTES = config.env_int("SHAREHUB_EXTRACT_MAX_UNCOMPRESSED_MB", 100) * 1024 * 1024
EXTRACT_MAX_CELLS = config.env_int("SHAREHUB_EXTRACT_MAX_CELLS", 2_000_000)

# API rate limits (sharehub.throttling): per token or signed-in person, and per address for callers
# that are not signed in; (requests, seconds) or None when off.
API_RATE_TOKEN = config.env_rate("SHAREHUB_API_RATE_TOKEN", "1200/min")
API_RATE_ADDRESS = config.env_rate("SHAREHUB_API_RATE_ADDRESS", "120/min")

# API tokens (sharehub.org.services.issue_token): how long a new one lasts unless its maker says otherwise,
# and the longest anyone may make (the organization's rule, set by whoever runs Sharehub).
TOKEN_DAYS = config.env_int("SHAREHUB_TOKEN_DAYS", 90)
TOKEN_MAX_DAYS = config.env_int("SHAREHUB_TOKEN_MAX_DAYS", 365)
TOKEN_WARN_DAYS = 7  # its owner is told this many days before a token ends

# Sharing sessions (sharehub.knowledge.sessions): confirmed attendees are reminded this many hours before one starts.
SHARING_SESSION_REMINDER_HOURS = config.env_int("SHAREHUB_SESSION_REMINDER_HOURS", 24)
# Questions (sharehub.knowledge.qa): one still unanswered after this many working days goes to the heads asked.
SHAREHUB_QUESTION_ESCALATION_DAYS = config.env_int("SHAREHUB_QUESTION_ESCALATION_DAYS", 3)

FILE_UPLOAD_HANDLERS = [
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "sharehub.catalog.files.TemporaryFileUploadHandler",
]

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True

# Served over HTTPS (directly or behind a TLS-terminating proxy): secure cookies, HSTS, redirect to https.
HTTPS = config.env_bool("SHAREHUB_HTTPS", False)
if HTTPS:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = 365 * 24 * 3600
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    # Asking browsers to preload HSTS commits the whole registrable domain; that is the domain owner's
    # decision at hstspreload.org, not the application's, so the reminder is silenced.
    SILENCED_SYSTEM_CHECKS = ["security.W021"]
if TRUSTED_PROXIES:
    # Only trusted proxies' X-Forwarded-Proto reaches Django (sharehub.web.middleware.TrustedProxyMiddleware).
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Content-Security-Policy on every page (django-csp): scripts and styles only from our own static files,
# no inline script or style, no eval, no plugins, no framing. The API docs (Swagger UI, served by ninja
# from our static files) work under the same policy. `data:` images are Bootstrap's inline SVG icons.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

if DIRECTORY_OIDC is not None:
    # Sign-out of a session begun with OpenID Connect goes on to the provider's end-session page: a redirect
    # of the sign-out form, which the browser checks against form-action.
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["form-action"].append(DIRECTORY_OIDC.origin)

# Log lines as text, or one JSON object each for a log collector (sharehub.ops.logs; uvicorn's too, under serve).
LOG_FORMAT = config.env_str("SHAREHUB_LOG_FORMAT", "text").lower()
if LOG_FORMAT not in logs.FORMATS:
    raise config.ConfigError(f"SHAREHUB_LOG_FORMAT must be text or json, not {LOG_FORMAT!r}")
LOGGING_CONFIG = "sharehub.ops.logs.configure"
LOGGING = logs.django_logging(LOG_FORMAT, config.env_str("SHAREHUB_LOG_LEVEL", "WARNING"))

# Monitoring (sharehub.ops, README "Monitoring"). /health/ready fails while a log reader is more than
# READY_LAG_EVENTS events behind and its oldest unread event is READY_LAG_SECONDS old, or while more than
# READY_QUEUE_LIMIT webhook deliveries (or mails) have been due that long.
READY_LAG_EVENTS = config.env_int("SHAREHUB_READY_LAG_EVENTS", 1000)
READY_LAG_SECONDS = config.env_int("SHAREHUB_READY_LAG_SECONDS", 600)
READY_QUEUE_LIMIT = config.env_int("SHAREHUB_READY_QUEUE_LIMIT", 1000)
# /metrics answers a bearer token, or addresses in these networks; with neither set, loopback alone.
METRICS_TOKEN = config.env_str("SHAREHUB_METRICS_TOKEN", "")
if METRICS_TOKEN and len(METRICS_TOKEN) < 16:
    raise config.ConfigError("SHAREHUB_METRICS_TOKEN must be at least 16 characters (e.g. openssl rand -hex 24)")
METRICS_ALLOW = config.env_networks("SHAREHUB_METRICS_ALLOW")
