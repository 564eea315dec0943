"""Settings for CENcomm, read from the environment.

With nothing set, the platform runs on the embedded default: two SQLite files in
``var/`` (one for the platform, one for the CEN database) and the in-memory
channel layer. ``DATABASE_URL``, ``CEN_DATABASE_URL`` and ``REDIS_URL`` switch
to PostgreSQL and Redis.
"""

import datetime
import os
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("CENCOMM_VAR_DIR", BASE_DIR / "var"))

# Only for the embedded development default; production refuses to start with it.
INSECURE_DEFAULT_SECRET_KEY = "insecure-development-key-do-not-use-in-production"  # noqa: S105


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", default=False)
# Without DEBUG there is no fallback: the key stays empty, which Django refuses the
# moment anything signs with it, and the server refuses to start (cencomm/asgi.py).
# Commands that sign nothing (migrate, makemigrations, check) run without one.
SECRET_KEY = os.environ.get("SECRET_KEY") or (INSECURE_DEFAULT_SECRET_KEY if DEBUG else "")
if not DEBUG and SECRET_KEY == INSECURE_DEFAULT_SECRET_KEY:
    raise ImproperlyConfigured(
        "SECRET_KEY is the development key. Production (DEBUG off) refuses it: set "
        "SECRET_KEY to a long random value, or DEBUG=1 for development."
    )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

# Browser websocket connections must come from one of these origins, compared exactly
# (scheme, host and port). Defaults to the CSRF trusted origins.
WEBSOCKET_ALLOWED_ORIGINS = env_list("WEBSOCKET_ALLOWED_ORIGINS", ",".join(CSRF_TRUSTED_ORIGINS))

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "csp",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "guardian",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_tasks",
    "django_tasks_db",
    "core",
    "groups",
    "messaging",
    "operations",
    "operations.cen",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Refuses input no view can take (a NUL character) with a clear 400.
    "core.bad_input.RejectNulMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # Before anything that reads the session or the user: takes the request's database
    # connection, and answers 503 when the pool has none free (cencomm/unavailable.py).
    "core.unavailable.DatabaseUnavailableMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "groups.middleware.SessionLifetimeMiddleware",
    # A device whose session was ended elsewhere wipes its copies (groups/middleware.py).
    "groups.middleware.DeviceEndedMiddleware",
    "groups.middleware.UserLanguageMiddleware",
    "groups.middleware.TwoFactorRequiredMiddleware",
    "core.logging.RequestContextMiddleware",
    # Inside the request context (the client's address): records the refusal a page or
    # an API request is answered with (core/audit.py).
    "core.audit.RefusalAuditMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "cencomm.urls"
ASGI_APPLICATION = "cencomm.asgi.application"
WSGI_APPLICATION = None

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
            ],
        },
    },
]

