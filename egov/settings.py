"""Settings for egov-assess, read from the environment (see README: 設定 / Configuration)."""

from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from egov.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DJANGO_DEBUG", True)

_INSECURE_KEY = "django-insecure-egov-assess-development-only"
SECRET_KEY = env_str("DJANGO_SECRET_KEY", _INSECURE_KEY if DEBUG else None)
if not DEBUG and (SECRET_KEY == _INSECURE_KEY or len(SECRET_KEY) < 50):
    raise ImproperlyConfigured(
        "DJANGO_DEBUG がオフのときは 50 文字以上の DJANGO_SECRET_KEY が必要です "
        "/ DJANGO_SECRET_KEY must be a unique value of at least 50 characters when DEBUG is off."
    )

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "import_export",
    "django_tasks_db",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "axes",
    "health_check",
    "assessments",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Before anything may read the body: an oversized upload is refused before it is spooled.
    "assessments.middleware.RequestSizeLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "assessments.middleware.AbsoluteSessionTimeoutMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "assessments.middleware.NoStoreForAuthenticatedMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "assessments.middleware.RequireMFAMiddleware",
    # Last, so that it sees the response of a locked-out login (django-axes' own advice).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "egov.urls"
WSGI_APPLICATION = "egov.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Database: SQLite file by default, anything dj-database-url understands through DATABASE_URL.
_database_url = env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
try:
    DATABASES = {"default": dj_database_url.parse(_database_url, conn_max_age=60)}
except ValueError as exc:
    raise ImproperlyConfigured(
        f"DATABASE_URL を解釈できません / DATABASE_URL is invalid: {exc}"
    ) from exc
# A connection the server closed is noticed before a request uses it, not by failing that request.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["TEST"] = {"NAME": ":memory:"}
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # The planner's cost of a random page read, for SSD storage (PostgreSQL's default, 4, is for
    # spinning disks). With 4 it reads every answer of every year to score one fiscal year, so a
    # dashboard slows with each year of history; with 1.1 it takes the answers of the year's
    # assessments through their index (bench/dashboards.py --years). Set in postgresql.conf
    # instead and EGOV_PG_RANDOM_PAGE_COST to "" to leave the server's value.
    _random_page_cost = env_str("EGOV_PG_RANDOM_PAGE_COST", "1.1")
    if _random_page_cost:
        DATABASES["default"].setdefault("OPTIONS", {})["options"] = (
            f"-c random_page_cost={float(_random_page_cost)}"
        )

