"""API of the time area: time entries CRUD, the timer, the weekly timesheet, effective hourly
rates, and a draft invoice from unbilled time. Another user's entry is 404. See
docs/books/time.md."""

from __future__ import annotations

from datetime import date

from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router, Status
from ninja.pagination import paginate

from micromarket.books.schemas.time import (
    EffectiveRatesOut,
    TimeEntryIn,
    TimeEntryOut,
    TimeEntryPatch,
    TimeInvoiceIn,
    TimeInvoiceOut,
    TimerStartIn,
    TimesheetOut,
)
from micromarket.books.selectors import time as selectors
from micromarket.books.services import time as services
from micromarket.core.api import PROBLEM_RESPONSES, LimitOffsetPage

router = Router(tags=["books: time"])


@router.get("/time-entries", response=list[TimeEntryOut], summary="Your time entries")
@paginate(LimitOffsetPage)
def time_entries_list(
    request: HttpRequest, client_id: int | None = None, unbilled: bool | None = None
):
    qs = selectors.time_entries(request.auth, unbilled=unbilled)
    if client_id is not None:
        qs = qs.filter(client_id=client_id)
    return qs


@router.post(
    "/time-entries",
    response={201: TimeEntryOut, **PROBLEM_RESPONSES},
    summary="Record time by hand",
    description="- **201** the entry.\n- **404** the client or offer is not yours.\n"
    "- **422** a duration over 24 hours, a rate without a currency …",
)
def time_entry_create(request: HttpRequest, payload: TimeEntryIn):
    entry = services.time_entry_create(owner=request.auth, **payload.dict())
    return Status(201, entry)


@router.get(
    "/time-entries/{entry_id}",
    response={200: TimeEntryOut, **PROBLEM_RESPONSES},
    summary="One of your time entries",
)
def time_entry_get(request: HttpRequest, entry_id: int):
    return selectors.time_entry_get(request.auth, entry_id)


@router.patch(
    "/time-entries/{entry_id}",
    response={200: TimeEntryOut, **PROBLEM_RESPONSES},
    summary="Change a time entry",
    description="Only the fields sent change. **409** `time_entry_billed` once it is on an "
    "invoice.",
)
def time_entry_update(request: HttpRequest, entry_id: int, payload: TimeEntryPatch):
    changes = payload.dict(exclude_unset=True)
    return services.time_entry_update(owner=request.auth, pk=entry_id, **changes)


@router.delete(
    "/time-entries/{entry_id}",
    response={204: None, **PROBLEM_RESPONSES},
    summary="Delete a time entry",
)
def time_entry_delete(request: HttpRequest, entry_id: int):
    services.time_entry_delete(owner=request.auth, pk=entry_id)
    return Status(204, None)


@router.get(
    "/timer",
    response={200: TimeEntryOut | None},
    summary="The running timer (null when none runs)",
)
def timer_get(request: HttpRequest):
    return selectors.running_timer(request.auth)


@router.post(
    "/timer/start",
    response={201: TimeEntryOut, **PROBLEM_RESPONSES},
    summary="Start the timer",
    description="- **201** the running entry.\n- **409** `timer_running` — one is already "
    "running (one per user); stop it first.",
)
def timer_start(request: HttpRequest, payload: TimerStartIn):
    entry = services.timer_start(owner=request.auth, **payload.dict())
    return Status(201, entry)


@router.post(
    "/timer/stop",
    response={200: TimeEntryOut, **PROBLEM_RESPONSES},
    summary="Stop the timer",
    description="**404** `no_timer` when none runs.",
)
def timer_stop(request: HttpRequest):
    return services.timer_stop(owner=request.auth)


@router.get("/timesheet", response=TimesheetOut, summary="The weekly timesheet")
def timesheet(request: HttpRequest, week: date | None = Query(None)):  # noqa: B008
    sheet = selectors.timesheet(request.auth, week_start=week or timezone.localdate())
    return {
        "week_start": sheet.week_start,
        "days": sheet.days,
        "rows": [
            {
                "label": r.label,
                "seconds": r.seconds,
                "total": r.total,
                "billable_seconds": r.billable_seconds,
            }
            for r in sheet.rows
        ],
        "day_totals": sheet.day_totals,
        "total": sheet.total,
        "billable": sheet.billable,
    }


def _rates(rates) -> list[dict]:
    return [
        {
            "id": r.key,
            "label": r.label,
            "seconds": r.seconds,
            "earned": r.earned,
            "per_hour": r.per_hour(),
        }
        for r in rates
    ]


@router.get(
    "/time/effective-rates",
    response=EffectiveRatesOut,
    summary="Effective hourly rate per client and per offer",
)
def effective_rates(request: HttpRequest):
    return {
        "clients": _rates(selectors.client_effective_rates(request.auth)),
        "offers": _rates(selectors.offer_effective_rates(request.auth)),
    }


@router.post(
    "/time/invoice",
    response={201: TimeInvoiceOut, **PROBLEM_RESPONSES},
    summary="A draft invoice from a client's unbilled time",
    description="- **201** the draft invoice.\n- **404** the client or an entry is not yours "
    "(or is already invoiced).\n- **422** `no_unbilled_time`, or an entry has no rate.",
)
def time_invoice(request: HttpRequest, payload: TimeInvoiceIn):
    invoice = services.time_invoice_create(
        owner=request.auth, client_id=payload.client_id, entry_ids=payload.entry_ids
    )
    return Status(
        201,
        {
            "invoice_id": invoice.pk,
            "status": invoice.status,
            "currency": invoice.currency,
            "total": invoice.total,
        },
    )