# Databases: `default` holds the platform, `cen` the permanent CEN database of
# seizures. The router sends the `cen` app label to `cen` and everything else to
# `default`; the two never share a transaction.
VAR_DIR.mkdir(parents=True, exist_ok=True)
# Connections: under ASGI every HTTP request runs its database work in a thread of its
# own, so a persistent connection (CONN_MAX_AGE > 0) stays open in each of those threads
# until PostgreSQL refuses more clients (PERFORMANCE-NOTES 8). Each process draws from a
# pool per database instead, at most DATABASE_POOL_MAX_SIZE connections whatever the
# load; a request that finds none free within DATABASE_POOL_TIMEOUT seconds gets 503
# (cencomm/unavailable.py). The default pool serves the HTTP requests and the sockets'
# WEBSOCKET_DATABASE_THREADS; the CEN database is read by few pages and written by the
# transfer, which holds two CEN connections at once (it reads while its writer thread
# commits the previous batch), so the CEN pool is never below 2 where a transfer runs.
# docs/deploy.md adds up processes against PostgreSQL's max_connections. 0 turns the
# pool off (behind an external pooler): one connection per request.
DATABASE_POOL_MIN_SIZE = int(os.environ.get("DATABASE_POOL_MIN_SIZE", "2"))
DATABASE_POOL_MAX_SIZE = int(os.environ.get("DATABASE_POOL_MAX_SIZE", "10"))
CEN_DATABASE_POOL_MAX_SIZE = int(os.environ.get("CEN_DATABASE_POOL_MAX_SIZE", "4"))
DATABASE_POOL_TIMEOUT = float(os.environ.get("DATABASE_POOL_TIMEOUT", "5"))
# Whether the pool checks a connection (an empty query, one round trip: ~20-60 us here)
# before handing it out. After PostgreSQL restarts, every pooled connection is dead:
# without the check each one fails one request or socket action (answered 503 /
# `unavailable`) before it is replaced.
DATABASE_POOL_CHECK = os.environ.get("DATABASE_POOL_CHECK", "1") == "1"
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'cencomm.sqlite3'}",
        conn_max_age=0,
        # With the pool, Django's health checks are the pool's check on handing out a
        # connection (DATABASE_POOL_CHECK), not a SELECT 1 before every use.
        conn_health_checks=DATABASE_POOL_CHECK,
    ),
    "cen": dj_database_url.parse(
        os.environ.get("CEN_DATABASE_URL") or f"sqlite:///{VAR_DIR / 'cen.sqlite3'}",
        conn_max_age=0,
        conn_health_checks=DATABASE_POOL_CHECK,
    ),
}
_pool_sizes = {
    "default": (min(DATABASE_POOL_MIN_SIZE, DATABASE_POOL_MAX_SIZE), DATABASE_POOL_MAX_SIZE),
    "cen": (0, CEN_DATABASE_POOL_MAX_SIZE),
}
for _alias, _database in DATABASES.items():
    if _database["ENGINE"] == "django.db.backends.sqlite3":
        # Several processes (daphne, a worker, a command) may share the files.
        _database["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    elif _pool_sizes[_alias][1] > 0:
        _min_size, _max_size = _pool_sizes[_alias]
        _database.setdefault("OPTIONS", {})["pool"] = {
            "min_size": _min_size,
            "max_size": _max_size,
            "timeout": DATABASE_POOL_TIMEOUT,
        }
DATABASE_ROUTERS = ["cencomm.routers.CenRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "")
CHANNEL_LAYER_PREFIX = os.environ.get("CHANNEL_LAYER_PREFIX", "cencomm")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                # redis-py's pool defaults to 100 connections and refuses the rest
                # at once; a busy process needs more. redis-py 8 also reads with a
                # 5 s socket timeout, the same as the layer's 5 s blocking pop: the
                # pop's empty answer races the timeout and the loser kills the socket's
                # consumer. A longer read timeout leaves the pop room to answer.
                "hosts": [{"address": REDIS_URL, "max_connections": 1000, "socket_timeout": 30}],
                "prefix": CHANNEL_LAYER_PREFIX,
                "capacity": 1000,
                "expiry": 60,
                "group_expiry": 86400,
            },
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
# The API's rate limits count here: in Redis they hold across every daphne process
# (in memory, each process would count on its own).
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": CHANNEL_LAYER_PREFIX,
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# The proxies (nginx) whose X-Forwarded-For is believed, as addresses or networks.
# Empty: the header is ignored and the client is the connection's peer
# (core.logging.client_address).
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES")

AUTHENTICATION_BACKENDS = [
    # First: refuses a login attempt that a lockout rule holds (cencomm/lockout.py).
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
# Brute-force lockout on every way in (login page, two-factor code, admin, API token),
# shaped so that nobody can lock a user out of the devices they usually log in from
# (docs/security.md, cencomm/lockout.py): for AXES_COOLOFF_TIME,
# - a username from one address after AXES_FAILURE_LIMIT failures;
# - an address, whatever the usernames, after LOCKOUT_ADDRESS_FAILURE_LIMIT;
# - a username from addresses it has never logged in from, after
#   LOCKOUT_ACCOUNT_FAILURE_LIMIT failures from anywhere (guessing spread over many
#   addresses).
# Staff lift a lockout in the admin ("Access attempts") or with
# `manage.py axes_reset_username USERNAME` / `axes_reset_ip ADDRESS`.
AXES_FAILURE_LIMIT = int(os.environ.get("LOCKOUT_FAILURE_LIMIT", "5"))
LOCKOUT_ADDRESS_FAILURE_LIMIT = int(
    os.environ.get("LOCKOUT_ADDRESS_FAILURE_LIMIT", str(4 * AXES_FAILURE_LIMIT))
)
LOCKOUT_ACCOUNT_FAILURE_LIMIT = int(
    os.environ.get("LOCKOUT_ACCOUNT_FAILURE_LIMIT", str(4 * AXES_FAILURE_LIMIT))
)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=int(os.environ.get("LOCKOUT_MINUTES", "15")))
# What axes records and, on a successful login, clears: the (username, address) pair.
# The address and account rules are counted by the handler from the same records.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_HANDLER = "core.lockout.LockoutHandler"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "core.lockout.lockout_response"
AXES_CLIENT_IP_CALLABLE = "core.logging.request_client_ip"
AXES_VERBOSE = False

# Two-factor login: always for staff and coordinators; for everyone when this is set.
TWO_FACTOR_REQUIRED_FOR_ALL = env_bool("TWO_FACTOR_REQUIRED_FOR_ALL", default=False)
OTP_TOTP_ISSUER = "CENcomm"

# Guardian's anonymous user is not used: anonymous visitors see nothing.
ANONYMOUS_USER_NAME = None


AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "groups:my_groups"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
# CENcomm's languages. Russian and Arabic (right to left: the pages set dir="rtl" and
# the stylesheet uses logical properties, so the layout mirrors) join when their
# catalogs are complete; tests/test_i18n.py checks every language listed here.
LANGUAGES = [
    ("en", _("English")),
    ("fr", _("French")),
    ("es", _("Spanish")),
    ("ru", _("Russian")),
    ("ar", _("Arabic")),
    ("pt", _("Portuguese")),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "static"))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "groups.authentication.TwoFactorTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["core.throttling.UserRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "user": os.environ.get("API_THROTTLE_RATE", "600/minute"),
        "anon": os.environ.get("API_ANON_THROTTLE_RATE", "30/minute"),
    },
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "CENcomm API",
    "DESCRIPTION": (
        "Closed user groups, messages, operations and seizures for joint customs enforcement "
        "operations. Authenticate with `Authorization: Token <key>` (manage.py drf_create_token "
        'USER) or the browser session. Errors are {"error": {"code", "detail", "fields"}}.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # Redoc is served from the platform (pinned by the package), never from a CDN.
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "CommodityCategoryEnum": "core.vocabularies.CommodityCategory",
        "OperationStatusEnum": "operations.models.Operation.Status",
        "SeizureStatusEnum": "operations.models.Seizure.Status",
        "GroupStatusEnum": "groups.models.ClosedUserGroup.Status",
        "RoleEnum": "groups.models.Role",
        "ErrorCodeEnum": "core.api.ERROR_CODES",
        "HandlingCodeEnum": "core.vocabularies.HandlingCode",
        "MessageKindEnum": "messaging.models.Message.Kind",
        "NotificationKindEnum": "groups.notifications.Kind",
    },
}

