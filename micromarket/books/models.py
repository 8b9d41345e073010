"""The seller's back office: books, budget envelopes, tax profile, invoices and time.

Every table belongs to one area (docs/books.md, decision 0010):
- entries: ``Entry`` (income and expenses, platform earnings included), ``MileageTrip``,
  ``RecurringExpense``, ``ImportBatch``, ``LedgerSync``
- budget: ``Envelope``, ``EnvelopeMovement``
- tax: ``TaxProfile``, ``TaxPayment``, ``TaxReminder``
- invoices: ``Client``, ``InvoiceSequence``, ``Invoice``, ``InvoiceLine``, ``InvoicePayment``,
  ``InvoiceEvent``, ``RecurringInvoice``
- time: ``TimeEntry``

Money is integer minor units with a currency, as everywhere (docs/money.md). The books are a
record of the seller's business, not a ledger of money the platform holds: nothing here moves
money; platform earnings are *copied* from ledger transactions, once each.
"""

from __future__ import annotations

from django.conf import settings
from django.core.files.storage import storages
from django.db import models
from django.db.models import Q
from django.utils.timezone import now

USER = settings.AUTH_USER_MODEL


def private_storage():
    """Receipts and invoice PDFs: served only by permission-checked views."""
    return storages["private"]


# --- entries ------------------------------------------------------------------------------


class Entry(models.Model):
    """One line of the seller's books: income or an expense, in one currency.

    ``amount`` is always positive; ``kind`` gives the direction. ``source`` says where it came
    from; ``source_ref`` identifies the origin so it is recorded once (a ledger transaction,
    an invoice payment, a recurring expense's occurrence, a mileage trip).
    """

    class Kind(models.TextChoices):
        INCOME = "income", "Income"
        EXPENSE = "expense", "Expense"

    class Source(models.TextChoices):
        MANUAL = "manual", "Entered by hand"
        PLATFORM = "platform", "micromarket earnings"
        IMPORT = "import", "Imported"
        RECURRING = "recurring", "Recurring expense"
        MILEAGE = "mileage", "Mileage log"
        INVOICE = "invoice", "Invoice payment"

    owner = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="book_entries")
    kind = models.CharField(max_length=7, choices=Kind.choices)
    date = models.DateField()
    amount = models.BigIntegerField()  # minor units, > 0
    currency = models.CharField(max_length=3)
    payee = models.CharField(max_length=200, blank=True)  # payer for income
    category = models.CharField(max_length=40)  # books.categories key
    note = models.CharField(max_length=500, blank=True)
    receipt = models.FileField(upload_to="receipts/%Y/%m/", storage=private_storage, blank=True)
    receipt_type = models.CharField(max_length=60, blank=True)  # sniffed content type
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.MANUAL)
    # "ledger:<transaction id>:<part>", "invoice_payment:<id>", "recurring:<id>:<date>",
    # "mileage:<id>", "import:<batch id>:<line>"; "" for manual entries.
    source_ref = models.CharField(max_length=120, blank=True)
    # Normalised (date, amount, currency, payee) hash for duplicate detection on import.
    fingerprint = models.CharField(max_length=64, db_index=True)
    import_batch = models.ForeignKey(
        "ImportBatch", null=True, blank=True, on_delete=models.SET_NULL, related_name="entries"
    )
    created_at = models.DateTimeField(default=now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-date", "-id"]
        indexes = [
            models.Index(fields=["owner", "date"], name="books_entry_owner_date"),
            models.Index(fields=["owner", "kind", "category"], name="books_entry_owner_cat"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="books_entry_amount_positive"),
            models.UniqueConstraint(
                fields=["owner", "source_ref"],
                condition=~Q(source_ref=""),
                name="books_entry_source_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount} {self.currency} on {self.date}"


class LedgerSync(models.Model):
    """How far the books have copied platform earnings from the ledger (one row).

    The copy is idempotent on its own (``Entry.source_ref`` is unique per owner); the cursor
    only saves re-reading old transactions."""

    key = models.CharField(max_length=20, unique=True, default="platform")
    last_transaction_id = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)


class MileageTrip(models.Model):
    """A business trip by car; its deduction is the tax year's standard mileage rate × miles
    (recorded as an expense entry in category ``car_truck``)."""

    owner = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="mileage_trips")
    date = models.DateField()
    distance = models.DecimalField(max_digits=8, decimal_places=1)
    unit = models.CharField(max_length=2, default="mi")  # "mi" or "km"
    origin = models.CharField(max_length=200, blank=True)
    destination = models.CharField(max_length=200, blank=True)
    purpose = models.CharField(max_length=300)
    rate = models.BigIntegerField()  # minor units per unit of distance, tenths of a cent kept
    rate_scale = models.PositiveSmallIntegerField(default=10)  # rate is in 1/scale minor units
    currency = models.CharField(max_length=3)
    entry = models.OneToOneField(
        Entry, null=True, blank=True, on_delete=models.SET_NULL, related_name="mileage_trip"
    )
    created_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["-date", "-id"]


class RecurringExpense(models.Model):
    """An expense that repeats (rent, software); the sweeper records each occurrence once."""

    class Frequency(models.TextChoices):
        WEEKLY = "weekly", "Every week"
        MONTHLY = "monthly", "Every month"
        QUARTERLY = "quarterly", "Every quarter"
        YEARLY = "yearly", "Every year"

    owner = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="recurring_expenses")
    payee = models.CharField(max_length=200)
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    category = models.CharField(max_length=40)
    note = models.CharField(max_length=500, blank=True)
    frequency = models.CharField(max_length=10, choices=Frequency.choices)
    start_date = models.DateField()
    next_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["next_date", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="books_recurring_positive"),
        ]


