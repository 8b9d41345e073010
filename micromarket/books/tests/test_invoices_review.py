"""Invoices, review fixes: late fees outside the discount with a Factur-X XML that adds up from
its own lines, the EN 16931 tax categories (S needs the seller's VAT number, O without one),
reversing a mistaken payment, the seller's local day in the jobs, currency changes, voiding
unbilling the time, rates shown as typed, reminders only to emailed clients, monthly anchors."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import facturx
import pytest
import time_machine
from django.core import mail
from django.template import Context, Template
from lxml import etree

from micromarket.books import invoice_pdf
from micromarket.books.models import Entry, EnvelopeMovement, Invoice, InvoicePayment, TimeEntry
from micromarket.books.services import invoices as services
from micromarket.catalog.tests.factories import seller as make_seller
from micromarket.core.errors import Conflict, NotFound, ValidationFailed
from micromarket.messaging.models import Notification

pytestmark = pytest.mark.django_db

D = Decimal


def make_client(owner, **kw):
    fields = {"name": "Acme Studio", "email": "ap@acme.example", "currency": "EUR"}
    fields.update(kw)
    return services.client_create(owner=owner, **fields)


def issued(owner, lines=None, **kw):
    lines = lines or [{"description": "Logo design", "quantity": "1", "unit_price": 50000}]
    invoice = services.invoice_create(owner=owner, client=make_client(owner), lines=lines, **kw)
    return services.invoice_issue(owner=owner, invoice=invoice, today=date(2026, 3, 1))


def _amount(node, path) -> Decimal:
    return D(node.find(path).text)


# --- 3. late fee outside the discount; the XML adds up from its own lines -----------------


def test_factur_x_totals_recompute_from_its_own_lines_with_discount_late_fee_and_two_rates():
    owner = make_seller()
    services.invoice_settings_update(owner=owner, vat_id="FR12345678901")
    invoice = issued(
        owner,
        lines=[
            {"description": "Design", "quantity": "3", "unit_price": 3333, "tax_rate_bps": 2000},
            {"description": "Books", "quantity": "1", "unit_price": 9990, "tax_rate_bps": 0},
            {"description": "Hosting", "quantity": "1", "unit_price": 1999, "tax_rate_bps": 550},
        ],
        discount_bps=1000,
        late_fee_fixed=1000,
    )
    assert services.invoices_apply_late_fees(now=datetime(2026, 3, 20, 12, tzinfo=UTC)) == 1
    invoice.refresh_from_db()
    fee = invoice.lines.get(is_late_fee=True)
    assert fee.amount == 1000
    # The 0% group holds the books (99.90) and the fee (10.00): the discount is 10% of 99.90.
    assert invoice.discount_total == 1000 + 999 + 200  # 99.99→10.00, 99.90→9.99, 19.99→2.00
    root = etree.fromstring(invoice_pdf.invoice_xml(invoice))
    assert facturx.xml_check_xsd(etree.tostring(root), flavor="factur-x", level="en16931")
    lines = root.findall(".//{*}IncludedSupplyChainTradeLineItem")
    line_sum = sum(_amount(ln, ".//{*}LineTotalAmount") for ln in lines)
    allowances = root.findall(
        ".//{*}ApplicableHeaderTradeSettlement/{*}SpecifiedTradeAllowanceCharge"
    )
    allowance_sum = D(0)
    for al in allowances:
        basis = _amount(al, "{*}BasisAmount")
        percent = _amount(al, "{*}CalculationPercent")
        actual = _amount(al, "{*}ActualAmount")
        assert (basis * percent / 100).quantize(D("0.01")) == actual  # 99.90 × 10% = 9.99
        allowance_sum += actual
    breakdowns = root.findall(".//{*}ApplicableHeaderTradeSettlement/{*}ApplicableTradeTax")
    tax_sum = D(0)
    for bd in breakdowns:
        rate = bd.find("{*}RateApplicablePercent")
        basis = _amount(bd, "{*}BasisAmount")
        tax = _amount(bd, "{*}CalculatedAmount")
        assert (basis * D(rate.text) / 100).quantize(D("0.01")) == tax
        tax_sum += tax
    assert sum(_amount(bd, "{*}BasisAmount") for bd in breakdowns) == line_sum - allowance_sum
    head = root.find(".//{*}SpecifiedTradeSettlementHeaderMonetarySummation")
    assert _amount(head, "{*}LineTotalAmount") == line_sum
    assert _amount(head, "{*}AllowanceTotalAmount") == allowance_sum
    assert _amount(head, "{*}TaxBasisTotalAmount") == line_sum - allowance_sum
    assert _amount(head, "{*}TaxTotalAmount") == tax_sum
    grand = _amount(head, "{*}GrandTotalAmount")
    assert grand == line_sum - allowance_sum + tax_sum
    assert grand == D(invoice.total) / 100


def test_a_line_that_only_looks_like_a_fee_is_discounted_like_any_other():
    owner = make_seller()
    invoice = issued(
        owner,
        lines=[{"description": "Late fee (for a rush job)", "quantity": "1", "unit_price": 10000}],
        discount_bps=1000,
    )
    assert (invoice.discount_total, invoice.total) == (1000, 9000)


# --- 4. tax categories and the seller's VAT number ----------------------------------------


def _categories(invoice) -> set[str]:
    root = etree.fromstring(invoice_pdf.invoice_xml(invoice))
    return {e.text for e in root.iterfind(".//{*}CategoryCode")}, root


def test_vat_cannot_be_charged_without_the_sellers_vat_number():
    owner = make_seller()
    invoice = services.invoice_create(
        owner=owner,
        client=make_client(owner),
        lines=[{"description": "Design", "unit_price": 10000, "tax_rate_bps": 2000}],
    )
    with pytest.raises(ValidationFailed) as exc:
        services.invoice_issue(owner=owner, invoice=invoice)
    assert exc.value.code == "seller_vat_id_missing"
    assert "VAT number" in exc.value.message
    invoice.refresh_from_db()
    assert (invoice.status, invoice.number) == ("draft", "")
    services.invoice_settings_update(owner=owner, legal_name="Ada Design SARL", vat_id="FR1234")
    invoice = services.invoice_issue(owner=owner, invoice=invoice)
    cats, root = _categories(invoice)
    assert cats == {"S"}
    seller = root.find(".//{*}SellerTradeParty")
    assert seller.find("{*}Name").text == "Ada Design SARL"
    reg = seller.find("{*}SpecifiedTaxRegistration/{*}ID")
    assert (reg.get("schemeID"), reg.text) == ("VA", "FR1234")


def test_a_us_seller_without_vat_number_invoices_not_subject_to_vat():
    owner = make_seller()
    client = make_client(owner, vat_id="FR40303265045", currency="USD")
    invoice = services.invoice_create(
        owner=owner, client=client, lines=[{"description": "Design", "unit_price": 10000}]
    )
    invoice = services.invoice_issue(owner=owner, invoice=invoice, today=date(2026, 3, 1))
    cats, root = _categories(invoice)
    assert cats == {"O"}
    breakdown = root.find(".//{*}ApplicableHeaderTradeSettlement/{*}ApplicableTradeTax")
    assert breakdown.find("{*}ExemptionReason").text == "Not subject to VAT"
    assert breakdown.find("{*}RateApplicablePercent") is None
    assert root.find(".//{*}SpecifiedTaxRegistration") is None  # BR-O-02
    assert facturx.xml_check_xsd(etree.tostring(root), flavor="factur-x", level="en16931")


def test_zero_rated_only_with_a_vat_number():
    owner = make_seller()
    services.invoice_settings_update(owner=owner, vat_id="GB123456789")
    invoice = issued(owner)
    cats, root = _categories(invoice)
    assert cats == {"Z"}
    assert facturx.xml_check_xsd(etree.tostring(root), flavor="factur-x", level="en16931")


# --- 5. a mistaken payment is reversed ----------------------------------------------------


def test_a_mistaken_payment_is_reversed_with_its_income_entry():
    owner = make_seller()
    invoice = issued(owner)
    first = services.invoice_payment_record(owner=owner, invoice=invoice, amount=20000)
    second = services.invoice_payment_record(owner=owner, invoice=invoice, amount=30000)
    invoice.refresh_from_db()
    assert invoice.status == "paid"
    entry_id = second.entry_id
    assert EnvelopeMovement.objects.filter(entry_id=entry_id).exists()
    invoice = services.invoice_payment_reverse(
        owner=owner, invoice_id=invoice.pk, payment_id=second.pk
    )
    assert (invoice.status, invoice.paid_total, invoice.balance) == ("partly_paid", 20000, 30000)
    assert not Entry.objects.filter(pk=entry_id).exists()
    assert not EnvelopeMovement.objects.filter(entry_id=entry_id).exists()
    assert list(InvoicePayment.objects.values_list("pk", flat=True)) == [first.pk]
    assert invoice.events.last().kind == "payment_reversed"
    services.invoice_payment_reverse(owner=owner, invoice_id=invoice.pk, payment_id=first.pk)
    invoice.refresh_from_db()
    assert (invoice.status, invoice.paid_total) == ("sent", 0)
    assert not Entry.objects.filter(owner=owner).exists()
    services.invoice_void(owner=owner, invoice=invoice)  # now it can be voided


def test_another_seller_cannot_reverse_a_payment():
    owner = make_seller()
    invoice = issued(owner)
    payment = services.invoice_payment_record(owner=owner, invoice=invoice, amount=1000)
    other = make_seller()
    with pytest.raises(NotFound):
        services.invoice_payment_reverse(owner=other, invoice_id=invoice.pk, payment_id=payment.pk)
    other_invoice = issued(other)
    with pytest.raises(NotFound):
        services.invoice_payment_reverse(
            owner=other, invoice_id=other_invoice.pk, payment_id=payment.pk
        )
    invoice.refresh_from_db()
    assert invoice.paid_total == 1000
    assert Entry.objects.filter(pk=payment.entry_id).exists()


# --- 6. the seller's own day --------------------------------------------------------------


def _la_seller():
    owner = make_seller()
    owner.timezone = "America/Los_Angeles"
    owner.save(update_fields=["timezone"])
    return owner


def test_no_late_fee_on_the_due_date_itself_in_the_sellers_time_zone():
    owner = _la_seller()
    invoice = issued(owner, late_fee_fixed=1000, terms_days=14)  # due 15 March
    # 23:30 UTC on 15 March is 16:30 (PDT) on 15 March in Los Angeles: still the due date.
    with time_machine.travel(datetime(2026, 3, 15, 23, 30, tzinfo=UTC), tick=False):
        late_utc_day = datetime(2026, 3, 16, 6, 30, tzinfo=UTC)  # 23:30 on the 15th in LA
        assert services.invoices_apply_late_fees(now=datetime.now(UTC)) == 0
        assert services.invoices_apply_late_fees(now=late_utc_day) == 0
    invoice.refresh_from_db()
    assert invoice.late_fee_applied_at is None
    assert not invoice.lines.filter(is_late_fee=True).exists()
    # 08:00 UTC on the 16th is 01:00 on the 16th in Los Angeles: now it is late.
    assert services.invoices_apply_late_fees(now=datetime(2026, 3, 16, 8, tzinfo=UTC)) == 1


def test_reminders_and_recurring_invoices_follow_the_sellers_day():
    owner = _la_seller()
    invoice = issued(owner, terms_days=14)  # due 15 March
    # 23:30 UTC on 15 March = the due date in LA: no "overdue" reminder yet.
    assert services.invoices_send_reminders(now=datetime(2026, 3, 16, 6, 30, tzinfo=UTC)) == 0
    assert not invoice.events.filter(kind="reminder_after_1").exists()
    assert services.invoices_send_reminders(now=datetime(2026, 3, 16, 8, tzinfo=UTC)) == 1
    assert invoice.events.filter(kind="reminder_after_1").exists()
    services.recurring_invoice_create(
        owner=owner,
        client=invoice.client,
        lines=[{"description": "Retainer", "unit_price": 1000}],
        frequency="monthly",
        next_date=date(2026, 4, 1),
        send_automatically=False,
    )
    # 1 April 03:00 UTC is still 31 March in Los Angeles.
    assert services.recurring_invoices_run(now=datetime(2026, 4, 1, 3, tzinfo=UTC)) == 0
    assert services.recurring_invoices_run(now=datetime(2026, 4, 1, 8, tzinfo=UTC)) == 1


def test_time_lines_are_dated_in_the_sellers_day():
    owner = _la_seller()
    client = make_client(owner, default_rate=6000, currency="USD")
    start = datetime(2026, 3, 3, 2, tzinfo=UTC)  # 18:00 on 2 March in Los Angeles
    entry = TimeEntry.objects.create(
        owner=owner,
        client=client,
        description="Evening call",
        started_at=start,
        ended_at=start + timedelta(hours=1),
        duration_seconds=3600,
        currency="USD",
    )
    invoice = services.invoice_create(owner=owner, client=client)
    (line,) = services.invoice_add_time_lines(owner=owner, invoice=invoice, time_entries=[entry])
    assert line.description == "Evening call (2026-03-02)"


# --- 7. currency change on a draft with lines ---------------------------------------------


def test_currency_cannot_change_on_a_draft_with_lines():
    owner = make_seller()
    invoice = services.invoice_create(
        owner=owner, client=make_client(owner), lines=[{"description": "x", "unit_price": 100}]
    )
    with pytest.raises(Conflict) as exc:
        services.invoice_update(owner=owner, invoice=invoice, currency="JPY")
    assert exc.value.code == "currency_has_lines"
    invoice.refresh_from_db()
    assert invoice.currency == "EUR"
    empty = services.invoice_create(owner=owner, client=invoice.client)
    assert services.invoice_update(owner=owner, invoice=empty, currency="JPY").currency == "JPY"


# --- 8. voiding unbills the time ----------------------------------------------------------


def test_voiding_an_invoice_makes_its_time_unbilled_again():
    owner = make_seller()
    client = make_client(owner, default_rate=6000)
    start = datetime(2026, 3, 2, 9, tzinfo=UTC)
    entry = TimeEntry.objects.create(
        owner=owner,
        client=client,
        description="Design",
        started_at=start,
        ended_at=start + timedelta(hours=2),
        duration_seconds=7200,
        currency="EUR",
    )
    invoice = services.invoice_create(owner=owner, client=client)
    services.invoice_add_time_lines(owner=owner, invoice=invoice, time_entries=[entry])
    services.invoice_issue(owner=owner, invoice=invoice)
    services.invoice_void(owner=owner, invoice=invoice, reason="Wrong client")
    entry.refresh_from_db()
    assert entry.invoice_line_id is None
    again = services.invoice_create(owner=owner, client=client)
    (line,) = services.invoice_add_time_lines(owner=owner, invoice=again, time_entries=[entry])
    assert line.quantity == 2


# --- 9. rates as typed --------------------------------------------------------------------


def test_rates_show_their_decimals():
    rendered = Template(
        "{% load books_invoices %}{{ a|bps_percent }} {{ b|bps_percent }} {{ c|bps_percent }} "
        "{{ d|bps_percent }}"
    ).render(Context({"a": 550, "b": 725, "c": 2000, "d": 0}))
    assert rendered == "5.5% 7.25% 20% 0%"


# --- 10. reminders only to clients who were emailed the invoice ---------------------------


def test_no_reminder_email_to_the_client_of_an_invoice_issued_without_email(
    django_capture_on_commit_callbacks,
):
    owner = make_seller()
    invoice = issued(owner, terms_days=14)  # issued without emailing
    with django_capture_on_commit_callbacks(execute=True):
        assert services.invoices_send_reminders(now=datetime(2026, 3, 16, 9, tzinfo=UTC)) == 1
    assert not [m for m in mail.outbox if m.to == ["ap@acme.example"]]
    note = Notification.objects.get(user=owner, category="books")
    assert "overdue" in note.title
    assert "without emailing" in note.body
    assert invoice.events.filter(kind="reminder_after_1").exists()


# --- 13. monthly recurring invoices keep their day ----------------------------------------


def test_monthly_recurring_invoices_keep_the_31st():
    owner = make_seller()
    recurring = services.recurring_invoice_create(
        owner=owner,
        client=make_client(owner),
        lines=[{"description": "Retainer", "unit_price": 1000}],
        frequency="monthly",
        next_date=date(2026, 1, 31),
        send_automatically=False,
    )
    assert services.recurring_invoices_run(now=datetime(2026, 4, 1, 12, tzinfo=UTC)) == 3
    dates = sorted(
        Invoice.objects.filter(recurring=recurring).values_list("recurring_date", flat=True)
    )
    assert dates == [date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31)]
    recurring.refresh_from_db()
    assert recurring.next_date == date(2026, 4, 30)
