"""Django settings for AdSpark.

Everything configurable is read from the environment (a ``.env`` file at the repository root is
honoured; real environment variables win) through :mod:`backend.env`, which fails loudly on bad
values. docs/configuration.md lists every variable read here.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from dotenv import load_dotenv

from .brokers import celery_broker_options, transports_register
from .env import (
    env_bool,
    env_choice,
    env_float,
    env_int,
    env_list,
    env_str,
    refuse_placeholder_secrets,
    refuse_superseded,
)

BASE_DIR = Path(__file__).resolve().parent.parent  # backend/
REPO_DIR = BASE_DIR.parent

load_dotenv(REPO_DIR / ".env", override=False)

# --- Core -----------------------------------------------------------------------------------
DEBUG = env_bool("DJANGO_DEBUG", False)
# A bare DEBUG (the seed's name) is not read; one that disagrees with DJANGO_DEBUG is refused.
_SEED_DEBUG = os.environ.get("DEBUG")
if _SEED_DEBUG is not None and (_SEED_DEBUG.strip().lower() in ("1", "true", "yes", "on")) != DEBUG:
    raise ImproperlyConfigured(
        f"DEBUG={_SEED_DEBUG!r} is not read by AdSpark: DJANGO_DEBUG wins "
        f"(it is {'true' if DEBUG else 'false'}). Set DJANGO_DEBUG instead and remove DEBUG."
    )
SECRET_KEY = env_str("DJANGO_SECRET_KEY") or ""
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is required when DJANGO_DEBUG is false. For local use put "
            "DJANGO_DEBUG=true in .env (`make setup` writes one)."
        )
    SECRET_KEY = "django-insecure-local-development-only"  # noqa: S105 - DEBUG only
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "django_celery_beat",
    "django_prometheus",
    "core",
    "accounts",
    "AdSpark",
    "ai_agent",
    "search",
    "boards",
]

MIDDLEWARE = [
    # First and last: request counts and latencies by view (django-prometheus).
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    # GET /metrics, answered before the host check (Prometheus scrapes pods by IP).
    "core.metrics.middleware.MetricsEndpointMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Inside everything but the metrics, so it sees every error a view or DRF answers.
    "core.middleware.APIJSONErrorMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "backend.urls"
WSGI_APPLICATION = "backend.wsgi.application"
ASGI_APPLICATION = "backend.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

# --- Database -------------------------------------------------------------------------------
# PostgreSQL in production (DATABASE_URL); a SQLite file when DATABASE_URL is unset. The seed's
# DB_HOST/DB_NAME/… would otherwise be ignored without a word (and SQLite used): refuse them.
refuse_superseded(
    ("DB_HOST", "DB_PORT", "DB_NAME", "DB_USER", "DB_PASSWORD"),
    winner="DATABASE_URL",
    hint="Put them into one URL: DATABASE_URL=postgres://USER:PASSWORD@HOST:PORT/NAME",
)
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL,
            conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0),
            conn_health_checks=True,
        )
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env_str("SQLITE_PATH") or str(BASE_DIR / "db.sqlite3"),
            # Workers and the web server write at once: WAL lets readers continue, IMMEDIATE
            # transactions queue writers instead of failing with "database is locked".
            "OPTIONS": {
                "timeout": 30,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis, cache ---------------------------------------------------------------------------
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL") or "redis://localhost:6379/0"
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND") or "redis://localhost:6379/1"
# Shared state that must hold across all workers (the SerpApi rate limit, throttles).
REDIS_URL = env_str("REDIS_URL") or "redis://localhost:6379/2"
# django-redis with IGNORE_EXCEPTIONS: when Redis is unreachable a cache read misses and a
# write is dropped instead of raising, so sign-in, registration and reads keep working (DRF's
# throttles then let requests through until Redis is back; each miss is logged). Timeouts of
# 1 s keep a blackholed Redis from holding requests.
CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "adspark",
        "OPTIONS": {
            "IGNORE_EXCEPTIONS": True,
            "SOCKET_CONNECT_TIMEOUT": 1,
            "SOCKET_TIMEOUT": 1,
        },
    }
}
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
# Prefetch 1: every queue here has long tasks, and a worker that reserves several holds them
# back from idle peers (and redelivers them all if it dies). Honoured from the environment for
# experiments; each worker reserves multiplier x concurrency messages.
CELERY_WORKER_PREFETCH_MULTIPLIER = env_int("CELERY_WORKER_PREFETCH_MULTIPLIER", 1, minimum=1)
# acks_late is what makes a killed worker's task come back (with task_reject_on_worker_lost);
# the exactly-once rules depend on it, so turning it off is refused rather than half-honoured.
if not env_bool("CELERY_TASK_ACKS_LATE", True):
    raise ImproperlyConfigured(
        "CELERY_TASK_ACKS_LATE=false is refused: AdSpark's jobs rely on late acknowledgement "
        "(a task whose worker dies is redelivered). Remove the variable; acks_late stays on."
    )
# Recycle prefork children now and then: Chromium and large JSON pages fragment memory.
CELERY_WORKER_MAX_TASKS_PER_CHILD = env_int("CELERY_WORKER_MAX_TASKS_PER_CHILD", 200, minimum=1)
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
# Brokers past one box (backend/brokers.py): rediss:// (TLS) and sentinel:// URLs.
_broker_options = celery_broker_options(
    broker_url=CELERY_BROKER_URL,
    result_backend=CELERY_RESULT_BACKEND,
    # Seconds a message may stay unacknowledged before Redis hands it to another worker. It must
    # exceed the longest hard time limit and retry countdown (see backend/celery.py), or a
    # running task is delivered twice. Tests lower it to prove redelivery after a SIGKILL.
    broker_transport_options={"visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 7200, minimum=1)},
    # A result backend that is down must not hang a task for long: give up after 5 s.
    result_backend_transport_options={"retry_policy": {"timeout": 5.0}},
    master_name=env_str("CELERY_SENTINEL_MASTER_NAME") or "mymaster",
    sentinel_password=env_str("CELERY_SENTINEL_PASSWORD") or "",
    ssl_cert_reqs=env_choice("CELERY_REDIS_SSL_CERT_REQS", "required", ("required", "optional", "none")),
    ssl_ca_certs=env_str("CELERY_REDIS_SSL_CA_CERTS") or "",
)
transports_register()  # our kombu Redis transports (one client per channel) for these schemes
CELERY_BROKER_TRANSPORT_OPTIONS = _broker_options["broker_transport_options"]
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = _broker_options["result_backend_transport_options"]
CELERY_BROKER_USE_SSL = _broker_options["broker_use_ssl"]
CELERY_REDIS_BACKEND_USE_SSL = _broker_options["redis_backend_use_ssl"]

# --- Metrics (core.metrics) -----------------------------------------------------------------
# Credentials for /metrics and the workers' metrics ports: a bearer token and/or user:password.
# Neither set: open when DEBUG, switched off (404) otherwise.
METRICS_TOKEN = env_str("METRICS_TOKEN") or ""
METRICS_BASIC_AUTH = env_str("METRICS_BASIC_AUTH") or ""
if METRICS_BASIC_AUTH and ":" not in METRICS_BASIC_AUTH:
    raise ImproperlyConfigured("METRICS_BASIC_AUTH must be user:password")
# Port on which each Celery worker serves its pool's task metrics (0: off). Prefork workers
# also need PROMETHEUS_MULTIPROC_DIR (an empty directory of their own).
WORKER_METRICS_PORT = env_int("CELERY_METRICS_PORT", 0, minimum=0)

# --- Auth, API ------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first so an anonymous write gets 401 with WWW-Authenticate, not 403.
        # knox's scheme without its per-request scan of the user's other tokens.
        "accounts.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": [
        # django-filter, strict: empty or malformed parameters are a 400 (core/filters.py).
        "core.filters.FilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    # JSON bodies nested deeper than core.parsers.MAX_JSON_DEPTH are a 400.
    # The API takes JSON only (form bodies are a 415): every client, the web app included,
    # sends JSON, and the schema documents one body type per operation.
    "DEFAULT_PARSER_CLASSES": ["core.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "core.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_RATES": {
        # Enqueue endpoints: each fetch can spend SerpApi searches.
        "fetch": env_str("ADSPARK_FETCH_THROTTLE") or "30/minute",
        "register": env_str("ADSPARK_REGISTER_THROTTLE") or "20/hour",
        # Each variant occupies the single ai_generation worker and may spend provider credit.
        "ai_variants": env_str("ADSPARK_AI_THROTTLE") or "10/minute",
        # Sign-in attempts (accounts/throttles.py). Per username: a person mistyping stays far
        # below 10 a minute, a guesser gets 14,400 a day at most. Per IP: higher, because the
        # web app's server signs everyone in from one address unless ADSPARK_NUM_PROXIES is set.
        "login_user": env_str("ADSPARK_LOGIN_USER_THROTTLE") or "10/minute",
        "login_ip": env_str("ADSPARK_LOGIN_IP_THROTTLE") or "60/minute",
    },
    # Reverse proxies in front of Django whose X-Forwarded-For is trusted for the client IP
    # (throttles); unset: the socket's address.
    "NUM_PROXIES": env_int("ADSPARK_NUM_PROXIES", 0, minimum=0) or None,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    # 503 JSON (not a 500 page) when Redis, the throttles' cache and the broker, is down;
    # error bodies always objects, messages bounded in length (no 2 MB value echoed back).
    "EXCEPTION_HANDLER": "core.exceptions.api_exception_handler",
}

# API tokens (django-rest-knox): stored as SHA-512 digests, sent as `Authorization: Token …`.
# 168 h = 7 days, the web app's sign-in cookie lifetime; 0 = never expire (not recommended).
TOKEN_TTL_HOURS = env_int("ADSPARK_TOKEN_TTL_HOURS", 168, minimum=0)
REST_KNOX = {
    "TOKEN_TTL": dt.timedelta(hours=TOKEN_TTL_HOURS) if TOKEN_TTL_HOURS else None,
    "AUTH_HEADER_PREFIX": "Token",
}
# Session sign-in (DRF's browsable API, /api/auth/session/login/) without ?next= lands here.
LOGIN_URL = "/api/auth/session/login/"
LOGIN_REDIRECT_URL = "/api/docs/"
LOGOUT_REDIRECT_URL = "/api/auth/session/login/"

SPECTACULAR_SETTINGS = {
    "TITLE": "AdSpark API",
    "DESCRIPTION": (
        "Ad-creative intelligence: creatives from the Google Ads Transparency Center (via "
        "SerpApi), watches, and AI variants. Slow work runs on Celery; enqueue endpoints "
        "answer 202 with a job and its status URL."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # The health answer's status is not a job status: name its enum (no collision warning).
    "ENUM_NAME_OVERRIDES": {
        "StatusEnum": "core.models.JobStatus",
        "HealthStatusEnum": ["ok", "degraded", "down"],
    },
    # Every operation documents the errors it can answer (400/401/403/404/413/415/429/503).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.schema.add_error_responses",
    ],
}

# --- SerpApi --------------------------------------------------------------------------------
SERPAPI_API_KEY = env_str("SERPAPI_API_KEY") or ""
SERPAPI_BASE_URL = (env_str("SERPAPI_BASE_URL") or "https://serpapi.com").rstrip("/")
# Seconds per HTTP request; SerpApi answers most Ads Transparency searches in 1-7 s
# (total_time_taken in the recordings), so 30 s leaves room for slow pages.
SERPAPI_TIMEOUT = env_float("SERPAPI_TIMEOUT", 30.0, minimum=0.1)
# Cluster-wide cap on SerpApi requests per rolling hour, held in Redis for all workers.
SERPAPI_RATE_LIMIT_PER_HOUR = env_int("SERPAPI_RATE_LIMIT_PER_HOUR", 1000, minimum=1)
# Pages followed per fetch (each page is one search), and searches one run may spend.
SERPAPI_MAX_PAGES = env_int("SERPAPI_MAX_PAGES", 5, minimum=1)
SERPAPI_MAX_SEARCHES_PER_RUN = env_int("SERPAPI_MAX_SEARCHES_PER_RUN", 20, minimum=1)
# Results per page: 100 is SerpApi's documented maximum and spends the fewest searches.
SERPAPI_PAGE_SIZE = env_int("SERPAPI_PAGE_SIZE", 100, minimum=1)

# Celery retry backoff for transient errors (seconds): base·2^n with full jitter, capped.
# 5 s first: SerpApi 429s clear within seconds; 10 min cap stays far below the visibility timeout.
RETRY_BACKOFF_BASE = env_float("ADSPARK_RETRY_BACKOFF_BASE", 5.0, minimum=0.0)
RETRY_BACKOFF_CAP = env_float("ADSPARK_RETRY_BACKOFF_CAP", 600.0, minimum=0.0)

# --- Job leases (core.jobs) ------------------------------------------------------------------
# A running job row is held by a lease the worker renews every JOB_HEARTBEAT_SECONDS; when the
# worker dies the lease lapses after JOB_LEASE_SECONDS and the stuck-run repair (every
# JOB_REPAIR_INTERVAL_SECONDS) hands the job to another worker: takeover within
# lease + interval (45 s by default; issue 14 asks for 60 s). A heartbeat is one UPDATE by
# primary key, so three renewals per lease keep a slow database or a long GC pause from
# losing it.
JOB_LEASE_SECONDS = env_int("JOB_LEASE_SECONDS", 30, minimum=2)
JOB_HEARTBEAT_SECONDS = env_float("JOB_HEARTBEAT_SECONDS", 10.0, minimum=0.1)
JOB_REPAIR_INTERVAL_SECONDS = env_int("JOB_REPAIR_INTERVAL_SECONDS", 15, minimum=1)
# A pending job whose message has waited this long (seconds) is published again: its message
# may have been lost (Redis flushed after commit). A duplicate is harmless (the lease).
JOB_PENDING_REPUBLISH_SECONDS = env_int("JOB_PENDING_REPUBLISH_SECONDS", 600, minimum=1)

# --- Watches ---------------------------------------------------------------------------------
# Watches with the same query share one SerpApi fetch made within this many seconds.
WATCH_FETCH_SHARE_SECONDS = env_int("WATCH_FETCH_SHARE_SECONDS", 600, minimum=0)
# Consecutive failed runs after which a watch is paused with the reason.
WATCH_MAX_CONSECUTIVE_FAILURES = env_int("WATCH_MAX_CONSECUTIVE_FAILURES", 5, minimum=1)
# Base URL of the API server, for the API links of webhook payloads.
ADSPARK_PUBLIC_URL = (env_str("ADSPARK_PUBLIC_URL") or "http://localhost:8000").rstrip("/")
# Base URL of the web app (frontend/): alert e-mails link to its pages (/watches/{id},
# /creatives?…) and shared boards are /shared/<token> there, never the raw API.
APP_BASE_URL = (env_str("APP_BASE_URL") or "http://localhost:3000").rstrip("/")

# --- Outbound URL safety (SSRF) -------------------------------------------------------------
URL_ALLOW_LOOPBACK = env_bool("ADSPARK_ALLOW_LOOPBACK_URLS", False)
URL_ALLOW_PRIVATE = env_bool("ADSPARK_ALLOW_PRIVATE_URLS", False)

# --- AI generation (ai_agent: variants, providers, screenshots) ------------------------------
# Provider used when a request names none: "template" needs no key and no network (offline
# default); "dify" and "openai" call the configured endpoints.
AI_PROVIDER = env_choice("AI_PROVIDER", "template", ("dify", "openai", "template"))
# Longest prompt accepted by POST /api/ai/variants/ (characters).
AI_PROMPT_MAX_LENGTH = env_int("AI_PROMPT_MAX_LENGTH", 1000, minimum=1)
# Largest provider image the worker downloads and stores (bytes).
AI_IMAGE_MAX_BYTES = env_int("AI_IMAGE_MAX_BYTES", 20 * 1024 * 1024, minimum=1024)
DIFY_API_KEY = env_str("DIFY_API_KEY") or ""
DIFY_BASE_URL = (env_str("DIFY_BASE_URL") or "https://api.dify.ai/v1").rstrip("/")
# "streaming" reports node progress as the workflow runs; "blocking" waits for the result.
DIFY_RESPONSE_MODE = env_choice("DIFY_RESPONSE_MODE", "streaming", ("blocking", "streaming"))
# Names of the workflow's Start-node input variables and End-node output variables.
DIFY_INPUT_PROMPT = env_str("DIFY_INPUT_PROMPT") or "prompt"
DIFY_INPUT_IMAGE = env_str("DIFY_INPUT_IMAGE") or "ad_image"
DIFY_INPUT_COPY = env_str("DIFY_INPUT_COPY") or "ad_copy"
DIFY_OUTPUT_HEADLINE = env_str("DIFY_OUTPUT_HEADLINE") or "headline"
DIFY_OUTPUT_TEXT = env_str("DIFY_OUTPUT_TEXT") or "text"
DIFY_OUTPUT_IMAGE = env_str("DIFY_OUTPUT_IMAGE") or "image"
# Seconds per HTTP request; a blocking workflow run with an image node takes up to ~2 min.
DIFY_TIMEOUT = env_float("DIFY_TIMEOUT", 150.0, minimum=0.1)
OPENAI_API_KEY = env_str("OPENAI_API_KEY") or ""
OPENAI_BASE_URL = (env_str("OPENAI_BASE_URL") or "https://api.openai.com/v1").rstrip("/")
OPENAI_CHAT_MODEL = env_str("OPENAI_CHAT_MODEL") or "gpt-4o-mini"
OPENAI_IMAGE_MODEL = env_str("OPENAI_IMAGE_MODEL") or "dall-e-3"
OPENAI_IMAGE_SIZE = env_str("OPENAI_IMAGE_SIZE") or "1024x1024"
OPENAI_TIMEOUT = env_float("OPENAI_TIMEOUT", 120.0, minimum=0.1)
# Browser binary; empty = Playwright's own Chromium if installed, else the system chromium.
CHROMIUM_PATH = env_str("CHROMIUM_PATH") or ""
# Chromium's sandbox: "auto" keeps it where it can run (not as root, user namespaces allowed)
# and falls back with a warning; "true" refuses to render without it; "false" turns it off.
CHROMIUM_SANDBOX = env_choice("CHROMIUM_SANDBOX", "auto", ("auto", "true", "false"))
# Seconds one screenshot may take (navigation, scripts, capture); previews load a script, an
# iframe and images, which take 1-3 s on a normal line.
SCREENSHOT_TIMEOUT = env_float("SCREENSHOT_TIMEOUT", 20.0, minimum=0.5)
# Bytes one shot may download in total (page, scripts, images): display ads stay far below
# Google's 150 KB initial-load limit; 10 MB leaves room for big images and refuses abuse.
SCREENSHOT_MAX_BYTES = env_int("SCREENSHOT_MAX_BYTES", 10 * 1024 * 1024, minimum=1024)
# Largest screenshot (CSS pixels); 2000 covers every standard ad size incl. 1080x1080.
SCREENSHOT_MAX_WIDTH = env_int("SCREENSHOT_MAX_WIDTH", 2000, minimum=16)
SCREENSHOT_MAX_HEIGHT = env_int("SCREENSHOT_MAX_HEIGHT", 2000, minimum=16)
# Shots rendered at once by one worker process's browser (bench/screenshots.py).
SCREENSHOT_CONCURRENCY = env_int("SCREENSHOT_CONCURRENCY", 2, minimum=1)

# --- Files, static, i18n --------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = env_str("STATIC_ROOT") or str(REPO_DIR / "var" / "static")
MEDIA_URL = "media/"
MEDIA_ROOT = env_str("MEDIA_ROOT") or str(REPO_DIR / "var" / "media")
# Where uploaded and archived files live (django-storages): "filesystem" = MEDIA_ROOT, served at
# MEDIA_URL by Django when MEDIA_SERVE (DEBUG by default) or by the reverse proxy; "s3" = an
# S3-compatible bucket (AWS, MinIO, R2 …), whose URLs point at the bucket.
MEDIA_STORAGE = env_choice("MEDIA_STORAGE", "filesystem", ("filesystem", "s3"))
MEDIA_SERVE = env_bool("MEDIA_SERVE", DEBUG) and MEDIA_STORAGE == "filesystem"
if MEDIA_STORAGE == "s3":
    _media_storage: dict[str, object] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env_str("AWS_STORAGE_BUCKET_NAME") or "",
            "endpoint_url": env_str("AWS_S3_ENDPOINT_URL") or None,
            "region_name": env_str("AWS_S3_REGION_NAME") or None,
            "access_key": env_str("AWS_ACCESS_KEY_ID") or None,
            "secret_key": env_str("AWS_SECRET_ACCESS_KEY") or None,
            "custom_domain": env_str("AWS_S3_CUSTOM_DOMAIN") or None,
            "location": env_str("AWS_LOCATION") or "",
            # Signed, expiring URLs unless the bucket (or its custom domain) is public.
            "querystring_auth": env_bool("AWS_QUERYSTRING_AUTH", True),
            "querystring_expire": env_int("AWS_QUERYSTRING_EXPIRE", 3600, minimum=60),
            "file_overwrite": True,
        },
    }
    if not _media_storage["OPTIONS"]["bucket_name"]:  # type: ignore[index]
        raise ImproperlyConfigured("MEDIA_STORAGE=s3 needs AWS_STORAGE_BUCKET_NAME.")
else:
    _media_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": _media_storage,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- Creative archive (AdSpark.archive) ---------------------------------------------------------
# Capture new creatives (full PNG, WebP thumbnail, perceptual hash) on the ai_generation queue.
ARCHIVE_ENABLED = env_bool("ARCHIVE_ENABLED", True)
# New creatives of one fetch run captured right away; the rest wait for the backlog task.
ARCHIVE_PER_RUN_CAP = env_int("ARCHIVE_PER_RUN_CAP", 50, minimum=0)
# Never-archived creatives the backlog task (every 10 min) queues per tick.
ARCHIVE_BACKLOG_BATCH = env_int("ARCHIVE_BACKLOG_BATCH", 100, minimum=0)
# Largest image download (bytes) and the seconds one download may take.
ARCHIVE_MAX_BYTES = env_int("ARCHIVE_MAX_BYTES", 10 * 1024 * 1024, minimum=1024)
ARCHIVE_TIMEOUT = env_float("ARCHIVE_TIMEOUT", 20.0, minimum=0.5)
# Largest image accepted (pixels, width x height): refuses decompression bombs.
ARCHIVE_MAX_PIXELS = env_int("ARCHIVE_MAX_PIXELS", 16_000_000, minimum=1024)
# A pending capture whose message waited this long (seconds) is queued again by the backlog.
ARCHIVE_REQUEUE_SECONDS = env_int("ARCHIVE_REQUEUE_SECONDS", 3600, minimum=60)
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

EMAIL_BACKEND = env_str("EMAIL_BACKEND") or "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL") or "adspark@localhost"

LOG_LEVEL = env_choice("LOG_LEVEL", "info", ("debug", "info", "warning", "error")).upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    # Credentials are masked in every line (core.redaction); Celery's own handlers get the
    # same filter in backend/celery.py.
    "filters": {"redact": {"()": "core.redaction.RedactingFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

# --- Production: HTTPS and no placeholder secrets -------------------------------------------
if not DEBUG:
    # Every variable (secrets of Django, PostgreSQL, Redis, Flower, metrics, SerpApi, AI keys).
    refuse_placeholder_secrets()
    SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
    SECURE_CONTENT_TYPE_NOSNIFF = True
    # Django runs behind a TLS-terminating reverse proxy that sets (and overwrites any client
    # value of) X-Forwarded-Proto; plain-HTTP requests from outside are redirected to HTTPS.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    # Container healthchecks and load balancers probe over plain HTTP inside the network.
    SECURE_REDIRECT_EXEMPT = [r"^api/health/$"]
    # One year, the HSTS preload list's minimum; 0 turns HSTS off (e.g. while trying out TLS).
    SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 31_536_000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", True)
    # The preload directive lets anyone submit the domain to browsers' built-in HSTS lists, a
    # commitment only the domain's owner should make: off unless asked for.
    SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", False)
    if not SECURE_HSTS_PRELOAD:
        SILENCED_SYSTEM_CHECKS = ["security.W021"]
