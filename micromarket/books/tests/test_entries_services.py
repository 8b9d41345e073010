"""The entries area's services: recording income and expenses (receipts checked by content),
the cross-area contract (idempotent on source_ref, income shared by the budget), platform
earnings copied from the ledger once each, mileage at the tax year's rate, recurring expenses
recorded once per occurrence."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from micromarket.books.models import Entry, LedgerSync, MileageTrip, RecurringExpense, TaxProfile
from micromarket.books.services import entries as services
from micromarket.books.tests.entries_helpers import (
    allocated,
    envelopes_total,
    pdf_upload,
    png_upload,
    released_order,
    tip,
)
from micromarket.catalog.tests.factories import seller as make_seller
from micromarket.core.errors import Conflict, NotFound, ValidationFailed

pytestmark = pytest.mark.django_db

D = date(2025, 3, 14)


def expense(owner, **kw):
    data = {
        "owner": owner,
        "kind": "expense",
        "date": D,
        "amount": 2_999,
        "currency": "USD",
        "category": "software",
        "payee": "Figma",
    }
    data.update(kw)
    return services.entry_create(**data)


# --- recording ----------------------------------------------------------------------------


def test_an_income_is_recorded_and_shared_between_the_envelopes():
    seller = make_seller()
    entry = services.entry_create(
        owner=seller,
        kind="income",
        date=D,
        amount=120_000,
        currency="USD",
        category="direct_clients",
        payee="Acme",
    )
    assert entry.source == "manual"
    assert allocated(entry) == 120_000  # the cents sum exactly to the income


def test_an_expense_with_a_pdf_or_image_receipt():
    seller = make_seller()
    with_pdf = expense(seller, receipt=pdf_upload())
    assert with_pdf.receipt_type == "application/pdf"
    assert with_pdf.receipt.read().startswith(b"%PDF-")
    with_photo = expense(seller, receipt=png_upload())
    assert with_photo.receipt_type == "image/webp"  # re-encoded: metadata gone
    assert allocated(with_pdf) == 0  # expenses are not shared between envelopes


@pytest.mark.parametrize(
    "content",
    [b"MZ\x90\x00 a program", b"just some text pretending", b"PK\x03\x04zipzip"],
)
def test_a_receipt_is_judged_by_its_content_not_its_name(content):
    seller = make_seller()
    fake = SimpleUploadedFile("receipt.pdf", content, content_type="application/pdf")
    with pytest.raises(ValidationFailed) as exc:
        expense(seller, receipt=fake)
    assert exc.value.field == "receipt"
    assert Entry.objects.count() == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount": 0}, "amount"),
        ({"amount": -5}, "amount"),
        ({"currency": "XYZ"}, "currency"),
        ({"category": "platform_sales"}, "category"),  # an income category on an expense
        ({"kind": "gift"}, "kind"),
        ({"date": date(1980, 1, 1)}, "date"),
        ({"payee": "x" * 201}, "payee"),
    ],
)
def test_bad_input_is_refused_on_its_field_and_nothing_is_written(change, field):
    seller = make_seller()
    with pytest.raises(ValidationFailed) as exc:
        expense(seller, **change)
    assert exc.value.field == field
    assert Entry.objects.count() == 0


def test_editing_an_income_re_shares_it_and_deleting_takes_the_shares_back():
    seller = make_seller()
    entry = services.entry_create(
        owner=seller, kind="income", date=D, amount=10_000, currency="USD", category="cash"
    )
    services.entry_update(owner=seller, entry_id=entry.pk, amount=8_000)
    entry.refresh_from_db()
    assert entry.amount == 8_000
    assert allocated(entry) - 2_000 == 8_000  # the shares stay; 20.00 was taken back
    assert envelopes_total(seller) == 8_000
    services.entry_update(owner=seller, entry_id=entry.pk, note="market stall")
    assert envelopes_total(seller) == 8_000
    services.entry_delete(owner=seller, entry_id=entry.pk)
    assert not Entry.objects.filter(pk=entry.pk).exists()
    assert envelopes_total(seller) == 0


def test_another_sellers_entry_does_not_exist_for_you():
    owner, other = make_seller(), make_seller()
    entry = expense(owner)
    with pytest.raises(NotFound):
        services.entry_update(owner=other, entry_id=entry.pk, amount=1)
    with pytest.raises(NotFound):
        services.entry_delete(owner=other, entry_id=entry.pk)
    entry.refresh_from_db()
    assert entry.amount == 2_999


# --- the cross-area contract --------------------------------------------------------------


def test_record_income_is_idempotent_on_source_ref_and_allocates_the_given_amount():
    seller = make_seller()
    kwargs = {
        "owner": seller,
        "date": D,
        "amount": 5_000,
        "currency": "USD",
        "category": "direct_clients",
        "payee": "Acme",
        "source": "invoice",
        "source_ref": "invoice_payment:7",
    }
    first = services.entry_record_income(**kwargs, allocate_amount=4_000)
    again = services.entry_record_income(**kwargs)
    assert again.pk == first.pk
    assert Entry.objects.count() == 1
    assert allocated(first) == 4_000


def test_record_expense_is_idempotent_on_source_ref():
    seller = make_seller()
    kwargs = {
        "owner": seller,
        "date": D,
        "amount": 900,
        "currency": "USD",
        "category": "bank_fees",
        "source": "import",
        "source_ref": "import:1:2",
    }
    assert services.entry_record_expense(**kwargs).pk == services.entry_record_expense(**kwargs).pk
    assert Entry.objects.count() == 1


def test_invoice_and_platform_entries_keep_their_amount_and_cannot_be_deleted_here():
    seller = make_seller()
    entry = services.entry_record_income(
        owner=seller,
        date=D,
        amount=5_000,
        currency="USD",
        category="direct_clients",
        source="invoice",
        source_ref="invoice_payment:1",
    )
    with pytest.raises(Conflict) as exc:
        services.entry_update(owner=seller, entry_id=entry.pk, amount=1)
    assert exc.value.code == "entry_locked"
    with pytest.raises(Conflict):
        services.entry_delete(owner=seller, entry_id=entry.pk)
    services.entry_update(owner=seller, entry_id=entry.pk, note="Paid by bank transfer")
    entry.refresh_from_db()
    assert (entry.amount, entry.note) == (5_000, "Paid by bank transfer")


# --- platform earnings --------------------------------------------------------------------


def test_a_release_becomes_the_gross_sale_and_the_commission_and_the_net_is_allocated():
    seller = make_seller()
    txn = released_order(seller, subtotal=10_000, fee=500, bps=1000)
    assert services.platform_income_sync() == 1
    income = Entry.objects.get(source_ref=f"ledger:{txn.pk}:income")
    fee = Entry.objects.get(source_ref=f"ledger:{txn.pk}:fee")
    assert (income.owner, income.kind, income.amount, income.category) == (
        seller,
        "income",
        10_000,  # what the buyer paid for the work; the buyer's service fee is not the seller's
        "platform_sales",
    )
    assert (fee.kind, fee.amount, fee.category) == ("expense", 1_000, "commissions_fees")
    assert allocated(income) == 9_000  # the net reached the seller


def test_a_split_settlement_counts_what_the_buyer_paid_after_the_refund():
    seller = make_seller()
    txn = released_order(seller, subtotal=10_000, fee=500, bps=1000, refund=4_000)
    services.platform_income_sync()
    income = Entry.objects.get(source_ref=f"ledger:{txn.pk}:income")
    fee = Entry.objects.get(source_ref=f"ledger:{txn.pk}:fee")
    assert (income.amount, fee.amount) == (6_000, 600)


def test_tips_are_income_in_their_own_category_with_the_platforms_share_as_a_fee():
    seller = make_seller()
    free = tip(seller, amount=500)
    shared = tip(seller, amount=1_000, platform_bps=1000)
    services.platform_income_sync()
    assert Entry.objects.get(source_ref=f"ledger:{free.pk}:income").category == "tips"
    assert not Entry.objects.filter(source_ref=f"ledger:{free.pk}:fee").exists()
    assert Entry.objects.get(source_ref=f"ledger:{shared.pk}:income").amount == 1_000
    assert Entry.objects.get(source_ref=f"ledger:{shared.pk}:fee").amount == 100


def test_a_second_sync_copies_nothing_again():
    seller = make_seller()
    released_order(seller)
    tip(seller)
    assert services.platform_income_sync() == 2
    count = Entry.objects.count()
    assert services.platform_income_sync() == 0
    assert services.platform_income_sync(owner=seller) == 0
    assert Entry.objects.count() == count


def test_a_sellers_page_sync_copies_only_their_earnings():
    one, two = make_seller(), make_seller()
    released_order(one)
    released_order(two)
    assert services.platform_income_sync(owner=one) == 1
    assert not Entry.objects.filter(owner=two).exists()
    assert services.platform_income_sync() == 1
    assert Entry.objects.filter(owner=two, kind="income").count() == 1


def test_the_cursor_only_passes_transactions_old_enough_to_be_settled():
    seller = make_seller()
    with time_machine.travel("2025-03-01 10:00:00Z"):
        old = released_order(seller)
    with time_machine.travel("2025-03-01 12:00:00Z"):
        released_order(seller)
        services.platform_income_sync()
    assert LedgerSync.objects.get().last_transaction_id == old.pk


def test_the_entry_date_is_the_release_day_in_the_sellers_time_zone():
    seller = make_seller(timezone="America/Los_Angeles")
    with time_machine.travel("2025-03-01 03:00:00Z"):  # still 28 February in California
        txn = released_order(seller)
    services.platform_income_sync()
    assert Entry.objects.get(source_ref=f"ledger:{txn.pk}:income").date == date(2025, 2, 28)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_syncs_racing_copy_each_release_once():
    from micromarket.core.tests.concurrency import race

    seller = make_seller()
    txns = [released_order(seller) for _ in range(3)]
    outcomes = race(2, lambda i: services.platform_income_sync())
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    assert sum(outcomes) == 3
    for txn in txns:
        income = Entry.objects.get(source_ref=f"ledger:{txn.pk}:income")
        assert allocated(income) == 9_000
        assert Entry.objects.filter(source_ref=f"ledger:{txn.pk}:fee").count() == 1
    assert Entry.objects.count() == 6


# --- mileage ------------------------------------------------------------------------------


def test_a_us_trip_is_deducted_at_the_irs_rate_of_its_year():
    seller = make_seller()
    trip = services.mileage_trip_create(
        owner=seller, date=D, distance=Decimal("42.5"), purpose="Client workshop"
    )
    assert (trip.rate, trip.rate_scale, trip.currency) == (700, 10, "USD")  # 70¢ in 2025
    assert trip.entry.amount == 2_975  # 42.5 × 70¢
    assert (trip.entry.category, trip.entry.source) == ("car_truck", "mileage")


def test_kilometres_are_converted_to_miles():
    seller = make_seller()
    trip = services.mileage_trip_create(
        owner=seller, date=D, distance="100", unit="km", purpose="Supplier visit"
    )
    assert trip.entry.amount == 4_350  # 62.137 mi × 70¢ = 43.496 → 43.50


def test_uk_trips_pay_45p_for_the_first_10000_miles_of_the_tax_year_then_25p():
    seller = make_seller()
    TaxProfile.objects.create(owner=seller, country="UK")
    first = services.mileage_trip_create(
        owner=seller, date=date(2025, 5, 1), distance=10_000, purpose="Deliveries"
    )
    after = services.mileage_trip_create(
        owner=seller, date=date(2025, 6, 1), distance=100, purpose="Deliveries"
    )
    new_year = services.mileage_trip_create(
        owner=seller, date=date(2026, 4, 6), distance=100, purpose="Deliveries"
    )
    assert (first.currency, first.entry.amount) == ("GBP", 450_000)
    assert after.entry.amount == 2_500
    assert new_year.entry.amount == 4_500  # a new tax year starts on 6 April


def test_a_trip_needs_a_purpose_and_a_distance():
    seller = make_seller()
    with pytest.raises(ValidationFailed) as exc:
        services.mileage_trip_create(owner=seller, date=D, distance=10, purpose="  ")
    assert exc.value.field == "purpose"
    with pytest.raises(ValidationFailed) as exc:
        services.mileage_trip_create(owner=seller, date=D, distance=0, purpose="x")
    assert exc.value.field == "distance"
    assert not MileageTrip.objects.exists()
    assert not Entry.objects.exists()


def test_removing_a_trip_removes_its_deduction_and_only_the_owner_can():
    seller, other = make_seller(), make_seller()
    trip = services.mileage_trip_create(owner=seller, date=D, distance=10, purpose="Bank")
    with pytest.raises(NotFound):
        services.mileage_trip_delete(owner=other, trip_id=trip.pk)
    with pytest.raises(Conflict):
        services.entry_delete(owner=seller, entry_id=trip.entry_id)
    services.mileage_trip_delete(owner=seller, trip_id=trip.pk)
    assert not Entry.objects.exists()


# --- recurring ----------------------------------------------------------------------------


def test_each_occurrence_is_recorded_once_and_month_ends_are_kept():
    seller = make_seller()
    item = services.recurring_expense_create(
        owner=seller,
        payee="Coworking",
        amount=25_000,
        currency="USD",
        category="rent",
        frequency="monthly",
        start_date=date(2025, 1, 31),
    )
    assert services.recurring_expenses_record_due(today=date(2025, 1, 30)) == 0
    assert services.recurring_expenses_record_due(today=date(2025, 3, 31)) == 3
    assert services.recurring_expenses_record_due(today=date(2025, 3, 31)) == 0
    dates = sorted(Entry.objects.filter(owner=seller).values_list("date", flat=True))
    assert dates == [date(2025, 1, 31), date(2025, 2, 28), date(2025, 3, 31)]
    item.refresh_from_db()
    assert item.next_date == date(2025, 4, 30)


def test_a_stopped_or_ended_recurring_expense_records_nothing_more():
    seller = make_seller()
    weekly = services.recurring_expense_create(
        owner=seller,
        payee="Cleaner",
        amount=4_000,
        currency="USD",
        category="office",
        frequency="weekly",
        start_date=date(2025, 1, 1),
        end_date=date(2025, 1, 10),
    )
    yearly = services.recurring_expense_create(
        owner=seller,
        payee="Domain",
        amount=1_500,
        currency="USD",
        category="software",
        frequency="yearly",
        start_date=date(2025, 2, 1),
    )
    services.recurring_expense_stop(owner=seller, recurring_id=yearly.pk)
    assert services.recurring_expenses_record_due(today=date(2025, 6, 1)) == 2  # 1 and 8 Jan
    weekly.refresh_from_db()
    assert weekly.active is False
    assert RecurringExpense.objects.filter(active=True).count() == 0


def test_the_recurring_job_runs_through_the_sweeper_registry():
    from micromarket.books import jobs

    seller = make_seller()
    services.recurring_expense_create(
        owner=seller,
        payee="Phone",
        amount=3_000,
        currency="USD",
        category="utilities",
        frequency="monthly",
        start_date=date(2025, 1, 5),
    )
    with time_machine.travel("2025-02-10 12:00:00Z"):
        from django.utils import timezone

        assert jobs.recurring_expenses(now=timezone.now()) == 2
        assert jobs.recurring_expenses(now=timezone.now()) == 0
