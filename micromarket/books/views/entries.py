"""Pages of the entries area: income and expenses (with receipts), the mileage log and
recurring expenses. Platform earnings are copied from the ledger when the list opens.
See docs/books/entries.md."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from micromarket.books import categories
from micromarket.books.forms.entries import EntryForm, MileageForm, RecurringForm
from micromarket.books.models import Entry
from micromarket.books.selectors import entries as selectors
from micromarket.books.services import entries as services
from micromarket.core.errors import DomainError, NotFound
from micromarket.core.forms import form_add_domain_error
from micromarket.core.money import money_format


def _entry_or_404(request, pk: int) -> Entry:
    try:
        return selectors.entry_get(request.user, pk)
    except NotFound as exc:
        raise Http404(exc.message) from None


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@login_required
def entries(request):
    services.platform_income_sync(owner=request.user)
    kind = request.GET.get("kind", "")
    kind = kind if kind in Entry.Kind.values else ""
    category = request.GET.get("category", "")
    category = category if categories.category_get(category) else ""
    year, month = _int(request.GET.get("year")), _int(request.GET.get("month"))
    q = request.GET.get("q", "").strip()[:100]
    qs = selectors.entries_list(
        request.user, kind=kind, category=category, year=year, month=month, q=q
    )
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    totals = [
        (cur, money_format(t["income"], cur), money_format(t["expense"], cur))
        for cur, t in sorted(selectors.list_totals(qs).items())
    ]
    filters = request.GET.copy()
    filters.pop("page", None)
    return render(
        request,
        "books/entries/list.html",
        {
            "tab": "entries",
            "page": page,
            "totals": totals,
            "kind": kind,
            "category": category,
            "year": year,
            "month": month,
            "q": q,
            "years": selectors.entry_years(request.user),
            "months": [(i, f"{i:02d}") for i in range(1, 13)],
            "category_groups": [
                ("Income", categories.INCOME_CATEGORIES),
                ("Expenses", categories.EXPENSE_CATEGORIES),
            ],
            "query": filters.urlencode(),
            "labels": {c.key: c.label for c in categories.ALL.values()},
        },
    )


def _entry_form_page(request, form, entry=None, status=200):
    return render(
        request,
        "books/entries/form.html",
        {"tab": "entries", "form": form, "entry": entry},
        status=status,
    )


@login_required
def entry_new(request):
    if request.method == "POST":
        form = EntryForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            try:
                entry = services.entry_create(
                    owner=request.user,
                    kind=data["kind"],
                    date=data["date"],
                    amount=data["amount_minor"],
                    currency=data["currency"],
                    category=data["category"],
                    payee=data["payee"],
                    note=data["note"],
                    receipt=data.get("receipt"),
                )
            except DomainError as exc:
                form_add_domain_error(form, exc)
            else:
                messages.success(
                    request,
                    f"{entry.get_kind_display()} of {money_format(entry.amount, entry.currency)} "
                    "recorded.",
                )
                if "another" in request.POST:
                    return redirect(f"{request.path}?kind={entry.kind}")
                return redirect("books:entries")
        return _entry_form_page(request, form, status=400)
    kind = request.GET.get("kind", "expense")
    currency = getattr(request.user, "preferred_currency", "") or "USD"
    form = EntryForm(
        initial={
            "kind": kind if kind in Entry.Kind.values else "expense",
            "currency": currency,
            "category": "other_income" if kind == "income" else "other_expense",
        }
    )
    return _entry_form_page(request, form)


@login_required
def entry_edit(request, pk: int):
    entry = _entry_or_404(request, pk)
    if request.method == "POST":
        form = EntryForm.for_entry(entry, data=request.POST, files=request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            try:
                updated = services.entry_update(
                    owner=request.user,
                    entry_id=entry.pk,
                    kind=data["kind"],
                    date=data["date"],
                    amount=data["amount_minor"],
                    currency=data["currency"],
                    category=data["category"],
                    payee=data["payee"],
                    note=data["note"],
                    receipt=data.get("receipt"),
                    receipt_remove=data.get("receipt_remove", False),
                )
            except DomainError as exc:
                form_add_domain_error(form, exc)
            else:
                messages.success(request, "Entry saved.")
                _warn_shortfall(request, getattr(updated, "budget_shortfall", 0), entry.currency)
                return redirect("books:entries")
        return _entry_form_page(request, form, entry, status=400)
    return _entry_form_page(request, EntryForm.for_entry(entry), entry)


def _warn_shortfall(request, shortfall: int | None, currency: str) -> None:
    """Say when the budget could not take an income's share back (it was already spent)."""
    if shortfall:
        messages.warning(
            request,
            f"{money_format(shortfall, currency)} of this income's share was already spent "
            "from your envelopes, so your budget could not take it back.",
        )


