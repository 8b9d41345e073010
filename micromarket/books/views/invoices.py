"""Pages of the invoices area: clients, invoices (list, new, detail with lines, issue/send,
payments, void, PDF), recurring invoices, and the client's public page (no login; the secret
token in the link is the permission). Another seller's objects are 404. See
docs/books/invoices.md."""

from __future__ import annotations

import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_POST

from micromarket.books import invoice_pdf
from micromarket.books.forms.invoices import (
    ClientForm,
    InvoiceForm,
    InvoiceSettingsForm,
    LineForm,
    LineFormSet,
    PaymentForm,
    RecurringForm,
    SendForm,
    VoidForm,
)
from micromarket.books.models import Invoice
from micromarket.books.selectors import invoices as selectors
from micromarket.books.services import invoices as services
from micromarket.core.errors import DomainError, NotFound
from micromarket.core.forms import form_add_domain_error


def _invoice_or_404(request, pk) -> Invoice:
    try:
        return selectors.invoice_get(request.user, pk)
    except NotFound:
        raise Http404("There is no such invoice.") from None


def _client_or_404(request, pk):
    try:
        return selectors.client_get(request.user, pk)
    except NotFound:
        raise Http404("There is no such client.") from None


# --- clients ------------------------------------------------------------------------------


@login_required
def clients(request):
    show_archived = request.GET.get("archived") == "1"
    rows = selectors.clients_list(request.user, include_archived=show_archived)
    return render(
        request,
        "books/invoices/clients.html",
        {"tab": "clients", "clients": rows, "show_archived": show_archived},
    )


@login_required
def client_new(request):
    form = ClientForm(request.POST or None, initial={"currency": "USD"})
    if request.method == "POST" and form.is_valid():
        values = form.values()
        if not form.errors:
            try:
                client = services.client_create(owner=request.user, **values)
            except DomainError as exc:
                form_add_domain_error(form, exc)
            else:
                messages.success(request, f"Client “{client.name}” added.")
                return redirect(
                    (request.GET.get("next") == "invoice" and "books:invoice_new")
                    or "books:clients"
                )
    status = 400 if request.method == "POST" else 200
    return render(
        request, "books/invoices/client_form.html", {"tab": "clients", "form": form}, status=status
    )


@login_required
def client_edit(request, pk: int):
    client = _client_or_404(request, pk)
    form = ClientForm(request.POST or None, instance=client)
    if request.method == "POST":
        if request.POST.get("archive") in ("1", "0"):
            services.client_archive(
                owner=request.user, client=client, archived=request.POST["archive"] == "1"
            )
            messages.success(
                request,
                f"“{client.name}” archived."
                if request.POST["archive"] == "1"
                else f"“{client.name}” restored.",
            )
            return redirect("books:clients")
        if form.is_valid():
            values = form.values()
            if not form.errors:
                try:
                    services.client_update(owner=request.user, client=client, **values)
                except DomainError as exc:
                    form_add_domain_error(form, exc)
                else:
                    messages.success(request, "Client saved.")
                    return redirect("books:clients")
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "books/invoices/client_form.html",
        {"tab": "clients", "form": form, "client": client},
        status=status,
    )


# --- invoices -----------------------------------------------------------------------------


@login_required
def invoices(request):
    status = request.GET.get("status", "")
    if status not in selectors.STATUS_FILTERS:
        status = ""
    today = timezone.localdate()
    rows = [
        (inv, selectors.display_status(inv, today), selectors.display_status_label(inv, today))
        for inv in selectors.invoices_list(request.user, status=status, today=today)[:200]
    ]
    return render(
        request,
        "books/invoices/list.html",
        {
            "tab": "invoices",
            "rows": rows,
            "status": status,
            "filters": [
                ("", "All"),
                ("draft", "Drafts"),
                ("open", "Open"),
                ("overdue", "Overdue"),
                ("paid", "Paid"),
                ("void", "Void"),
            ],
            "outstanding": selectors.outstanding_by_currency(request.user, today),
            "seller_vat_id": selectors.invoice_settings(request.user)["vat_id"],
            "recurring": selectors.recurring_list(request.user).filter(active=True),
        },
    )


