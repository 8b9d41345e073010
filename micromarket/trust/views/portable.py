"""Pages of the portable area: the seller's signed reputation download and the public keys
that verify it. See docs/trust.md."""

from __future__ import annotations

import json

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import HttpResponse, JsonResponse
from django.urls import path
from django.utils import timezone
from django.views.decorators.cache import never_cache

from micromarket.core.errors import PermissionDenied
from micromarket.trust.selectors import portable as selectors


@login_required
@never_cache
def reputation_export(request):
    """The seller's reputation as a signed JSON file (403 page for anyone without a shop)."""
    now = timezone.now()
    try:
        document = selectors.reputation_document(seller=request.user, now=now)
    except PermissionDenied as exc:
        raise DjangoPermissionDenied(exc.message) from None
    body = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    filename = f"micromarket-reputation-{request.user.pk}-{now:%Y%m%d}.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


def reputation_keys(request):
    """JWKS of the keys that sign reputation documents (public; cacheable for an hour)."""
    response = JsonResponse(selectors.signing_keys())
    response["Cache-Control"] = "public, max-age=3600"
    response["Access-Control-Allow-Origin"] = "*"
    return response


urlpatterns = [
    path("seller/reputation/export/", reputation_export, name="reputation_export"),
    path(".well-known/micromarket-reputation-keys.json", reputation_keys, name="reputation_keys"),
]
