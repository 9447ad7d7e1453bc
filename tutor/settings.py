"""Settings for the tutor, all read from the environment.

Embedded defaults (SQLite, in-memory channel layer, eager Celery, the packaged CPU model) make one machine work with
no setup; production sets ``DATABASE_URL``, ``REDIS_URL`` and a vLLM server through ``TUTOR_LLM_*``.
See docs/operations.md for every variable.
"""

from __future__ import annotations

import os
import re
import secrets
import sys
from pathlib import Path

import dj_database_url
import django_stubs_ext
from django.core.exceptions import ImproperlyConfigured

# Lets forms, admins and querysets be subscripted (ModelAdmin[Skill]) at run time, as the type checker wants.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("TUTOR_VAR_DIR", BASE_DIR / "var"))


def envbool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), got {value!r}")


def envint(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}") from exc


def envlist(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


# The test runner and the type checker (which loads settings through django-stubs) count as local development.
RUNNING_TESTS = "pytest" in sys.modules
LOCAL_TOOLING = RUNNING_TESTS or "mypy" in sys.modules
DEBUG = envbool("DEBUG", default=False)


def _local_secret_key() -> str:
    """A key generated once per checkout and kept in var/, so local log-ins survive a restart."""
    path = VAR_DIR / "secret_key"
    if path.exists():
        return path.read_text().strip()
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    path.write_text(key)
    path.chmod(0o600)
    return key


SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not (DEBUG or LOCAL_TOOLING):
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off (see docs/operations.md)")
    SECRET_KEY = _local_secret_key()

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG or RUNNING_TESTS else [])
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    # daphne first: its runserver serves HTTP and websockets from one process.
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "django_htmx",
    "knowledge_graph",
    "tutor",
]

MIDDLEWARE: list[str] = [
    "django.middleware.security.SecurityMiddleware",
    "tutor.middleware.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

if not (DEBUG or RUNNING_TESTS):
    # In production WhiteNoise serves the collected static files; runserver and test servers serve them themselves.
    MIDDLEWARE.insert(2, "whitenoise.middleware.WhiteNoiseMiddleware")

ROOT_URLCONF = "tutor.urls"
ASGI_APPLICATION = "tutor.asgi.application"
WSGI_APPLICATION = "tutor.wsgi.application"
AUTH_USER_MODEL = "tutor.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

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

# Lower case: not a setting, so the URL (with its password) never shows on a debug page.
_database_url = os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}")
# Opening a PostgreSQL connection costs network and authentication round trips; with no reuse every ORM call of a
# turn paid them again. Under ASGI, Django runs each request on a thread of its own, so a connection kept per thread
# (CONN_MAX_AGE) is left open behind every request; a pool shared by the process's threads is the way to reuse them
# (psycopg's pool, through Django's "pool" option): connections are borrowed for a request or a websocket call and
# given back after it. DB_POOL_MAX_SIZE=0 turns the pool off (then DB_CONN_MAX_AGE applies, for WSGI servers or an
# external pooler). Health checks replace a kept connection that the server dropped while idle. A SQLite connection
# is a local file open: nothing to save.
DATABASES = {
    "default": dj_database_url.parse(_database_url, conn_health_checks=envbool("DB_CONN_HEALTH_CHECKS", default=True))
}
_on_postgresql = DATABASES["default"]["ENGINE"].startswith(
    ("django.db.backends.postgresql", "django.contrib.gis.db.backends.postgis")
)
_pool_max_size = envint("DB_POOL_MAX_SIZE", 20) if _on_postgresql else 0
DATABASES["default"]["CONN_MAX_AGE"] = 0 if _pool_max_size else envint("DB_CONN_MAX_AGE", 0)
if _pool_max_size:
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": min(_pool_max_size, envint("DB_POOL_MIN_SIZE", 2)),
        "max_size": _pool_max_size,
        # A request that finds every connection busy waits this long, then fails rather than hang.
        "timeout": envint("DB_POOL_TIMEOUT", 10),
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    # A file, not memory, so a test server in another process (browser tests over websockets) sees the same data.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
# The tutoring websocket's database calls run on a pool of this many threads per server process (tutor/db_threads.py),
# each borrowing a connection from the pool above while it runs a call, so fewer threads than pooled connections
# (HTTP requests borrow from the same pool). SQLite takes one writer at a time: one thread there, as before.
TUTOR_DB_THREADS = envint("TUTOR_DB_THREADS", 8 if _on_postgresql else 1)
if _pool_max_size and _pool_max_size <= TUTOR_DB_THREADS:
    raise ImproperlyConfigured(
        f"TUTOR_DB_THREADS ({TUTOR_DB_THREADS}) must be below DB_POOL_MAX_SIZE ({_pool_max_size}): HTTP requests "
        "borrow connections from the same pool"
    )