class ImportBatch(models.Model):
    """One CSV or OFX/QFX file imported in full (or not at all)."""

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        OFX = "ofx", "OFX/QFX"

    owner = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="book_imports")
    format = models.CharField(max_length=3, choices=Format.choices)
    filename = models.CharField(max_length=200)
    sha256 = models.CharField(max_length=64)
    mapping = models.JSONField(default=dict, blank=True)  # CSV column mapping used
    rows = models.PositiveIntegerField(default=0)
    imported = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["-created_at", "-id"]


# --- budget -------------------------------------------------------------------------------


class Envelope(models.Model):
    """A share of every income: taxes, business expenses, emergency fund, owner pay …

    ``percent_bps`` are basis points (2500 = 25%); a seller's envelopes total 10000."""

    class Role(models.TextChoices):
        TAXES = "taxes", "Taxes"
        EXPENSES = "expenses", "Business expenses"
        EMERGENCY = "emergency", "Emergency fund"
        OWNER_PAY = "owner_pay", "Owner pay"
        OTHER = "other", "Other"

    owner = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="envelopes")
    name = models.CharField(max_length=60)
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.OTHER)
    percent_bps = models.PositiveIntegerField()
    position = models.PositiveSmallIntegerField(default=0)
    archived_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(percent_bps__lte=10000), name="books_envelope_percent_max"
            ),
        ]


class EnvelopeMovement(models.Model):
    """A change to one envelope's balance: an allocation of income, a move, spending.

    Balances are sums of movements per (envelope, currency), never negative (checked under the
    envelope's row lock)."""

    class Kind(models.TextChoices):
        ALLOCATION = "allocation", "Share of income"
        MOVE_IN = "move_in", "Moved in"
        MOVE_OUT = "move_out", "Moved out"
        SPEND = "spend", "Spent"
        REVERSAL = "reversal", "Income removed"

    envelope = models.ForeignKey(Envelope, on_delete=models.CASCADE, related_name="movements")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    amount = models.BigIntegerField()  # signed, minor units
    currency = models.CharField(max_length=3)
    entry = models.ForeignKey(
        Entry, null=True, blank=True, on_delete=models.SET_NULL, related_name="allocations"
    )
    # The other envelope of a move, so the pair reads as one event in the history.
    counterpart = models.ForeignKey(
        Envelope, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="books_movement_not_zero"),
            models.UniqueConstraint(
                fields=["envelope", "entry"],
                condition=Q(kind="allocation"),
                name="books_movement_allocate_once",
            ),
        ]


# --- tax ----------------------------------------------------------------------------------