# No inline script or style anywhere: pages load their scripts and one stylesheet
# from the platform itself, so an injected <script> or style attribute never runs.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "worker-src": [SELF],
        "manifest-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# Sessions: an idle timeout renewed by activity, and an absolute lifetime from the login.
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_IDLE_SECONDS", str(2 * 3600)))
SESSION_SAVE_EVERY_REQUEST = True
SESSION_ABSOLUTE_SECONDS = int(os.environ.get("SESSION_ABSOLUTE_SECONDS", str(12 * 3600)))
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# A stale form or script is told, in the reader's language, to reload (cencomm/error_views.py).
CSRF_FAILURE_VIEW = "cencomm.error_views.csrf_failure"
# One date format per language, the same as the browser's (cencomm/formats/).
FORMAT_MODULE_PATH = ["cencomm.formats"]
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=True)

# Demo world: the password every demo user gets when DEMO_PASSWORD is unset.
DEMO_PASSWORD = os.environ.get("DEMO_PASSWORD", "cencomm-demo")

LOG_FORMAT = os.environ.get("LOG_FORMAT", "plain" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "core.logging.ContextFilter"}},
    "formatters": {
        "plain": {
            "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s u%(user_id)s] %(message)s"
        },
        "json": {"()": "core.logging.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["context"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "daphne": {"level": "WARNING"},
        "django.channels.server": {"level": "WARNING"},
        # WeasyPrint logs each step of every PDF at INFO; its warnings still show.
        "weasyprint.progress": {"level": "WARNING"},
    },
}
# /metrics answers only to these networks (the scraper's, judged on the connection's
# peer, never on a header) and, when METRICS_TOKEN is set, only with
# `Authorization: Bearer <METRICS_TOKEN>`; everyone else gets 404.
METRICS_ALLOWED_NETWORKS = env_list("METRICS_ALLOWED_NETWORKS", "127.0.0.0/8,::1/128")
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")