AUTH_USER_MODEL = "assessments.User"
AUTHENTICATION_BACKENDS = [
    # First: a locked-out account or address is refused before any password is hashed.
    "axes.backends.AxesStandaloneBackend",
    "assessments.auth_backends.DemoAwareModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Accounts (django-allauth): nobody signs up; accounts are invited (assessments/accounts/).
ACCOUNT_ADAPTER = "assessments.accounts.adapters.AccountAdapter"
SOCIALACCOUNT_ADAPTER = "assessments.accounts.adapters.SocialAccountAdapter"
ACCOUNT_LOGIN_METHODS = {"username"}
ACCOUNT_FORMS = {"login": "assessments.forms.LoginForm"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "email*", "password1*"]
ACCOUNT_EMAIL_VERIFICATION = "none"  # the invitation itself proves the address
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = False
ACCOUNT_SESSION_REMEMBER = False
# django-axes counts failed logins; allauth's own per-IP counter would only duplicate it.
ACCOUNT_RATE_LIMITS = {"login_failed": False}
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[egov-assess] "
ACCOUNT_EMAIL_UNKNOWN_ACCOUNTS = False  # no mail to addresses without an account
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "http" if DEBUG else "https"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "egov-assess"
# Reviewers and national administrators must have a second factor (off in the demo).
REQUIRE_MFA = env_bool("EGOV_REQUIRE_MFA", not DEBUG)
# Invitation links work once, for this many hours.
INVITATION_VALID_HOURS = env_int("EGOV_INVITATION_VALID_HOURS", 72, minimum=1)

# Single sign-on (optional): OpenID Connect, matched to invited accounts by verified e-mail.
OIDC_ISSUER = env_str("EGOV_OIDC_ISSUER", "")
OIDC_EMAIL_CLAIM = env_str("EGOV_OIDC_EMAIL_CLAIM", "email")
SOCIALACCOUNT_PROVIDERS = {
    "openid_connect": {
        "APPS": (
            [
                {
                    "provider_id": "egov-oidc",
                    "name": env_str("EGOV_OIDC_NAME", "SSO"),
                    "client_id": env_str("EGOV_OIDC_CLIENT_ID"),
                    "secret": env_str("EGOV_OIDC_CLIENT_SECRET"),
                    "settings": {"server_url": OIDC_ISSUER, "oauth_pkce_enabled": True},
                }
            ]
            if OIDC_ISSUER
            else []
        ),
    }
}
SOCIALACCOUNT_AUTO_SIGNUP = False
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False  # matching is ours: see SocialAccountAdapter
SOCIALACCOUNT_ONLY = False

# Login throttling (django-axes): per account and per address, then a cool-off.
AXES_FAILURE_LIMIT = env_int("EGOV_LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = env_int("EGOV_LOGIN_COOLOFF_MINUTES", 30, minimum=1) / 60  # hours
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "assessments.accounts.lockout.lockout_response"
AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]
AXES_ENABLE_ACCESS_FAILURE_LOG = False
AXES_VERBOSE = False

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Sessions: 30 minutes idle, 12 hours absolute (ASVS L2).
SESSION_COOKIE_AGE = env_int("EGOV_SESSION_IDLE_SECONDS", 30 * 60, minimum=60)
# The idle expiry slides, written at most once a minute (AbsoluteSessionTimeoutMiddleware), not
# on every request.
SESSION_SAVE_EVERY_REQUEST = False
SESSION_REFRESH_SECONDS = 60
SESSION_ABSOLUTE_SECONDS = env_int("EGOV_SESSION_ABSOLUTE_SECONDS", 12 * 60 * 60, minimum=60)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", False)
# Behind a TLS-terminating reverse proxy that sets X-Forwarded-Proto (deploy/nginx.conf.example);
# only turn this on when the proxy always overwrites that header.
# The probes answer on plain HTTP too: a load balancer checks the app server directly.
SECURE_REDIRECT_EXEMPT = [r"^healthz/$", r"^readyz/$"]
if env_bool("DJANGO_SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Everything is served by the app itself: no CDN may be reachable from a closed network.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}

LANGUAGE_CODE = "ja"
LANGUAGES = [("ja", "日本語"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Tokyo"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    # Installed from the npm registry by scripts/bootstrap (package.json), never committed.
    ("vendor/bootstrap", BASE_DIR / "node_modules" / "bootstrap" / "dist"),
]
# Production serves hashed, compressed files from the manifest that collectstatic writes; the setup
# (scripts/bootstrap) always builds it with EGOV_STATIC_MANIFEST=1, whatever DJANGO_DEBUG says, so
# switching DEBUG off never meets a missing manifest.
STATIC_MANIFEST = env_bool("EGOV_STATIC_MANIFEST", not DEBUG)
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if STATIC_MANIFEST
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
MEDIA_ROOT = Path(env_str("EGOV_MEDIA_ROOT", str(BASE_DIR / "media")))
MEDIA_URL = "media/"  # never served directly: evidence files go through an access-checked view

# Evidence uploads.
EVIDENCE_MAX_BYTES = env_int("EGOV_EVIDENCE_MAX_BYTES", 10 * 1024 * 1024, minimum=1024)
# Largest questionnaire upload accepted (the XLSX is also capped when unpacked).
QUESTIONNAIRE_MAX_BYTES = env_int("EGOV_QUESTIONNAIRE_MAX_BYTES", 2 * 1024 * 1024, minimum=1024)
# The whole request body (every file and field of one POST), checked against Content-Length before
# Django reads or spools anything (assessments.middleware.RequestSizeLimitMiddleware); the largest
# single upload is an evidence file, a questionnaire or an account/registry import (10 MiB,
# assessments.spreadsheets.XLSX_MAX_BYTES), plus room for the form's other fields.
# deploy/nginx.conf.example caps the body at the same size (client_max_body_size 11m).
MAX_REQUEST_BYTES = env_int(
    "EGOV_MAX_REQUEST_BYTES",
    max(EVIDENCE_MAX_BYTES, QUESTIONNAIRE_MAX_BYTES, 10 * 1024 * 1024) + 1024 * 1024,
    minimum=64 * 1024,
)
# Evidence files one body may keep in total (0: no quota).
EVIDENCE_QUOTA_BYTES = env_int("EGOV_EVIDENCE_QUOTA_BYTES", 500 * 1024 * 1024, minimum=0)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

IMPORT_EXPORT_USE_TRANSACTIONS = True
IMPORT_EXPORT_SKIP_ADMIN_LOG = False
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "change"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "view"
# Every exported text cell is escaped by assessments.spreadsheets.neutralize instead.
IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT = False

# Queues (assessments/tasks.py): "reports" for PDF rendering, "mail" for e-mail, each with its
# own worker in production (deploy/egov-assess-worker*.service).
TASK_QUEUES = ["default", "reports", "mail"]
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": TASK_QUEUES}}
# A task RUNNING for longer than this belongs to a dead worker: /readyz/ reports it (503). Longer
# than the longest batch (EGOV_REPORT_RENDER_TIME_LIMIT per report, reports rendered in turn).
TASK_STALE_SECONDS = env_int("EGOV_TASK_STALE_SECONDS", 6 * 60 * 60, minimum=60)

# Reports (assessments/reports.py, batch.py, questionnaire.py). Rendered PDFs are kept on disk,
# keyed by the assessment's state, so a repeated download and the batch ZIP do not render again.
# The default cache is shared by every process and node: the database's cache table (made by
# every `migrate`, assessments.apps), or Redis when REDIS_URL is set (redis://host:6379/0).
REDIS_URL = env_str("REDIS_URL", "")
CACHES: dict[str, dict[str, Any]] = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "egov_cache"}
    ),
    "reports": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        # Outside MEDIA_ROOT (caches.W002): a cache is not user data, and nothing that cleans or
        # serves media files may touch it.
        "LOCATION": env_str("EGOV_REPORT_CACHE_DIR", str(BASE_DIR / "var" / "cache" / "reports")),
        "TIMEOUT": None,
        "OPTIONS": {"MAX_ENTRIES": env_int("EGOV_REPORT_CACHE_ENTRIES", 5000, minimum=10)},
    },
}
# Render an assessment's PDF in the worker as soon as it is submitted or approved, so that its
# download is served from the cache.
REPORT_PRERENDER = env_bool("EGOV_REPORT_PRERENDER", True)
# A batch worker gives up on one report after this many seconds (untrusted text can be slow).
REPORT_RENDER_TIME_LIMIT = env_int("EGOV_REPORT_RENDER_TIME_LIMIT", 120, minimum=5)
# …and on memory beyond this many MiB of address space (0: no limit).
REPORT_RENDER_MEMORY_MB = env_int("EGOV_REPORT_RENDER_MEMORY_MB", 2048, minimum=0)
# Where finished batch ZIPs are written (downloaded through an access-checked view only).
REPORT_BATCH_DIR = Path(env_str("EGOV_REPORT_BATCH_DIR", str(MEDIA_ROOT / "report-batches")))