class TaxProfile(models.Model):
    """What the tax estimate needs beyond the books (docs/books.md#tax)."""

    class Country(models.TextChoices):
        US = "US", "United States (federal)"
        UK = "UK", "United Kingdom (England, Wales, Northern Ireland)"

    class FilingStatus(models.TextChoices):
        SINGLE = "single", "Single"
        MFJ = "mfj", "Married filing jointly"
        MFS = "mfs", "Married filing separately"
        HOH = "hoh", "Head of household"

    owner = models.OneToOneField(USER, on_delete=models.CASCADE, related_name="tax_profile")
    country = models.CharField(max_length=2, choices=Country.choices, default=Country.US)
    # US
    filing_status = models.CharField(
        max_length=6, choices=FilingStatus.choices, default=FilingStatus.SINGLE
    )
    other_wages = models.BigIntegerField(default=0)  # W-2 wages this year, cents
    withholding = models.BigIntegerField(default=0)  # federal tax withheld from them, cents
    prior_year_tax = models.BigIntegerField(null=True, blank=True)  # last year's total tax
    prior_year_agi = models.BigIntegerField(null=True, blank=True)
    prior_year_full_year = models.BooleanField(default=True)  # last year's return covered 12 mo.
    # UK
    uk_other_income = models.BigIntegerField(default=0)  # employment etc., pence
    uk_tax_deducted = models.BigIntegerField(default=0)  # PAYE already deducted, pence
    uk_last_year_bill = models.BigIntegerField(null=True, blank=True)  # for payments on account
    uk_last_year_collected_at_source = models.BigIntegerField(default=0)
    reminder_days = models.PositiveSmallIntegerField(default=7)  # days before a due date
    # Invoices: who the seller is on their invoices (the Factur-X seller party).
    legal_name = models.CharField(max_length=200, blank=True)  # blank: the account's name
    vat_id = models.CharField(max_length=40, blank=True)  # VAT registration number, if any
    business_address = models.TextField(max_length=1000, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    @property
    def currency(self) -> str:
        return "GBP" if self.country == self.Country.UK else "USD"


class TaxPayment(models.Model):
    """An estimated-tax payment the seller made (the estimate subtracts them)."""

    owner = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="tax_payments")
    country = models.CharField(max_length=2, choices=TaxProfile.Country.choices)
    tax_year = models.PositiveSmallIntegerField()  # US calendar year; UK year it starts in
    period = models.CharField(max_length=12)  # "Q1".."Q4", "POA1", "POA2", "balancing"
    date = models.DateField()
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["-date", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="books_taxpayment_positive"),
        ]


class TaxReminder(models.Model):
    """A reminder sent for one due date (so each is sent once)."""

    owner = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+")
    due_date = models.DateField()
    period = models.CharField(max_length=12)
    sent_at = models.DateTimeField(default=now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "due_date", "period"], name="books_tax_reminder_once"
            ),
        ]


# --- invoices -----------------------------------------------------------------------------


class Client(models.Model):
    """A direct client of the seller (outside the marketplace)."""

    owner = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="book_clients")
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    address = models.TextField(max_length=1000, blank=True)
    city = models.CharField(max_length=100, blank=True)
    postcode = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=2, blank=True)  # ISO 3166-1 alpha-2
    vat_id = models.CharField(max_length=40, blank=True)
    company_id = models.CharField(max_length=40, blank=True)  # trade register / EIN …
    currency = models.CharField(max_length=3, default="USD")
    default_rate = models.BigIntegerField(null=True, blank=True)  # per hour, minor units
    notes = models.TextField(max_length=2000, blank=True)
    archived_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class InvoiceSequence(models.Model):
    """A seller's invoice counter. Numbers are taken under this row's lock when an invoice is
    issued, so they have no gaps even with concurrent issues; a voided invoice keeps its
    number."""

    owner = models.OneToOneField(USER, on_delete=models.CASCADE, related_name="invoice_sequence")
    prefix = models.CharField(max_length=20, default="INV-")
    next_number = models.PositiveIntegerField(default=1)


class Invoice(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SENT = "sent", "Sent"
        PARTLY_PAID = "partly_paid", "Partly paid"
        PAID = "paid", "Paid"
        VOID = "void", "Void"

    owner = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="invoices")
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="invoices")
    number = models.CharField(max_length=40, blank=True)  # "" while a draft
    sequence_number = models.PositiveIntegerField(null=True, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT)
    currency = models.CharField(max_length=3)
    issue_date = models.DateField(null=True, blank=True)
    terms_days = models.PositiveSmallIntegerField(default=14)
    due_date = models.DateField(null=True, blank=True)
    notes = models.TextField(max_length=2000, blank=True)
    discount_bps = models.PositiveIntegerField(default=0)  # on the whole invoice, before tax
    # Late fee: a percentage of the balance and/or a fixed amount, added once when overdue.
    late_fee_bps = models.PositiveIntegerField(default=0)
    late_fee_fixed = models.BigIntegerField(default=0)
    late_fee_applied_at = models.DateTimeField(null=True, blank=True)
    # Totals, recomputed by the service from the lines on every change.
    subtotal = models.BigIntegerField(default=0)
    discount_total = models.BigIntegerField(default=0)
    tax_total = models.BigIntegerField(default=0)
    total = models.BigIntegerField(default=0)
    paid_total = models.BigIntegerField(default=0)
    public_token = models.CharField(max_length=43, unique=True)  # the public page's secret
    recurring = models.ForeignKey(
        "RecurringInvoice",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="invoices",
    )
    recurring_date = models.DateField(null=True, blank=True)  # the occurrence it was made for
    sent_at = models.DateTimeField(null=True, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    void_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "sequence_number"],
                condition=Q(sequence_number__isnull=False),
                name="books_invoice_number_once",
            ),
            models.UniqueConstraint(
                fields=["recurring", "recurring_date"],
                condition=Q(recurring__isnull=False),
                name="books_invoice_recurring_once",
            ),
            models.CheckConstraint(
                condition=Q(paid_total__gte=0), name="books_invoice_paid_not_negative"
            ),
        ]

    @property
    def balance(self) -> int:
        return self.total - self.paid_total


