"""API conventions shared by every app's endpoints.

Errors: RFC 9457 ``application/problem+json`` with a stable ``code`` member::

    {"type": "about:blank", "title": "Unprocessable Content", "status": 422,
     "detail": "Check the highlighted fields.", "code": "validation_failed",
     "instance": "/api/v1/me", "errors": [{"loc": ["body", "payload", "timezone"],
     "msg": "…", "type": "…"}]}

Lists: ``?limit=&offset=`` and the envelope ``{"items", "count", "limit", "offset", "next",
"previous"}`` (``LimitOffsetPage``), with ``limit`` at most ``API_PAGE_SIZE_MAX``.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.http import urlencode
from ninja import Field, NinjaAPI, Schema
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, ValidationError
from ninja.pagination import PaginationBase

from micromarket.core.errors import DomainError

logger = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"


class Problem(Schema):
    """RFC 9457 problem details, as documented in the OpenAPI schema."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    code: str
    instance: str | None = None
    errors: list[dict[str, Any]] | None = None


def problem_response(
    request: HttpRequest,
    *,
    status: int,
    code: str,
    detail: str,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> HttpResponse:
    body = _problem(status=status, code=code, detail=detail, instance=request.path, errors=errors)
    response = JsonResponse(body, status=status, content_type=PROBLEM_CONTENT_TYPE)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _problem(
    *, status: int, code: str, detail: str, instance: str, errors: list[dict[str, Any]] | None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "code": code,
        "instance": instance,
    }
    if errors:
        body["errors"] = errors
    return body


def _domain_errors(exc: DomainError) -> list[dict[str, Any]] | None:
    return exc.errors or (
        [{"loc": ["body", exc.field], "msg": exc.message, "type": exc.code}] if exc.field else None
    )


def problem_body(exc: DomainError, *, instance: str) -> dict[str, Any]:
    """The problem+json body the API answers for a domain error (stored for replays)."""
    return _problem(
        status=exc.status,
        code=exc.code,
        detail=exc.message,
        instance=instance,
        errors=_domain_errors(exc),
    )


def _validation_errors(exc: ValidationError) -> list[dict[str, Any]]:
    errors = []
    for err in exc.errors:
        errors.append(
            {
                "loc": [str(part) for part in err.get("loc", ())],
                "msg": err.get("msg", "Invalid value."),
                "type": err.get("type", "value_error"),
            }
        )
    return errors


def install_problem_handlers(api: NinjaAPI) -> None:
    """Make every error the API can raise answer as problem+json."""

    @api.exception_handler(DomainError)
    def on_domain_error(request, exc: DomainError):
        return problem_response(
            request,
            status=exc.status,
            code=exc.code,
            detail=exc.message,
            errors=_domain_errors(exc),
        )

    @api.exception_handler(ValidationError)
    def on_validation_error(request, exc: ValidationError):
        return problem_response(
            request,
            status=422,
            code="validation_failed",
            detail="The request is not valid; see errors for each field.",
            errors=_validation_errors(exc),
        )

    @api.exception_handler(AuthenticationError)
    def on_authentication_error(request, exc):
        return problem_response(
            request,
            status=401,
            code="not_authenticated",
            detail="Sign in, or send a personal access token as 'Authorization: Bearer <token>'.",
            headers={"WWW-Authenticate": 'Bearer realm="api"'},
        )

    @api.exception_handler(AuthorizationError)
    def on_authorization_error(request, exc):
        return problem_response(
            request, status=403, code="forbidden", detail="You may not do this."
        )

    @api.exception_handler(Http404)
    def on_not_found(request, exc):
        return problem_response(
            request, status=404, code="not_found", detail="There is nothing here."
        )

    @api.exception_handler(HttpError)
    def on_http_error(request, exc: HttpError):
        status = exc.status_code
        code = HTTPStatus(status).phrase.lower().replace(" ", "_").replace("-", "_")
        return problem_response(request, status=status, code=code, detail=str(exc))

    @api.exception_handler(Exception)
    def on_unexpected(request, exc):
        if settings.DEBUG:
            raise exc
        logger.exception("Unhandled API error on %s", request.path)
        return problem_response(
            request,
            status=500,
            code="server_error",
            detail="Something went wrong on our side. It has been logged.",
        )


PROBLEM_RESPONSES = {
    frozenset({401}): Problem,
    frozenset({403}): Problem,
    frozenset({404}): Problem,
    frozenset({409}): Problem,
    frozenset({422}): Problem,
}


class LimitOffsetPage(PaginationBase):
    """The pagination convention for every list endpoint."""

    class Input(Schema):
        limit: int = Field(settings.API_PAGE_SIZE_DEFAULT, ge=1, le=settings.API_PAGE_SIZE_MAX)
        offset: int = Field(0, ge=0)

    class Output(Schema):
        items: list[Any]
        count: int
        limit: int
        offset: int
        next: str | None
        previous: str | None

    items_attribute = "items"

    def paginate_queryset(self, queryset, pagination: Input, request: HttpRequest, **params):
        limit, offset = pagination.limit, pagination.offset
        count = self._items_count(queryset)
        items = list(queryset[offset : offset + limit])

        def link(new_offset: int) -> str:
            query = request.GET.copy()
            query["limit"] = str(limit)
            query["offset"] = str(new_offset)
            return f"{request.path}?{urlencode(sorted(query.items()))}"

        return {
            "items": items,
            "count": count,
            "limit": limit,
            "offset": offset,
            "next": link(offset + limit) if offset + limit < count else None,
            "previous": link(max(offset - limit, 0)) if offset > 0 else None,
        }