# Each reply holds its session's locks on a PostgreSQL connection (tutor/reply_locks.py); up to this many per server
# process, kept open between replies (one opened ahead per student page connected), so a class's burst of messages
# does not make the server start a process per message: a burst of 50 on 16 kept connections opened 34 in the burst,
# and each of those messages reached the model later than the rest. Past this many replies at once (or past the
# server's max_connections), replies share them. Count them with the pool above against max_connections.
TUTOR_REPLY_LOCK_CONNECTIONS = envint("TUTOR_REPLY_LOCK_CONNECTIONS", 64 if _on_postgresql else 0)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis, when configured, carries the channel layer, the cache (rate limits) and Celery.
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    from redis import DriverInfo

    # redis-py looks its own version up in the installed packages' metadata for every connection it opens (several
    # milliseconds of CPU each, and a class's burst opens them by the dozen: each thread has its own cache client).
    # Looked up once here instead; the client still names itself to the server as it would.
    _redis_driver = DriverInfo()
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [
                    {
                        "address": REDIS_URL,
                        # Each socket waits on Redis in blocking reads of 5 s (channels-redis's receive wait). The
                        # client's read timeout must be well above that, or every idle socket is torn down with a
                        # 1011 close (redis-py's own default equals that wait).
                        "socket_timeout": 30,
                        # A Redis that is down still fails fast.
                        "socket_connect_timeout": 5,
                        # Every socket's group messages go through this pool; redis-py's default of 100 connections
                        # refuses sends ("Too many connections") once a class's replies stream at the same time.
                        "max_connections": envint("CHANNELS_REDIS_MAX_CONNECTIONS", 1000),
                        "driver_info": _redis_driver,
                    }
                ],
                "prefix": os.environ.get("CHANNELS_PREFIX", "tutor"),
                # Every socket of a server process receives through one queue of that process, and past this many
                # waiting messages channels-redis drops new ones without a word. A streamed reply is a couple of
                # dozen messages, so leave room for every socket of a busy process at once (200 replies streaming
                # together are about 4,400); messages are small and expire (below), so the room costs little.
                "capacity": envint("CHANNELS_CAPACITY", 20000),
                # Undelivered messages older than this are dropped; a reconnecting tab reloads its turns from the
                # database instead.
                "expiry": 60,
            },
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("CACHE_PREFIX", "tutor"),
            "OPTIONS": {"driver_info": _redis_driver},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
# With no Redis there is no worker: tasks run inline, so the embedded setup needs no extra process.
CELERY_TASK_ALWAYS_EAGER = envbool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SOFT_TIME_LIMIT = envint("CELERY_TASK_SOFT_TIME_LIMIT", 300)
CELERY_TASK_TIME_LIMIT = envint("CELERY_TASK_TIME_LIMIT", 360)
# Redis hands an unacknowledged task (its worker died) to another worker after this many seconds: just past the hard
# time limit, so a task still running is never handed out twice, and a dead worker's import is failed within minutes.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_TASK_TIME_LIMIT + 60}
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_SCHEDULE = {
    "refit-mastery-parameters": {"task": "knowledge_graph.tasks.refit_parameters", "schedule": 6 * 60 * 60},
}
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]

# The tutor language model (docs/serving.md). Backends: local (transformers, the packaged SmolLM2 by default),
# openai (an OpenAI-compatible server such as vLLM), none (template realization only), or auto: openai when
# TUTOR_LLM_URL is set, local on a CUDA GPU, none otherwise (on a CPU the small model is slow and rarely passes
# the guard, so it runs only when asked for by name).
TUTOR_LLM_BACKEND = os.environ.get("TUTOR_LLM_BACKEND", "auto").strip().lower() or "auto"
TUTOR_LLM_URL = os.environ.get("TUTOR_LLM_URL", "")
TUTOR_LLM_MODEL = os.environ.get("TUTOR_LLM_MODEL", "")
TUTOR_LLM_API_KEY = os.environ.get("TUTOR_LLM_API_KEY", "")


