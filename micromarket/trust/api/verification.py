"""API of the verification area: /verification (my status and badges), /verification/phone,
/verification/phone/confirm, /verification/trader (multipart) and /users/{id}/badges.
Operators review trader details on their pages (/ops/trust/verifications/)."""

from __future__ import annotations

from ninja import File, Form, Router, Status
from ninja.files import UploadedFile

from micromarket.accounts import selectors as accounts_selectors
from micromarket.core.api import PROBLEM_RESPONSES, Problem
from micromarket.core.errors import NotFound
from micromarket.trust.schemas.verification import (
    BadgesOut,
    PhoneConfirmIn,
    PhoneStarted,
    PhoneStartIn,
    TraderOut,
    VerificationOut,
)
from micromarket.trust.selectors import verification as selectors
from micromarket.trust.services import verification as services

router = Router(tags=["trust"])

PROBLEMS = {**PROBLEM_RESPONSES, 429: Problem}


def _badges(badges) -> dict:
    return {
        "email": badges.email,
        "phone": badges.phone,
        "identity": badges.identity,
        "email_verified_at": badges.email_verified_at,
        "phone_verified_at": badges.phone_verified_at,
        "identity_verified_at": badges.identity_verified_at,
    }


def _trader(row) -> dict | None:
    if row is None:
        return None
    return {
        "id": row.pk,
        "status": row.status,
        "legal_name": row.legal_name,
        "address_line": row.address_line,
        "city": row.city,
        "postal_code": row.postal_code,
        "country": row.country,
        "trade_register_number": row.trade_register_number,
        "payout_method_id": row.payout_method_id,
        "review_note": row.review_note,
        "created_at": row.created_at,
        "reviewed_at": row.reviewed_at,
    }


def _status(user) -> dict:
    phone = selectors.phone_for(user=user)
    pending = selectors.phone_pending(user=user)
    return {
        "badges": _badges(selectors.badges(user=user)),
        "phone": phone.phone if phone else None,
        "phone_pending": pending.phone if pending else None,
        "trader": _trader(selectors.trader_latest(user=user)),
        "payouts_allowed": selectors.payouts_allowed(user=user),
    }


@router.get(
    "/verification",
    response={200: VerificationOut, **PROBLEMS},
    summary="My verification: badges, phone, the newest trader details, whether payouts are on",
)
def verification_get(request):
    return _status(request.auth)


@router.post(
    "/verification/phone",
    response={202: PhoneStarted, **PROBLEMS},
    summary="Text a 6-digit code to a mobile number (3 codes an hour; the code lasts 10 minutes)",
)
def phone_start(request, payload: PhoneStartIn):
    row = services.phone_start(user=request.auth, phone=payload.phone)
    return Status(202, {"phone": row.phone, "expires_at": row.expires_at})


@router.post(
    "/verification/phone/confirm",
    response={200: VerificationOut, **PROBLEMS},
    summary="Confirm the number with the code (5 tries)",
)
def phone_confirm(request, payload: PhoneConfirmIn):
    services.phone_confirm(user=request.auth, code=payload.code)
    return _status(request.auth)


@router.post(
    "/verification/trader",
    response={201: TraderOut, **PROBLEMS},
    summary="Send identity and trader details for review (sellers; multipart with `document`)",
)
def trader_submit(
    request,
    document: File[UploadedFile],
    legal_name: Form[str],
    address_line: Form[str],
    city: Form[str],
    postal_code: Form[str],
    country: Form[str],
    payout_method_id: Form[int],
    trade_register_number: Form[str] = "",
):
    row = services.trader_submit(
        user=request.auth,
        legal_name=legal_name,
        address_line=address_line,
        city=city,
        postal_code=postal_code,
        country=country,
        trade_register_number=trade_register_number,
        payout_method_id=payout_method_id,
        document=document,
    )
    return Status(201, _trader(row))


@router.get(
    "/users/{user_id}/badges",
    response={200: BadgesOut, **PROBLEMS},
    auth=None,
    summary="What is verified about a person (public)",
)
def user_badges(request, user_id: int):
    user = accounts_selectors.user_get_active(user_id=user_id)
    if user is None:
        raise NotFound("There is no such user.")
    return _badges(selectors.badges(user=user))