@login_required
def invoice_new(request):
    if not selectors.clients_list(request.user).exists():
        messages.info(request, "Add a client first: invoices are addressed to a client.")
        return redirect(f"{_url('books:client_new')}?next=invoice")
    initial_client = request.GET.get("client")
    form = InvoiceForm(
        request.POST or None,
        owner=request.user,
        initial={"currency": "USD", "terms_days": 14, "client": initial_client},
    )
    lines = LineFormSet(request.POST or None, prefix="lines")
    if request.method == "POST" and form.is_valid() and lines.is_valid():
        values = form.values()
        line_values = []
        for line_form in lines:
            if line_form.has_changed() and line_form.cleaned_data:
                value = line_form.values(values["currency"])
                if value is not None:
                    line_values.append(value)
        if not form.errors and not any(f.errors for f in lines):
            try:
                invoice = services.invoice_create(owner=request.user, lines=line_values, **values)
            except DomainError as exc:
                form_add_domain_error(form, exc)
            else:
                messages.success(request, "Draft saved. Check it, then send it.")
                return redirect("books:invoice_detail", pk=invoice.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "books/invoices/new.html",
        {"tab": "invoices", "form": form, "lines": lines},
        status=status,
    )


def _url(name: str, *args) -> str:
    from django.urls import reverse

    return reverse(name, args=args)


def _detail_context(request, invoice: Invoice, **forms) -> dict:
    today = timezone.localdate()
    return {
        "tab": "invoices",
        "invoice": invoice,
        "lines": list(invoice.lines.all()),
        "payments": list(invoice.payments.all()),
        "events": list(invoice.events.all()),
        "is_draft": invoice.status == Invoice.Status.DRAFT,
        "status": selectors.display_status(invoice, today),
        "status_label": selectors.display_status_label(invoice, today),
        "line_form": forms.get("line_form") or LineForm(),
        "edit_form": forms.get("edit_form")
        or InvoiceForm(
            owner=request.user,
            initial={
                "client": invoice.client_id,
                "currency": invoice.currency,
                "terms_days": invoice.terms_days,
                "discount": invoice.discount_bps / 100 or None,
                "late_fee_percent": invoice.late_fee_bps / 100 or None,
                "late_fee_fixed": _amount_text(invoice.late_fee_fixed, invoice.currency),
                "notes": invoice.notes,
            },
        ),
        "send_form": forms.get("send_form") or SendForm(),
        "void_form": forms.get("void_form") or VoidForm(),
        "payment_form": forms.get("payment_form")
        or PaymentForm(
            initial={
                "date": today,
                "amount": _amount_text(invoice.balance, invoice.currency),
            }
        ),
        "recurring_form": forms.get("recurring_form") or RecurringForm(),
        "public_url": services.public_url(invoice),
        "billed_time_count": selectors.billed_time_count(invoice),
    }


def _amount_text(minor: int, currency: str) -> str:
    from micromarket.core.money import from_minor

    return str(from_minor(minor, currency)) if minor else ""


@login_required
def invoice_detail(request, pk: int):
    invoice = _invoice_or_404(request, pk)
    return render(request, "books/invoices/detail.html", _detail_context(request, invoice))


def _action(request, pk: int, form_class, key: str, run, success: str):
    """A POST on the detail page: validate the form, run the service, redirect; errors show
    on the detail page next to the form's fields (status 400)."""
    invoice = _invoice_or_404(request, pk)
    form = (
        form_class(request.POST, owner=request.user)
        if form_class is InvoiceForm
        else form_class(request.POST)
    )
    if form.is_valid():
        try:
            result = run(invoice, form)
        except DomainError as exc:
            form_add_domain_error(form, exc)
        else:
            if result is not False and not form.errors:
                messages.success(request, success)
                return redirect("books:invoice_detail", pk=invoice.pk)
    invoice = _invoice_or_404(request, pk)
    return render(
        request,
        "books/invoices/detail.html",
        _detail_context(request, invoice, **{key: form}),
        status=400,
    )