# Files every node must see: evidence ("default"), finished batch ZIPs ("reports") and, with S3,
# the PDF cache. The local filesystem by default; S3-compatible object storage (AWS S3, MinIO,
# …) through django-storages when EGOV_S3_BUCKET is set. A batch's work folder (the PDFs of a
# running batch) stays on the worker's disk.
STORAGES["reports"] = {
    "BACKEND": "django.core.files.storage.FileSystemStorage",
    "OPTIONS": {"location": str(REPORT_BATCH_DIR), "allow_overwrite": True},
}
S3_BUCKET = env_str("EGOV_S3_BUCKET", "")
if S3_BUCKET:
    _s3 = {
        "bucket_name": S3_BUCKET,
        "endpoint_url": env_str("EGOV_S3_ENDPOINT_URL", "") or None,
        "region_name": env_str("EGOV_S3_REGION", "ap-northeast-1"),
        # Credentials: these, or boto3's own chain (AWS_* variables, an instance role).
        "access_key": env_str("EGOV_S3_ACCESS_KEY_ID", "") or None,
        "secret_key": env_str("EGOV_S3_SECRET_ACCESS_KEY", "") or None,
        "addressing_style": env_str("EGOV_S3_ADDRESSING_STYLE", "path"),
        "default_acl": None,  # private objects; every download goes through an access check
        "querystring_auth": True,
        "file_overwrite": False,
    }
    _s3_backend = "storages.backends.s3.S3Storage"
    STORAGES["default"] = {"BACKEND": _s3_backend, "OPTIONS": _s3 | {"location": "media"}}
    STORAGES["reports"] = {
        "BACKEND": _s3_backend,
        "OPTIONS": _s3 | {"location": "report-batches", "file_overwrite": True},
    }
    STORAGES["report_cache"] = {
        "BACKEND": _s3_backend,
        "OPTIONS": _s3 | {"location": "report-cache", "file_overwrite": True},
    }
    CACHES["reports"] = {
        "BACKEND": "assessments.storage_cache.StorageCache",
        "LOCATION": "report_cache",  # the STORAGES alias
        "TIMEOUT": None,
    }

