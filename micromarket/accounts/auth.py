"""How API callers prove who they are: the browser session (with CSRF) or a bearer token."""

from __future__ import annotations

from django.http import HttpRequest
from ninja.security import HttpBearer, SessionAuth

from micromarket.accounts import services


class BearerTokenAuth(HttpBearer):
    """``Authorization: Bearer mm_…`` — a personal access token created in settings."""

    openapi_description = "A personal access token from Settings → API tokens."

    def authenticate(self, request: HttpRequest, token: str):
        user = services.token_authenticate(raw=token)
        if user is not None:
            request.user = user
        return user


class ActiveSessionAuth(SessionAuth):
    """The signed-in browser session; unsafe methods need the CSRF token (X-CSRFToken)."""

    def _get_key(self, request: HttpRequest):
        # Without a session cookie there is no session to forge a request with, so no CSRF
        # check: answering "not me" lets the bearer token authenticator try. (Ninja's check
        # would otherwise refuse every cookieless token write with 403 before it ran.)
        if not request.COOKIES.get(self.param_name):
            return None
        return super()._get_key(request)

    def authenticate(self, request: HttpRequest, key):
        if not key:
            return None
        user = super().authenticate(request, key)
        if user is not None and getattr(user, "deleted_at", None) is not None:
            return None
        return user


api_auth = [ActiveSessionAuth(), BearerTokenAuth()]


def _anonymous(request: HttpRequest):
    """Last resort for public endpoints: an anonymous caller (truthy, so ninja lets it pass)."""
    from django.contrib.auth.models import AnonymousUser

    return AnonymousUser()


# Public endpoints that show more to a signed-in owner or operator (e.g. inactive listings).
optional_api_auth = [*api_auth, _anonymous]
