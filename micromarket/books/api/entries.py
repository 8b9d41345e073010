"""API of the entries area: income and expenses (receipts by multipart), categories, the mileage
log, recurring expenses and the platform earnings sync. Another seller's objects are 404.
See docs/books/entries.md."""

from __future__ import annotations

from django.http import FileResponse, HttpRequest
from ninja import File, Router, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from micromarket.books import categories
from micromarket.books.schemas.entries import (
    CategoryOut,
    EntryIn,
    EntryOut,
    EntryPatch,
    MileageIn,
    MileageOut,
    RecurringIn,
    RecurringOut,
    SyncOut,
)
from micromarket.books.selectors import entries as selectors
from micromarket.books.services import entries as services
from micromarket.core.api import PROBLEM_RESPONSES, LimitOffsetPage
from micromarket.core.errors import NotFound

router = Router(tags=["books"])


def _entry_out(entry) -> dict:
    return {
        "id": entry.pk,
        "kind": entry.kind,
        "date": entry.date,
        "amount": entry.amount,
        "currency": entry.currency,
        "category": entry.category,
        "payee": entry.payee,
        "note": entry.note,
        "source": entry.source,
        "source_ref": entry.source_ref,
        "has_receipt": bool(entry.receipt),
        "receipt_type": entry.receipt_type,
        "receipt_url": f"/api/v1/books/entries/{entry.pk}/receipt" if entry.receipt else None,
        "created_at": entry.created_at,
        "updated_at": entry.updated_at,
    }


@router.get("/categories", response=list[CategoryOut], summary="Income and expense categories")
def categories_list(request: HttpRequest, kind: str = ""):
    return [c.__dict__ for c in categories.ALL.values() if not kind or c.kind == kind]


@router.get("/entries", response=list[EntryOut], summary="Your income and expenses, newest first")
@paginate(LimitOffsetPage)
def entries_list(
    request: HttpRequest,
    kind: str = "",
    category: str = "",
    year: int | None = None,
    month: int | None = None,
    q: str = "",
    source: str = "",
):
    services.platform_income_sync(owner=request.auth)
    qs = selectors.entries_list(
        request.auth, kind=kind, category=category, year=year, month=month, q=q, source=source
    )
    return [_entry_out(e) for e in qs]


@router.post(
    "/entries/sync",
    response={200: SyncOut, **PROBLEM_RESPONSES},
    summary="Copy your released micromarket earnings into your books now",
)
def entries_sync(request: HttpRequest):
    return {"copied": services.platform_income_sync(owner=request.auth)}


@router.post(
    "/entries",
    response={201: EntryOut, **PROBLEM_RESPONSES},
    summary="Record income or an expense (JSON; add a receipt with POST …/receipt)",
)
def entry_create(request: HttpRequest, payload: EntryIn):
    entry = services.entry_create(owner=request.auth, **payload.dict())
    return Status(201, _entry_out(entry))


@router.get("/entries/{entry_id}", response={200: EntryOut, **PROBLEM_RESPONSES})
def entry_get(request: HttpRequest, entry_id: int):
    return _entry_out(selectors.entry_get(request.auth, entry_id))


@router.patch(
    "/entries/{entry_id}",
    response={200: EntryOut, **PROBLEM_RESPONSES},
    summary="Change an entry",
    description="- **409** `entry_locked`: platform earnings, invoice payments and mileage keep "
    "their kind, date, amount and currency.",
)
def entry_update(request: HttpRequest, entry_id: int, payload: EntryPatch):
    data = payload.dict(exclude_unset=True)
    entry = services.entry_update(owner=request.auth, entry_id=entry_id, **data)
    return _entry_out(entry)


@router.delete(
    "/entries/{entry_id}",
    response={204: None, **PROBLEM_RESPONSES},
    summary="Delete an entry you recorded",
)
def entry_delete(request: HttpRequest, entry_id: int):
    services.entry_delete(owner=request.auth, entry_id=entry_id)
    return Status(204, None)


