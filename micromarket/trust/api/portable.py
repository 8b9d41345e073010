"""API of the portable area: /reputation/export (the seller's signed reputation) and
/reputation/keys (the public keys that verify it, as a JWKS)."""

from __future__ import annotations

from ninja import Router

from micromarket.core.api import PROBLEM_RESPONSES
from micromarket.trust.schemas.portable import JWKS, SignedDocument
from micromarket.trust.selectors import portable as selectors

router = Router(tags=["trust"])


@router.get(
    "/reputation/export",
    response={200: SignedDocument, **PROBLEM_RESPONSES},
    summary="My reputation as a seller, signed by the platform (sellers)",
)
def reputation_export(request):
    return selectors.reputation_document(seller=request.auth)


@router.get(
    "/reputation/keys",
    response={200: JWKS},
    auth=None,
    summary="The public keys (JWKS) that verify exported reputations",
)
def reputation_keys(request):
    return selectors.signing_keys()
