"""Pages of the time area: the timer and entries (/books/time/), the weekly timesheet, editing
an entry, and turning a client's unbilled time into a draft invoice. See docs/books/time.md."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from micromarket.books.forms.time import (
    InvoiceTimeForm,
    TimeEntryForm,
    TimerStartForm,
    format_duration,
)
from micromarket.books.selectors import time as selectors
from micromarket.books.services import time as services
from micromarket.core.errors import DomainError, NotFound
from micromarket.core.forms import form_add_domain_error


def _entry_or_404(request, pk: int):
    try:
        return selectors.time_entry_get(request.user, pk)
    except NotFound as exc:
        raise Http404(exc.message) from None


def _page_context(request, *, start_form=None, entry_form=None, status_code=200) -> dict:
    owner = request.user
    running = selectors.running_timer(owner)
    today = timezone.localdate()
    return {
        "tab": "time",
        "running": running,
        "running_seconds": selectors.entry_seconds(running) if running else 0,
        "start_form": start_form or TimerStartForm(owner=owner),
        "entry_form": entry_form
        or TimeEntryForm(owner=owner, initial={"date": today, "billable": True}),
        "entries": list(selectors.time_entries(owner)[:30]),
        "unbilled": selectors.unbilled_by_client(owner),
        "client_rates": selectors.client_effective_rates(owner),
        "offer_rates": selectors.offer_effective_rates(owner),
        "week": selectors.timesheet(owner, week_start=today),
    }


@login_required
def time_index(request):
    return render(request, "books/time/index.html", _page_context(request))


def _save(request, form, action) -> bool:
    if not form.is_valid():
        return False
    try:
        action(form)
    except DomainError as exc:
        form_add_domain_error(form, exc)
        return False
    return True


@login_required
@require_POST
def timer_start(request):
    form = TimerStartForm(request.POST, owner=request.user)
    if _save(
        request,
        form,
        lambda f: services.timer_start(owner=request.user, **f.service_kwargs()),
    ):
        messages.success(request, "Timer started.")
        return redirect("books:time")
    return render(
        request, "books/time/index.html", _page_context(request, start_form=form), status=400
    )


@login_required
@require_POST
def timer_stop(request):
    try:
        entry = services.timer_stop(owner=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, f"Timer stopped: {format_duration(entry.duration_seconds)} recorded."
        )
    return redirect("books:time")


@login_required
@require_POST
def time_entry_new(request):
    form = TimeEntryForm(request.POST, owner=request.user)

    def create(f):
        services.time_entry_create(
            owner=request.user,
            started_at=f.started_at(),
            duration_seconds=f.cleaned_data["duration"],
            **f.service_kwargs(),
        )

    if _save(request, form, create):
        messages.success(request, "Time recorded.")
        return redirect("books:time")
    return render(
        request, "books/time/index.html", _page_context(request, entry_form=form), status=400
    )


@login_required
def time_entry_edit(request, pk: int):
    entry = _entry_or_404(request, pk)
    if request.method == "POST":
        form = TimeEntryForm(request.POST, owner=request.user)

        def update(f):
            kwargs = f.service_kwargs()
            changes = {"started_at": f.started_at(), **kwargs}
            if entry.ended_at is not None:
                changes["duration_seconds"] = f.cleaned_data["duration"]
            services.time_entry_update(owner=request.user, pk=entry.pk, **changes)

        if _save(request, form, update):
            messages.success(request, "Time entry saved.")
            return redirect("books:time")
        status = 400
    else:
        form = TimeEntryForm.for_entry(entry, owner=request.user)
        status = 200
    return render(
        request,
        "books/time/edit.html",
        {"tab": "time", "entry": entry, "form": form},
        status=status,
    )


@login_required
@require_POST
def time_entry_delete(request, pk: int):
    entry = _entry_or_404(request, pk)
    try:
        services.time_entry_delete(owner=request.user, pk=entry.pk)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Time entry deleted.")
    return redirect("books:time")


@login_required
@require_POST
def time_invoice(request):
    """A draft invoice from a client's unbilled time (all of it, or the entries ticked)."""
    form = InvoiceTimeForm(request.POST, owner=request.user)
    if not form.is_valid():
        if "client" in form.errors:
            raise Http404("There is no such client.")
        messages.error(request, "Choose the time to invoice.")
        return redirect("books:time")
    try:
        invoice = services.time_invoice_create(
            owner=request.user,
            client_id=form.cleaned_data["client"].pk,
            entry_ids=form.cleaned_data["entries"] or None,
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("books:time")
    messages.success(
        request, "Draft invoice created from your tracked time. Check it, then issue and send it."
    )
    return redirect(reverse("books:invoice_detail", args=[invoice.pk]))


@login_required
def timesheet(request):
    week = request.GET.get("week", "")
    try:
        start = date.fromisoformat(week) if week else timezone.localdate()
    except ValueError:
        start = timezone.localdate()
    sheet = selectors.timesheet(request.user, week_start=start)
    return render(
        request,
        "books/time/timesheet.html",
        {
            "tab": "time",
            "sheet": sheet,
            "this_week": selectors.week_start_for(timezone.localdate()),
        },
    )


urlpatterns = [
    path("books/time/", time_index, name="time"),
    path("books/time/timer/start/", timer_start, name="timer_start"),
    path("books/time/timer/stop/", timer_stop, name="timer_stop"),
    path("books/time/new/", time_entry_new, name="time_entry_new"),
    path("books/time/<int:pk>/edit/", time_entry_edit, name="time_entry_edit"),
    path("books/time/<int:pk>/delete/", time_entry_delete, name="time_entry_delete"),
    path("books/time/invoice/", time_invoice, name="time_invoice"),
    path("books/time/week/", timesheet, name="timesheet"),
]