# Messaging limits.
MESSAGE_MAX_LENGTH = int(os.environ.get("MESSAGE_MAX_LENGTH", "10000"))
ATTACHMENT_MAX_BYTES = int(os.environ.get("ATTACHMENT_MAX_BYTES", str(20 * 1024 * 1024)))
ATTACHMENTS_PER_MESSAGE = 10
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
# A websocket frame larger than this closes the socket (1009); bodies larger than
# MESSAGE_MAX_LENGTH get an error frame.
WEBSOCKET_MAX_FRAME_BYTES = int(os.environ.get("WEBSOCKET_MAX_FRAME_BYTES", str(256 * 1024)))
# Per user and process: a burst of this many frames, refilled at this rate per second.
# It stops flooding, not work: a page that comes back online sends everything typed
# meanwhile at once, and a national system posting through a token sends faster than
# a person types.
WEBSOCKET_RATE_BURST = int(os.environ.get("WEBSOCKET_RATE_BURST", "120"))
WEBSOCKET_RATE_PER_SECOND = float(os.environ.get("WEBSOCKET_RATE_PER_SECOND", "30"))
# How many events one catch-up page carries.
SYNC_PAGE_SIZE = int(os.environ.get("SYNC_PAGE_SIZE", "1000"))
# How often a session-authenticated socket re-checks that its session is still valid.
WEBSOCKET_SESSION_CHECK_SECONDS = float(os.environ.get("WEBSOCKET_SESSION_CHECK_SECONDS", "30"))

# A seizure may be dated this many days before the operation's planned start or
# after its planned end (officers report late; operations start early at some posts).
SEIZURE_DATE_TOLERANCE_DAYS = int(os.environ.get("SEIZURE_DATE_TOLERANCE_DAYS", "7"))

# Background jobs (the CEN transfer): django-tasks with its database backend, so a
# job is queued in the same transaction as the TransferRun that asks for it, and
# `manage.py db_worker` runs it (docs/transfer.md).
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# Seizures per CEN transaction (batch + checkpoint), and how long a running transfer
# may show no progress before the next start takes it over.
CEN_TRANSFER_BATCH_SIZE = int(os.environ.get("CEN_TRANSFER_BATCH_SIZE", "2000"))
CEN_TRANSFER_STALE_SECONDS = int(os.environ.get("CEN_TRANSFER_STALE_SECONDS", "300"))
# A queued transfer that no worker has claimed for this long: the page says a worker is
# needed (an idle worker polls every second).
CEN_TRANSFER_PICKUP_SECONDS = int(os.environ.get("CEN_TRANSFER_PICKUP_SECONDS", "15"))
# An operation that sends to CEN as it goes: a validation queues a run this many seconds
# ahead, and the validations meanwhile join it (one run for many, within a minute).
CEN_CONTINUOUS_DELAY_SECONDS = int(os.environ.get("CEN_CONTINUOUS_DELAY_SECONDS", "30"))

