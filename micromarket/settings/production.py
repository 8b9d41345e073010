"""Production: HTTPS only, secrets and hosts from the environment. ``check --deploy`` is clean.

Required environment: ALLOWED_HOSTS (and SECRET_KEY unless var/secret_key is acceptable on a
single host). Optional: DATABASE_URL, REDIS_URL, EMAIL_URL, SITE_URL, SECURE_PROXY_SSL_HEADER.
"""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import STORAGES, env

DEBUG = False
if not env("ALLOWED_HOSTS", default=""):
    raise ImproperlyConfigured("Set ALLOWED_HOSTS (comma-separated) for the production profile.")

SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_NAME = "__Host-sessionid"
CSRF_COOKIE_NAME = "__Host-csrftoken"
# Behind a TLS-terminating proxy set SECURE_PROXY_SSL_HEADER=HTTP_X_FORWARDED_PROTO.
if env("SECURE_PROXY_SSL_HEADER", default=""):
    SECURE_PROXY_SSL_HEADER = (env("SECURE_PROXY_SSL_HEADER"), "https")

STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = False  # collectstatic output, hashed and compressed