_EMAIL_BACKEND = env_str("EGOV_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
_SMTP = "django.core.mail.backends.smtp.EmailBackend"
MAILERS: dict[str, dict[str, object]] = {"default": {"BACKEND": _EMAIL_BACKEND}}
if _EMAIL_BACKEND == _SMTP:
    _smtp_ssl = env_bool("EGOV_SMTP_SSL", False)
    _smtp_starttls = env_bool("EGOV_SMTP_STARTTLS", not _smtp_ssl)
    MAILERS["default"]["OPTIONS"] = {
        "host": env_str("EGOV_SMTP_HOST"),
        "port": env_int("EGOV_SMTP_PORT", 465 if _smtp_ssl else 587, minimum=1),
        "username": env_str("EGOV_SMTP_USER", ""),
        "password": env_str("EGOV_SMTP_PASSWORD", ""),
        "use_tls": _smtp_starttls,
        "use_ssl": _smtp_ssl,
        "timeout": env_int("EGOV_SMTP_TIMEOUT", 10, minimum=1),
    }
    if _smtp_ssl and _smtp_starttls:
        raise ImproperlyConfigured(
            "EGOV_SMTP_STARTTLS と EGOV_SMTP_SSL は同時に有効にできません "
            "/ EGOV_SMTP_STARTTLS and EGOV_SMTP_SSL are mutually exclusive."
        )
# Each e-mail is sent by the task queue after commit, tried this many times with back-off.
MAIL_MAX_ATTEMPTS = env_int("EGOV_MAIL_MAX_ATTEMPTS", 5, minimum=1)
MAIL_RETRY_BASE_SECONDS = env_int("EGOV_MAIL_RETRY_SECONDS", 60, minimum=1)
# Absolute links in notification e-mails start with this.
SITE_URL = env_str("EGOV_SITE_URL", "http://127.0.0.1:8000")
DEFAULT_FROM_EMAIL = env_str("EGOV_DEFAULT_FROM_EMAIL", "egov-assess@localhost")

# The demo password is printed by `manage.py demo` and refused whenever DEBUG is off.
DEMO_PASSWORD = "egov-demo-2026"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("EGOV_LOG_LEVEL", "INFO")},
    # WeasyPrint logs every layout step at INFO; keep its warnings (refused URLs, fonts).
    "loggers": {
        "weasyprint.progress": {"level": "WARNING"},
        # django-axes logs every login at INFO; failures are in the audit trail (AccountEvent).
        "axes": {"level": "WARNING"},
    },
}