@login_required
@require_POST
def invoice_edit(request, pk: int):
    def run(invoice, form):
        values = form.values()
        if form.errors:
            return False
        services.invoice_update(owner=request.user, invoice=invoice, **values)

    return _action(request, pk, InvoiceForm, "edit_form", run, "Draft saved.")


@login_required
@require_POST
def invoice_line_add(request, pk: int):
    def run(invoice, form):
        values = form.values(invoice.currency)
        if values is None:
            return False
        services.invoice_line_add(owner=request.user, invoice=invoice, **values)

    return _action(request, pk, LineForm, "line_form", run, "Line added.")


@login_required
@require_POST
def invoice_line_delete(request, pk: int, line_id: int):
    invoice = _invoice_or_404(request, pk)
    try:
        services.invoice_line_delete(owner=request.user, invoice=invoice, line_id=line_id)
    except NotFound:
        raise Http404("There is no such line.") from None
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Line removed.")
    return redirect("books:invoice_detail", pk=invoice.pk)


@login_required
@require_POST
def invoice_issue(request, pk: int):
    invoice = _invoice_or_404(request, pk)
    try:
        invoice = services.invoice_issue(owner=request.user, invoice=invoice)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, f"Invoice {invoice.number} issued (marked as sent, without an email)."
        )
    return redirect("books:invoice_detail", pk=invoice.pk)


@login_required
@require_POST
def invoice_send(request, pk: int):
    def run(invoice, form):
        services.invoice_send(
            owner=request.user, invoice=invoice, message=form.cleaned_data["message"]
        )

    return _action(request, pk, SendForm, "send_form", run, "Invoice sent to the client.")


@login_required
@require_POST
def invoice_void(request, pk: int):
    count = selectors.billed_time_count(_invoice_or_404(request, pk))
    success = "Invoice voided; its number stays used."
    if count:
        success += (
            f" Its tracked time ({count} entr{'y' if count == 1 else 'ies'}) is unbilled again."
        )

    def run(invoice, form):
        services.invoice_void(
            owner=request.user, invoice=invoice, reason=form.cleaned_data["reason"]
        )

    return _action(request, pk, VoidForm, "void_form", run, success)


@login_required
@require_POST
def invoice_delete(request, pk: int):
    invoice = _invoice_or_404(request, pk)
    try:
        services.invoice_delete(owner=request.user, invoice=invoice)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("books:invoice_detail", pk=invoice.pk)
    messages.success(request, "Draft deleted.")
    return redirect("books:invoices")


@login_required
@require_POST
def invoice_payment(request, pk: int):
    from micromarket.books.forms.invoices import minor_or_error

    def run(invoice, form):
        amount = minor_or_error(form, "amount", form.cleaned_data["amount"], invoice.currency)
        if amount is None:
            return False
        services.invoice_payment_record(
            owner=request.user,
            invoice=invoice,
            amount=amount,
            date=form.cleaned_data["date"],
            method=form.cleaned_data["method"],
            note=form.cleaned_data["note"],
        )

    return _action(
        request,
        pk,
        PaymentForm,
        "payment_form",
        run,
        "Payment recorded and added to your income.",
    )


@login_required
@require_POST
def invoice_payment_reverse(request, pk: int, payment_id: int):
    invoice = _invoice_or_404(request, pk)
    try:
        services.invoice_payment_reverse(
            owner=request.user, invoice_id=invoice.pk, payment_id=payment_id
        )
    except NotFound:
        raise Http404("There is no such payment.") from None
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, "Payment removed from the invoice and its income from your books."
        )
    return redirect("books:invoice_detail", pk=invoice.pk)


@login_required
def invoice_settings(request):
    form = InvoiceSettingsForm(
        request.POST or None, initial=selectors.invoice_settings(request.user)
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.invoice_settings_update(owner=request.user, **form.cleaned_data)
        except DomainError as exc:
            form_add_domain_error(form, exc)
        else:
            messages.success(request, "Your invoice details are saved.")
            return redirect("books:invoices")
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "books/invoices/settings.html",
        {"tab": "invoices", "form": form},
        status=status,
    )