@router.post(
    "/entries/{entry_id}/receipt",
    response={200: EntryOut, **PROBLEM_RESPONSES},
    summary="Attach or replace the receipt (multipart: receipt — a PDF or an image)",
)
def entry_receipt_upload(request: HttpRequest, entry_id: int, receipt: File[UploadedFile]):
    entry = services.entry_update(owner=request.auth, entry_id=entry_id, receipt=receipt)
    return _entry_out(entry)


@router.get(
    "/entries/{entry_id}/receipt",
    response={200: None, **PROBLEM_RESPONSES},
    summary="Download the receipt",
)
def entry_receipt_download(request: HttpRequest, entry_id: int):
    entry = selectors.entry_get(request.auth, entry_id)
    if not entry.receipt:
        raise NotFound("This entry has no receipt.", code="receipt_not_found")
    response = FileResponse(
        entry.receipt.open("rb"),
        content_type=entry.receipt_type or "application/octet-stream",
        as_attachment=True,
        filename=f"receipt-{entry.date:%Y-%m-%d}-{entry.pk}",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


# --- mileage ------------------------------------------------------------------------------


def _trip_out(trip) -> dict:
    return {
        "id": trip.pk,
        "date": trip.date,
        "distance": trip.distance,
        "unit": trip.unit,
        "origin": trip.origin,
        "destination": trip.destination,
        "purpose": trip.purpose,
        "rate": trip.rate,
        "rate_scale": trip.rate_scale,
        "currency": trip.currency,
        "deduction": trip.entry.amount if trip.entry_id else None,
        "entry_id": trip.entry_id,
    }


@router.get("/mileage", response=list[MileageOut], summary="Your mileage log")
@paginate(LimitOffsetPage)
def mileage_list(request: HttpRequest):
    return [_trip_out(t) for t in selectors.mileage_trips(request.auth)]


@router.post(
    "/mileage",
    response={201: MileageOut, **PROBLEM_RESPONSES},
    summary="Log a business trip (its deduction is recorded as a car and truck expense)",
)
def mileage_create(request: HttpRequest, payload: MileageIn):
    trip = services.mileage_trip_create(owner=request.auth, **payload.dict())
    return Status(201, _trip_out(trip))


@router.get("/mileage/{trip_id}", response={200: MileageOut, **PROBLEM_RESPONSES})
def mileage_get(request: HttpRequest, trip_id: int):
    return _trip_out(selectors.mileage_trip_get(request.auth, trip_id))


@router.delete("/mileage/{trip_id}", response={204: None, **PROBLEM_RESPONSES})
def mileage_delete(request: HttpRequest, trip_id: int):
    services.mileage_trip_delete(owner=request.auth, trip_id=trip_id)
    return Status(204, None)


# --- recurring ----------------------------------------------------------------------------


@router.get("/recurring", response=list[RecurringOut], summary="Your recurring expenses")
@paginate(LimitOffsetPage)
def recurring_list(request: HttpRequest):
    return selectors.recurring_expenses(request.auth)


@router.post("/recurring", response={201: RecurringOut, **PROBLEM_RESPONSES})
def recurring_create(request: HttpRequest, payload: RecurringIn):
    item = services.recurring_expense_create(owner=request.auth, **payload.dict())
    return Status(201, item)


@router.get("/recurring/{recurring_id}", response={200: RecurringOut, **PROBLEM_RESPONSES})
def recurring_get(request: HttpRequest, recurring_id: int):
    return selectors.recurring_expense_get(request.auth, recurring_id)


@router.post(
    "/recurring/{recurring_id}/stop",
    response={200: RecurringOut, **PROBLEM_RESPONSES},
    summary="Stop a recurring expense (what it recorded stays)",
)
def recurring_stop(request: HttpRequest, recurring_id: int):
    return services.recurring_expense_stop(owner=request.auth, recurring_id=recurring_id)
