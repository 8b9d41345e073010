"""API of the invoices area: clients, invoices and their lines, issue/send, payments, void,
and the PDF. Everything is the caller's own: another seller's client or invoice is 404.
See docs/books/invoices.md."""

from __future__ import annotations

import io

from django.http import FileResponse, HttpRequest
from ninja import Router, Status
from ninja.pagination import paginate

from micromarket.books import invoice_pdf
from micromarket.books.models import Invoice
from micromarket.books.schemas.invoices import (
    ClientIn,
    ClientOut,
    ClientPatch,
    InvoiceDetailOut,
    InvoiceIn,
    InvoiceOut,
    InvoicePatch,
    InvoiceSettings,
    LineIn,
    LineOut,
    LinePatch,
    PaymentIn,
    PaymentOut,
    SendIn,
    VoidIn,
)
from micromarket.books.selectors import invoices as selectors
from micromarket.books.services import invoices as services
from micromarket.core.api import PROBLEM_RESPONSES, LimitOffsetPage

router = Router(tags=["books: invoices"])


def _out(invoice: Invoice, *, detail: bool = False) -> dict:
    body = {
        **{
            f: getattr(invoice, f)
            for f in (
                "id",
                "number",
                "client_id",
                "currency",
                "issue_date",
                "terms_days",
                "due_date",
                "notes",
                "discount_bps",
                "late_fee_bps",
                "late_fee_fixed",
                "subtotal",
                "discount_total",
                "tax_total",
                "total",
                "paid_total",
                "balance",
            )
        },
        "status": selectors.display_status(invoice),
        "public_url": None
        if invoice.status == Invoice.Status.DRAFT
        else services.public_url(invoice),
        "lines": list(invoice.lines.all()),
    }
    if detail:
        body["payments"] = list(invoice.payments.all())
        body["events"] = list(invoice.events.all())
    return body


# --- clients ------------------------------------------------------------------------------


@router.get("/clients", response=list[ClientOut], summary="Your clients")
@paginate(LimitOffsetPage)
def clients_list(request: HttpRequest, archived: bool = False):
    return selectors.clients_list(request.auth, include_archived=archived)


@router.post("/clients", response={201: ClientOut, **PROBLEM_RESPONSES}, summary="Add a client")
def client_create(request: HttpRequest, payload: ClientIn):
    return Status(201, services.client_create(owner=request.auth, **payload.dict()))


@router.get(
    "/clients/{client_id}",
    response={200: ClientOut, **PROBLEM_RESPONSES},
    summary="One of your clients",
)
def client_get(request: HttpRequest, client_id: int):
    return selectors.client_get(request.auth, client_id)


@router.patch(
    "/clients/{client_id}",
    response={200: ClientOut, **PROBLEM_RESPONSES},
    summary="Change a client (archived: true hides it from new invoices)",
)
def client_update(request: HttpRequest, client_id: int, payload: ClientPatch):
    changes = payload.dict(exclude_unset=True)
    archived = changes.pop("archived", None)
    client = selectors.client_get(request.auth, client_id)
    if changes:
        client = services.client_update(owner=request.auth, client=client, **changes)
    if archived is not None:
        client = services.client_archive(owner=request.auth, client=client, archived=archived)
    return client


# --- invoices -----------------------------------------------------------------------------


@router.get(
    "/invoices",
    response=list[InvoiceOut],
    summary="Your invoices",
    description="`status`: draft, sent, partly_paid, paid, void, open or overdue.",
)
@paginate(LimitOffsetPage)
def invoices_list(request: HttpRequest, status: str = "", client_id: int | None = None):
    qs = selectors.invoices_list(request.auth, status=status, client=client_id)
    return [_out(inv) for inv in qs.prefetch_related("lines")]


@router.post(
    "/invoices",
    response={201: InvoiceOut, **PROBLEM_RESPONSES},
    summary="Create a draft invoice (numbered when issued)",
)
def invoice_create(request: HttpRequest, payload: InvoiceIn):
    data = payload.dict()
    client_id = data.pop("client_id")
    lines = [line for line in data.pop("lines")]
    invoice = services.invoice_create(owner=request.auth, client=client_id, lines=lines, **data)
    return Status(201, _out(invoice))


@router.get(
    "/invoices/{invoice_id}",
    response={200: InvoiceDetailOut, **PROBLEM_RESPONSES},
    summary="One invoice with its lines, payments and history",
)
def invoice_get(request: HttpRequest, invoice_id: int):
    return _out(selectors.invoice_get(request.auth, invoice_id), detail=True)


@router.patch(
    "/invoices/{invoice_id}",
    response={200: InvoiceOut, **PROBLEM_RESPONSES},
    summary="Change a draft (409 `not_draft` once issued)",
)
def invoice_update(request: HttpRequest, invoice_id: int, payload: InvoicePatch):
    changes = payload.dict(exclude_unset=True)
    if "client_id" in changes:
        changes["client"] = changes.pop("client_id")
    invoice = services.invoice_update(owner=request.auth, invoice=invoice_id, **changes)
    return _out(invoice)


