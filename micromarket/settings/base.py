"""Base settings: every value comes from the environment, with safe defaults.

Only what differs between profiles lives in development.py, test.py and production.py.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF

BASE_DIR = Path(__file__).resolve().parent.parent.parent
PACKAGE_DIR = BASE_DIR / "micromarket"

env = environ.Env()
# Optional .env file beside the project for local overrides; the environment always wins.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

VAR_DIR = Path(env("MICROMARKET_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key_from_var(path: Path) -> str:
    """Generate a secret key once and keep it in var/ (mode 0600), so restarts keep sessions."""
    if not path.exists():
        key = secrets.token_urlsafe(64)
        # O_EXCL: if two processes race on first start, one writes, both read the same key.
        try:
            with path.open("x", encoding="utf-8") as fh:
                fh.write(key)
            path.chmod(0o600)
        except FileExistsError:
            pass
    return path.read_text(encoding="utf-8").strip()


SECRET_KEY = env("SECRET_KEY", default="") or _secret_key_from_var(VAR_DIR / "secret_key")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_NAME = env("SITE_NAME", default="micromarket")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "csp",
    "django_htmx",
    "template_partials",
    "django_tasks",
    "django_tasks_db",
    "ninja",
    "micromarket.core",
    "micromarket.accounts",
    "micromarket.catalog",
    "micromarket.ledger",
    "micromarket.payments",
    "micromarket.orders",
    "micromarket.messaging",
    "micromarket.trust",
    "micromarket.books",
    "micromarket.projects",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "micromarket.core.middleware.UserTimezoneMiddleware",
    "micromarket.accounts.middleware.OperatorTwoFactorMiddleware",
    # Last, as django-axes asks: it turns a lockout into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "micromarket.urls"
WSGI_APPLICATION = "micromarket.wsgi.application"
ASGI_APPLICATION = "micromarket.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "micromarket.core.context_processors.site",
                "micromarket.accounts.context_processors.navigation",
                "micromarket.messaging.context_processors.navigation",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# SQLite under var/ by default (WAL, IMMEDIATE transactions so writers queue instead of failing
# with "database is locked" mid-transaction); any DATABASE_URL such as postgres://… works as is.
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'micromarket.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL;"
                "PRAGMA synchronous=NORMAL;"
                "PRAGMA foreign_keys=ON;"
                "PRAGMA busy_timeout=20000;"
            ),
        }
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (Redis when REDIS_URL is set: shared by every web and worker process) -------------
if env("REDIS_URL", default=""):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": env("REDIS_URL"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

SESSION_ENGINE = env("SESSION_ENGINE", default="django.contrib.sessions.backends.db")
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=60 * 60 * 24 * 14)

# --- Accounts and authentication -------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # django-axes first: it refuses a locked-out email/IP pair before the password is checked.
    "axes.backends.AxesStandaloneBackend",
    "micromarket.accounts.backends.EmailBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "core:home"
PASSWORD_RESET_TIMEOUT = 60 * 60 * 3
EMAIL_VERIFICATION_MAX_AGE = timedelta(days=3)
# Sign-in with 2FA: how long the password step stays valid while the code is asked for.
TWO_FACTOR_PENDING_MAX_AGE = timedelta(minutes=5)
OTP_TOTP_ISSUER = SITE_NAME

# django-axes: 5 wrong passwords for one email from one address → locked for 15 minutes.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_USERNAME_FORM_FIELD = "username"
AXES_VERBOSE = False
AXES_IPWARE_PROXY_COUNT = env.int("AXES_PROXY_COUNT", default=0) or None

# --- Uploads --------------------------------------------------------------------------------
AVATAR_MAX_BYTES = 5 * 1024 * 1024
AVATAR_SIZE_PX = 512
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# --- Email ----------------------------------------------------------------------------------
# EMAIL_URL: smtp+tls://user:password@host:587, consolemail://, filemail:///path, dummymail://
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default=f"{SITE_NAME} <no-reply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Absolute links in emails (the worker has no request to build them from).
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

# --- Background work ------------------------------------------------------------------------
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# Messaging: how many people someone may write to for the first time in 24 hours.
MESSAGING_NEW_CONTACTS_PER_DAY = env.int("MESSAGING_NEW_CONTACTS_PER_DAY", default=20)
# How often the worker's sweeper wakes up to look for periodic jobs that are due.
SWEEPER_TICK_SECONDS = env.float("SWEEPER_TICK_SECONDS", default=5.0)

# --- Internationalisation, money display ----------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
DEFAULT_CURRENCY = env("DEFAULT_CURRENCY", default="USD")

# Payments (docs/payments.md). "sandbox" is the embedded pretend provider; "stripe" needs keys.
PAYMENTS_PROVIDER = env("PAYMENTS_PROVIDER", default="sandbox")
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", default="")
# Several endpoint secrets, comma-separated, while rotating: whsec_new,whsec_old
STRIPE_WEBHOOK_SECRETS = env.list("STRIPE_WEBHOOK_SECRETS", default=[])
STRIPE_API_BASE = env("STRIPE_API_BASE", default="")  # tests point the library at a local server
# API Idempotency-Key records are kept this long (at least 24 hours).
IDEMPOTENCY_KEY_HOURS = env.int("IDEMPOTENCY_KEY_HOURS", default=48)
SANDBOX_PAYOUT_DELAY = env.int("SANDBOX_PAYOUT_DELAY", default=120)  # seconds until "paid"

# --- Trust (docs/trust.md) ------------------------------------------------------------------
# Phone verification codes go through this provider (dotted path to a class with
# send(*, to, body)); ConsoleSMS logs them and keeps them in memory (development, tests).
SMS_PROVIDER = env("SMS_PROVIDER", default="micromarket.trust.sms.ConsoleSMS")
# Ed25519 key that signs portable reputation exports: PEM or base64 of the 32 raw private bytes.
# Unset: a key is generated once in TRUST_SIGNING_KEY_FILE (mode 0600) and kept.
TRUST_SIGNING_KEY = env("TRUST_SIGNING_KEY", default="")
TRUST_SIGNING_KEY_FILE = Path(
    env("TRUST_SIGNING_KEY_FILE", default=str(VAR_DIR / "trust-signing-key.pem"))
)

# --- Static and media files -----------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Serve static files straight from the app folders (no collectstatic) outside production.
WHITENOISE_USE_FINDERS = env.bool("WHITENOISE_USE_FINDERS", default=True)
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(VAR_DIR / "media")))
# Serve MEDIA_ROOT from Django itself (development, or one small host without a proxy).
SERVE_MEDIA = env.bool("SERVE_MEDIA", default=False)
PRIVATE_ROOT = Path(env("PRIVATE_ROOT", default=str(VAR_DIR / "private")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Files only permission-checked views may serve (receipts, invoices): never under MEDIA_URL.
    "private": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(PRIVATE_ROOT)},
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- Security headers (strict everywhere; production adds HTTPS-only settings) --------------
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_FAILURE_VIEW = "micromarket.core.views.csrf_failure"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:", "blob:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [NONE],
        "object-src": [NONE],
    },
}

# --- API ------------------------------------------------------------------------------------
API_PAGE_SIZE_DEFAULT = 20
API_PAGE_SIZE_MAX = 100
NINJA_PAGINATION_MAX_LIMIT = API_PAGE_SIZE_MAX

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
    },
}
