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

    def authenticate(self, request: HttpRequest, key):
        user = super().authenticate(request, key)
        if user is not None and getattr(user, "deleted_at", None) is not None:
            return None
        return user


api_auth = [ActiveSessionAuth(), BearerTokenAuth()]