class InvoiceLine(models.Model):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField(default=0)
    description = models.CharField(max_length=500)
    quantity = models.DecimalField(max_digits=10, decimal_places=3, default=1)
    unit = models.CharField(max_length=10, default="C62")  # UN/ECE rec 20: C62 one, HUR hour
    unit_price = models.BigIntegerField()  # minor units
    discount_bps = models.PositiveIntegerField(default=0)
    tax_rate_bps = models.PositiveIntegerField(default=0)  # 2000 = 20% VAT
    amount = models.BigIntegerField(default=0)  # quantity × price − discount, rounded half-up
    # Added by the late-fee job: outside the invoice discount (services.invoices.totals_compute).
    is_late_fee = models.BooleanField(default=False)

    class Meta:
        ordering = ["position", "id"]


class InvoicePayment(models.Model):
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="payments")
    date = models.DateField()
    amount = models.BigIntegerField()
    method = models.CharField(max_length=40, blank=True)  # bank transfer, cash …
    note = models.CharField(max_length=300, blank=True)
    entry = models.OneToOneField(
        Entry, null=True, blank=True, on_delete=models.SET_NULL, related_name="invoice_payment"
    )
    created_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["date", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="books_invpay_positive"),
        ]


class InvoiceEvent(models.Model):
    """The invoice's timeline: created, issued, sent, viewed, reminded, paid, voided …"""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20)
    detail = models.CharField(max_length=300, blank=True)
    at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            # Reminders are sent once per invoice and kind ("reminder_before", "reminder_due",
            # "reminder_after_7" …): the sweeper inserts the event first.
            models.UniqueConstraint(
                fields=["invoice", "kind"],
                condition=Q(kind__startswith="reminder_"),
                name="books_invoice_reminder_once",
            ),
        ]


class RecurringInvoice(models.Model):
    """Makes (and optionally sends) an invoice for a client on a schedule."""

    owner = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="recurring_invoices")
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="+")
    currency = models.CharField(max_length=3)
    lines = models.JSONField()  # [{description, quantity, unit_price, tax_rate_bps, ...}]
    terms_days = models.PositiveSmallIntegerField(default=14)
    notes = models.TextField(max_length=2000, blank=True)
    frequency = models.CharField(max_length=10, choices=RecurringExpense.Frequency.choices)
    next_date = models.DateField()
    # The first occurrence: monthly dates keep its day of month (31 → each month's last day).
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)
    send_automatically = models.BooleanField(default=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["next_date", "id"]


# --- time ---------------------------------------------------------------------------------


class TimeEntry(models.Model):
    """Tracked time: a running timer (``ended_at`` empty) or a finished/manual entry."""

    owner = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="time_entries")
    client = models.ForeignKey(
        Client, null=True, blank=True, on_delete=models.SET_NULL, related_name="time_entries"
    )
    offer = models.ForeignKey(
        "catalog.Offer", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    project = models.CharField(max_length=100, blank=True)
    description = models.CharField(max_length=300, blank=True)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    duration_seconds = models.PositiveIntegerField(default=0)  # set when it ends
    billable = models.BooleanField(default=True)
    rate = models.BigIntegerField(null=True, blank=True)  # per hour, minor units
    currency = models.CharField(max_length=3, blank=True)
    invoice_line = models.ForeignKey(
        InvoiceLine, null=True, blank=True, on_delete=models.SET_NULL, related_name="time_entries"
    )
    created_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["owner", "started_at"], name="books_time_owner_start")]
        constraints = [
            models.UniqueConstraint(
                fields=["owner"], condition=Q(ended_at__isnull=True), name="books_one_timer"
            ),
        ]