@login_required
@require_POST
def invoice_recurring(request, pk: int):
    def run(invoice, form):
        cd = form.cleaned_data
        services.recurring_invoice_from_invoice(
            owner=request.user,
            invoice=invoice,
            frequency=cd["frequency"],
            next_date=cd["next_date"],
            end_date=cd.get("end_date"),
            send_automatically=cd.get("send_automatically", False),
        )

    return _action(
        request,
        pk,
        RecurringForm,
        "recurring_form",
        run,
        "This invoice will repeat on the schedule you chose.",
    )


@login_required
@require_POST
def recurring_stop(request, pk: int):
    try:
        services.recurring_invoice_stop(owner=request.user, recurring=pk)
    except NotFound:
        raise Http404("There is no such recurring invoice.") from None
    messages.success(request, "Recurring invoice stopped.")
    return redirect("books:invoices")


def _pdf_response(invoice: Invoice) -> FileResponse:
    data = invoice_pdf.invoice_pdf(invoice)
    name = f"invoice-{invoice.number or 'draft-' + str(invoice.pk)}.pdf"
    return FileResponse(
        io.BytesIO(data), as_attachment=True, filename=name, content_type="application/pdf"
    )


@login_required
def invoice_pdf_view(request, pk: int):
    return _pdf_response(_invoice_or_404(request, pk))


# --- the client's public page -------------------------------------------------------------


def _public_or_404(token: str) -> Invoice:
    try:
        return selectors.invoice_get_public(token)
    except NotFound:
        raise Http404("There is no such invoice.") from None


def invoice_public(request, token: str):
    invoice = _public_or_404(token)
    if request.user != invoice.owner:
        services.invoice_viewed(invoice=invoice)
    response = render(
        request,
        "books/invoices/public.html",
        {
            "invoice": invoice,
            "lines": list(invoice.lines.all()),
            "payments": list(invoice.payments.all()),
            "status_label": selectors.display_status_label(invoice),
            "overdue": selectors.is_overdue(invoice),
        },
    )
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response


def invoice_public_pdf(request, token: str):
    return _pdf_response(_public_or_404(token))


urlpatterns = [
    path("books/clients/", clients, name="clients"),
    path("books/clients/new/", client_new, name="client_new"),
    path("books/clients/<int:pk>/", client_edit, name="client_edit"),
    path("books/invoices/", invoices, name="invoices"),
    path("books/invoices/new/", invoice_new, name="invoice_new"),
    path("books/invoices/settings/", invoice_settings, name="invoice_settings"),
    path("books/invoices/<int:pk>/", invoice_detail, name="invoice_detail"),
    path("books/invoices/<int:pk>/edit/", invoice_edit, name="invoice_edit"),
    path("books/invoices/<int:pk>/lines/", invoice_line_add, name="invoice_line_add"),
    path(
        "books/invoices/<int:pk>/lines/<int:line_id>/delete/",
        invoice_line_delete,
        name="invoice_line_delete",
    ),
    path("books/invoices/<int:pk>/issue/", invoice_issue, name="invoice_issue"),
    path("books/invoices/<int:pk>/send/", invoice_send, name="invoice_send"),
    path("books/invoices/<int:pk>/void/", invoice_void, name="invoice_void"),
    path("books/invoices/<int:pk>/delete/", invoice_delete, name="invoice_delete"),
    path("books/invoices/<int:pk>/payments/", invoice_payment, name="invoice_payment"),
    path(
        "books/invoices/<int:pk>/payments/<int:payment_id>/reverse/",
        invoice_payment_reverse,
        name="invoice_payment_reverse",
    ),
    path("books/invoices/<int:pk>/repeat/", invoice_recurring, name="invoice_recurring"),
    path("books/invoices/<int:pk>/pdf/", invoice_pdf_view, name="invoice_pdf"),
    path("books/invoices/recurring/<int:pk>/stop/", recurring_stop, name="recurring_stop"),
    path("invoice/<str:token>/", invoice_public, name="invoice_public"),
    path("invoice/<str:token>/pdf/", invoice_public_pdf, name="invoice_public_pdf"),
]