# Spreadsheet imports: the largest file, and the most rows, taken in one go.
SPREADSHEET_MAX_BYTES = int(os.environ.get("SPREADSHEET_MAX_BYTES", str(10 * 1024 * 1024)))
SPREADSHEET_MAX_ROWS = int(os.environ.get("SPREADSHEET_MAX_ROWS", "50000"))
# The longest an import may take, reading and checking included; past it the file is
# refused and nothing is stored.
SPREADSHEET_MAX_SECONDS = int(os.environ.get("SPREADSHEET_MAX_SECONDS", "60"))
# A socket holds a group's live events until the client has synced it (so that
# catch-up and live events never interleave); a client that never syncs gets them
# after this long.
WEBSOCKET_SYNC_GRACE_SECONDS = float(os.environ.get("WEBSOCKET_SYNC_GRACE_SECONDS", "5"))
# Events waiting for one socket before it stops queueing them and reads the rest from
# the database instead (a stuck client costs bounded memory, and loses nothing).
WEBSOCKET_INBOX_LIMIT = int(os.environ.get("WEBSOCKET_INBOX_LIMIT", "2000"))
# The garbage collector's thresholds in a server process (cencomm/asgi.py); empty
# keeps Python's defaults (700, 10, 10).
GC_THRESHOLDS = tuple(
    int(part) for part in os.environ.get("GC_THRESHOLDS", "50000,20,100").split(",") if part
)
# Threads per process for the websocket's database work (messaging/database.py).
WEBSOCKET_DATABASE_THREADS = int(os.environ.get("WEBSOCKET_DATABASE_THREADS", "4"))
# Handshakes a process works on at once, and how long one may wait for a place before
# it is closed with 4503 and its client comes back later (messaging/admission.py). The
# wait stays just below daphne's --websocket_connect_timeout (5 s by default), past which
# daphne drops a handshake without an answer: what is closed here would have been
# dropped there, after work done for nobody.
WEBSOCKET_ADMISSION_CONCURRENCY = int(os.environ.get("WEBSOCKET_ADMISSION_CONCURRENCY", "32"))
WEBSOCKET_ADMISSION_WAIT_SECONDS = float(os.environ.get("WEBSOCKET_ADMISSION_WAIT_SECONDS", "4.5"))

# Web Push (groups/web_push.py): a device told, with no content, that something waits
# in a group. Off unless switched on: off, nothing leaves the server and the pages do
# not offer it (a network without internet). The VAPID private key is the base64url
# raw key that `manage.py web_push_keys` prints; the public key is derived from it.
WEB_PUSH_ENABLED = os.environ.get("WEB_PUSH_ENABLED", "0") == "1"
WEB_PUSH_VAPID_PRIVATE_KEY = os.environ.get("WEB_PUSH_VAPID_PRIVATE_KEY", "")
# Whom a push service contacts about this server's pushes (the VAPID `sub` claim).
WEB_PUSH_CONTACT = os.environ.get("WEB_PUSH_CONTACT", "mailto:cencomm@localhost")
# Seconds one push may take before it is given up.
WEB_PUSH_TIMEOUT_SECONDS = float(os.environ.get("WEB_PUSH_TIMEOUT_SECONDS", "10"))
# The push services a subscription's endpoint may name (scheme://host[:port], `*` for
# any part): the server posts to nothing else, whatever a browser sends it.
WEB_PUSH_ALLOWED_ORIGINS = [
    origin.strip()
    for origin in os.environ.get(
        "WEB_PUSH_ALLOWED_ORIGINS",
        "https://fcm.googleapis.com,https://*.push.services.mozilla.com,"
        "https://*.notify.windows.com,https://*.push.apple.com",
    ).split(",")
    if origin.strip()
]