def envseconds(name: str, default: float) -> float:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        seconds = float(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a number of seconds, got {value!r}") from exc
    if not seconds > 0:
        raise ImproperlyConfigured(f"{name} must be more than 0 seconds, got {value!r}")
    return seconds


# Seconds to connect to the model server, and to wait for each next piece of its stream.
TUTOR_LLM_CONNECT_TIMEOUT = envseconds("TUTOR_LLM_CONNECT_TIMEOUT", 3.0)
TUTOR_LLM_READ_TIMEOUT = envseconds("TUTOR_LLM_READ_TIMEOUT", 20.0)
# paraphrase (small models restate the planner's template) or plan (fine-tuned models realize the plan);
# empty picks by the backend in use (after auto): paraphrase for local and none, plan for openai.
TUTOR_LLM_PROMPT_MODE = os.environ.get("TUTOR_LLM_PROMPT_MODE", "")
if TUTOR_LLM_PROMPT_MODE not in {"", "paraphrase", "plan"}:
    raise ImproperlyConfigured(f"TUTOR_LLM_PROMPT_MODE must be paraphrase or plan, got {TUTOR_LLM_PROMPT_MODE!r}")
if TUTOR_LLM_BACKEND not in {"auto", "local", "openai", "none"}:
    raise ImproperlyConfigured(
        f"TUTOR_LLM_BACKEND must be local, openai or none, or auto to choose by what is available; "
        f"got {TUTOR_LLM_BACKEND!r}"
    )

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if RUNNING_TESTS:
    # Hashing cost is a security property of production, not something tests need to pay for.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_SECURE = envbool("SECURE_COOKIES", default=not DEBUG and not RUNNING_TESTS)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE


def envheader(name: str) -> tuple[str, str] | None:
    """A request header and the value that marks HTTPS, from ``Header-Name`` (value ``https``) or ``Name: value``."""
    value = os.environ.get(name, "").strip()
    if not value:
        return None
    header, _, expected = value.partition(":")
    header, expected = header.strip(), expected.strip() or "https"
    if not re.fullmatch(r"[A-Za-z0-9-]+", header):
        raise ImproperlyConfigured(f"{name} must be a header name such as X-Forwarded-Proto, got {value!r}")
    return "HTTP_" + header.upper().replace("-", "_"), expected


# HTTPS. Behind a proxy that terminates TLS the app sees plain HTTP, unless the proxy names the original scheme in a
# header it always overwrites (SECURE_PROXY_SSL_HEADER); trusting such a header by default would let clients claim
# HTTPS, so there is none by default. Redirecting HTTP to HTTPS without knowing which requests were HTTPS would loop,
# so the redirect is on by default only once that header is set. HSTS is sent on HTTPS responses only, and the
# cookies already need HTTPS, so it is on by default for this host; whether it may cover subdomains or go on the
# browsers' preload list depends on the rest of the domain, which only the operator knows.
SECURE_PROXY_SSL_HEADER = envheader("SECURE_PROXY_SSL_HEADER")
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", default=not DEBUG and SECURE_PROXY_SSL_HEADER is not None)
# Load balancers check health over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", default=False)

# Request bodies. tutor.middleware.RequestBodyLimit refuses a larger body with 413 before reading any of it; only an
# admin's problem-set upload may be larger (tutor/content/safety.py MAX_UPLOAD_BYTES, plus this much for the rest of
# its form). Django's own parser then keeps form fields to the same size, and spools files and bodies over 1 MiB to
# disk instead of memory.
REQUEST_BODY_MAX_BYTES = envint("REQUEST_BODY_MAX_BYTES", 1_048_576)
if REQUEST_BODY_MAX_BYTES < 1:
    raise ImproperlyConfigured(f"REQUEST_BODY_MAX_BYTES must be at least 1, got {REQUEST_BODY_MAX_BYTES}")
DATA_UPLOAD_MAX_MEMORY_SIZE = envint("DATA_UPLOAD_MAX_MEMORY_SIZE", REQUEST_BODY_MAX_BYTES)
FILE_UPLOAD_MAX_MEMORY_SIZE = 1_048_576

# Abuse limits. Sign-ups per client address per window.
AUTH_RATE_LIMIT = envint("AUTH_RATE_LIMIT", 20)
AUTH_RATE_WINDOW_SECONDS = envint("AUTH_RATE_WINDOW_SECONDS", 300)
# Failed log-ins (the app's and the admin's together) per username and per client address per window. Successful
# log-ins never count, and a whole class shares its school's address, so the address limit is the higher one.
LOGIN_FAILURES_PER_USERNAME = envint("LOGIN_FAILURES_PER_USERNAME", 10)
LOGIN_FAILURES_PER_ADDRESS = envint("LOGIN_FAILURES_PER_ADDRESS", 100)
LOGIN_FAILURE_WINDOW_SECONDS = envint("LOGIN_FAILURE_WINDOW_SECONDS", 900)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}

# -- LTI 1.3 (launches from Canvas, Moodle; see docs/operations.md "LTI 1.3") -----------------------------------------
# The tutor's own RSA private key (PEM), which signs deep-linking responses and grade-service token requests; its
# public half is served at /lti/jwks/. Either the PEM itself or a file path; with neither, LTI launches are refused.
LTI_PRIVATE_KEY = os.environ.get("LTI_PRIVATE_KEY", "")
LTI_PRIVATE_KEY_FILE = os.environ.get("LTI_PRIVATE_KEY_FILE", "")
# Seconds a launch's state and nonce stay valid between the OIDC log-in and the launch itself.
LTI_LAUNCH_DATA_LIFETIME_SECONDS = envint("LTI_LAUNCH_DATA_LIFETIME_SECONDS", 600)
# A platform that shows the tutor inside an iframe sends the session cookie cross-site: browsers then need
# SameSite=None, which they accept only on Secure (HTTPS) cookies. Leave off when links open in a new window.
LTI_CROSS_SITE_COOKIES = envbool("LTI_CROSS_SITE_COOKIES", default=False)
if LTI_CROSS_SITE_COOKIES:
    if not SESSION_COOKIE_SECURE and not DEBUG:
        raise ImproperlyConfigured(
            "LTI_CROSS_SITE_COOKIES needs SECURE_COOKIES on (SameSite=None cookies must be Secure)"
        )
    SESSION_COOKIE_SAMESITE = "None"
    CSRF_COOKIE_SAMESITE = "None"