@login_required
def entry_delete(request, pk: int):
    entry = _entry_or_404(request, pk)
    error = None
    if request.method == "POST":
        try:
            shortfall = services.entry_delete(owner=request.user, entry_id=entry.pk)
        except NotFound as exc:
            raise Http404(exc.message) from None
        except DomainError as exc:
            error = exc.message
        else:
            messages.success(request, "Entry deleted.")
            _warn_shortfall(request, shortfall, entry.currency)
            return redirect("books:entries")
    return render(
        request,
        "books/entries/delete.html",
        {"tab": "entries", "entry": entry, "error": error},
        status=400 if error else 200,
    )


@login_required
def entry_receipt(request, pk: int):
    """The receipt, for its owner only (404 for anyone else); never a public URL."""
    entry = _entry_or_404(request, pk)
    if not entry.receipt:
        raise Http404("This entry has no receipt.")
    is_pdf = entry.receipt_type == "application/pdf"
    response = FileResponse(
        entry.receipt.open("rb"),
        content_type=entry.receipt_type or "application/octet-stream",
        as_attachment=is_pdf,
        filename=f"receipt-{entry.date:%Y-%m-%d}-{entry.pk}.{'pdf' if is_pdf else 'webp'}",
    )
    response["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src 'self'"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


# --- mileage ------------------------------------------------------------------------------


@login_required
def mileage(request):
    form = MileageForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                trip = services.mileage_trip_create(owner=request.user, **data)
            except DomainError as exc:
                form_add_domain_error(form, exc)
            else:
                messages.success(
                    request,
                    f"Trip logged: {money_format(trip.entry.amount, trip.currency)} deduction.",
                )
                return redirect("books:mileage")
    trips = list(selectors.mileage_trips(request.user)[:200])
    try:
        rate = services.mileage_rate_for(owner=request.user, day=_today(request))
    except DomainError:
        rate = None
    return render(
        request,
        "books/entries/mileage.html",
        {"tab": "entries", "form": form, "trips": trips, "rate": rate},
        status=status,
    )


def _today(request):  # the local date of the request
    from django.utils import timezone

    return timezone.localdate()


@login_required
@require_POST
def mileage_delete(request, pk: int):
    try:
        services.mileage_trip_delete(owner=request.user, trip_id=pk)
    except NotFound as exc:
        raise Http404(exc.message) from None
    messages.success(request, "Trip removed from the log, with its deduction.")
    return redirect("books:mileage")


# --- recurring ----------------------------------------------------------------------------


@login_required
def recurring(request):
    form = RecurringForm(
        request.POST or None,
        initial={"currency": getattr(request.user, "preferred_currency", "") or "USD"},
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.recurring_expense_create(
                    owner=request.user,
                    payee=data["payee"],
                    amount=data["amount_minor"],
                    currency=data["currency"],
                    category=data["category"],
                    frequency=data["frequency"],
                    start_date=data["start_date"],
                    end_date=data["end_date"],
                    note=data["note"],
                )
            except DomainError as exc:
                form_add_domain_error(form, exc)
            else:
                messages.success(
                    request, "Recurring expense saved. Each payment is recorded on its date."
                )
                return redirect("books:recurring")
    return render(
        request,
        "books/entries/recurring.html",
        {
            "tab": "entries",
            "form": form,
            "items": list(selectors.recurring_expenses(request.user)),
            "labels": {c.key: c.label for c in categories.ALL.values()},
        },
        status=status,
    )


@login_required
@require_POST
def recurring_stop(request, pk: int):
    try:
        item = services.recurring_expense_stop(owner=request.user, recurring_id=pk)
    except NotFound as exc:
        raise Http404(exc.message) from None
    messages.success(request, f"{item.payee} stopped; past payments stay in your books.")
    return redirect("books:recurring")


urlpatterns = [
    path("books/entries/", entries, name="entries"),
    path("books/entries/new/", entry_new, name="entry_new"),
    path("books/entries/<int:pk>/edit/", entry_edit, name="entry_edit"),
    path("books/entries/<int:pk>/delete/", entry_delete, name="entry_delete"),
    path("books/entries/<int:pk>/receipt/", entry_receipt, name="entry_receipt"),
    path("books/mileage/", mileage, name="mileage"),
    path("books/mileage/<int:pk>/delete/", mileage_delete, name="mileage_delete"),
    path("books/recurring/", recurring, name="recurring"),
    path("books/recurring/<int:pk>/stop/", recurring_stop, name="recurring_stop"),
]