@router.delete(
    "/invoices/{invoice_id}",
    response={204: None, **PROBLEM_RESPONSES},
    summary="Delete a draft (an issued invoice is voided instead)",
)
def invoice_delete(request: HttpRequest, invoice_id: int):
    services.invoice_delete(owner=request.auth, invoice=invoice_id)
    return Status(204, None)


@router.post(
    "/invoices/{invoice_id}/lines",
    response={201: LineOut, **PROBLEM_RESPONSES},
    summary="Add a line to a draft",
)
def line_add(request: HttpRequest, invoice_id: int, payload: LineIn):
    line = services.invoice_line_add(owner=request.auth, invoice=invoice_id, **payload.dict())
    return Status(201, line)


@router.patch(
    "/invoices/{invoice_id}/lines/{line_id}",
    response={200: LineOut, **PROBLEM_RESPONSES},
    summary="Change a draft's line",
)
def line_update(request: HttpRequest, invoice_id: int, line_id: int, payload: LinePatch):
    return services.invoice_line_update(
        owner=request.auth,
        invoice=invoice_id,
        line_id=line_id,
        **payload.dict(exclude_unset=True),
    )


@router.delete(
    "/invoices/{invoice_id}/lines/{line_id}",
    response={204: None, **PROBLEM_RESPONSES},
    summary="Remove a draft's line",
)
def line_delete(request: HttpRequest, invoice_id: int, line_id: int):
    services.invoice_line_delete(owner=request.auth, invoice=invoice_id, line_id=line_id)
    return Status(204, None)


@router.post(
    "/invoices/{invoice_id}/issue",
    response={200: InvoiceOut, **PROBLEM_RESPONSES},
    summary="Issue a draft: it gets the next number of your sequence (no email)",
)
def invoice_issue(request: HttpRequest, invoice_id: int):
    return _out(services.invoice_issue(owner=request.auth, invoice=invoice_id))


@router.post(
    "/invoices/{invoice_id}/send",
    response={200: InvoiceOut, **PROBLEM_RESPONSES},
    summary="Issue if needed and email the client a link to the invoice's page",
)
def invoice_send(request: HttpRequest, invoice_id: int, payload: SendIn):
    return _out(
        services.invoice_send(owner=request.auth, invoice=invoice_id, message=payload.message)
    )


@router.post(
    "/invoices/{invoice_id}/void",
    response={200: InvoiceOut, **PROBLEM_RESPONSES},
    summary="Void an issued invoice (its number stays used)",
)
def invoice_void(request: HttpRequest, invoice_id: int, payload: VoidIn):
    return _out(
        services.invoice_void(owner=request.auth, invoice=invoice_id, reason=payload.reason)
    )


@router.get(
    "/invoices/{invoice_id}/payments",
    response={200: list[PaymentOut], **PROBLEM_RESPONSES},
    summary="Payments recorded for an invoice",
)
def payments_list(request: HttpRequest, invoice_id: int):
    return list(selectors.invoice_get(request.auth, invoice_id).payments.all())


@router.post(
    "/invoices/{invoice_id}/payments",
    response={201: PaymentOut, **PROBLEM_RESPONSES},
    summary="Record a payment (422 `overpayment` beyond the balance)",
    description="The payment is added to your books as income (direct clients).",
)
def payment_record(request: HttpRequest, invoice_id: int, payload: PaymentIn):
    payment = services.invoice_payment_record(
        owner=request.auth, invoice=invoice_id, **payload.dict()
    )
    return Status(201, payment)


@router.delete(
    "/invoices/{invoice_id}/payments/{payment_id}",
    response={200: InvoiceOut, **PROBLEM_RESPONSES},
    summary="Remove a payment recorded by mistake (and its income entry)",
    description="The paid total goes down and the status follows; logged in the history.",
)
def payment_reverse(request: HttpRequest, invoice_id: int, payment_id: int):
    invoice = services.invoice_payment_reverse(
        owner=request.auth, invoice_id=invoice_id, payment_id=payment_id
    )
    return _out(invoice)


@router.get("/invoice-settings", response=InvoiceSettings, summary="Your invoice details")
def invoice_settings_get(request: HttpRequest):
    return selectors.invoice_settings(request.auth)


@router.put(
    "/invoice-settings",
    response={200: InvoiceSettings, **PROBLEM_RESPONSES},
    summary="Change your invoice details (legal name, VAT number, business address)",
)
def invoice_settings_put(request: HttpRequest, payload: InvoiceSettings):
    services.invoice_settings_update(owner=request.auth, **payload.dict())
    return selectors.invoice_settings(request.auth)


@router.get(
    "/invoices/{invoice_id}/pdf",
    response={200: None, **PROBLEM_RESPONSES},
    summary="The invoice as a PDF with its Factur-X (EN 16931) XML embedded",
)
def invoice_pdf_get(request: HttpRequest, invoice_id: int):
    invoice = selectors.invoice_get(request.auth, invoice_id)
    name = f"invoice-{invoice.number or 'draft-' + str(invoice.pk)}.pdf"
    return FileResponse(
        io.BytesIO(invoice_pdf.invoice_pdf(invoice)),
        as_attachment=True,
        filename=name,
        content_type="application/pdf",
    )
