"""Reports and exports of the books (reads only). See docs/books/reports.md.

Every profit figure comes from ``selectors.entries.entry_totals`` (one currency at a time, the
US 50% meals rule when ``us_rules``), so the reports agree with the tax estimate and dashboard.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from micromarket.books import categories
from micromarket.books.models import (
    Client,
    Entry,
    EnvelopeMovement,
    Invoice,
    InvoiceLine,
    InvoicePayment,
    MileageTrip,
    RecurringExpense,
    TaxPayment,
    TimeEntry,
)
from micromarket.books.selectors.entries import Totals, currencies_used, entry_totals
from micromarket.core.money import from_minor

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
PERIODS = ("month", "quarter", "year")


# --- profit and loss ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PnlRow:
    label: str
    start: date
    end: date
    totals: Totals

    @property
    def income(self) -> int:
        return self.totals.income

    @property
    def expenses(self) -> int:
        return self.totals.expenses

    @property
    def deductible(self) -> int:
        return self.totals.deductible_expenses

    @property
    def profit(self) -> int:
        return self.totals.profit


@dataclass(frozen=True)
class Pnl:
    currency: str
    period: str
    year: int
    rows: list[PnlRow]
    total: Totals


def _month_end(year: int, month: int) -> date:
    return (date(year + month // 12, month % 12 + 1, 1)) - timedelta(days=1)


def years_with_entries(owner) -> list[int]:
    dates = Entry.objects.filter(owner=owner).dates("date", "year")
    return sorted({d.year for d in dates})


def pnl(owner, *, currency: str, period: str = "month", year: int, us_rules: bool = True) -> Pnl:
    """Profit and loss by month or quarter of ``year``, or by year (every year with entries up
    to ``year``, at most the last 6)."""
    if period not in PERIODS:
        period = "month"
    if period == "month":
        spans = [
            (f"{MONTHS[m - 1]} {year}", date(year, m, 1), _month_end(year, m)) for m in range(1, 13)
        ]
    elif period == "quarter":
        spans = [
            (f"Q{q} {year}", date(year, 3 * q - 2, 1), _month_end(year, 3 * q))
            for q in (1, 2, 3, 4)
        ]
    else:
        years = [y for y in years_with_entries(owner) if y <= year] or [year]
        years = list(range(max(min(years), year - 5), year + 1))
        spans = [(str(y), date(y, 1, 1), date(y, 12, 31)) for y in years]
    rows = [
        PnlRow(
            label,
            start,
            end,
            entry_totals(owner, start=start, end=end, currency=currency, us_rules=us_rules),
        )
        for label, start, end in spans
    ]
    total = entry_totals(
        owner, start=spans[0][1], end=spans[-1][2], currency=currency, us_rules=us_rules
    )
    return Pnl(currency=currency, period=period, year=year, rows=rows, total=total)


def report_currency(owner, requested: str | None = None) -> str:
    used = currencies_used(owner)
    if requested and requested.upper() in used:
        return requested.upper()
    return used[0] if used else "USD"


# --- Schedule C ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class FormLine:
    line: str
    label: str
    amount: int
    note: str = ""
    total: bool = False  # a computed line (gross income, total expenses, net profit)
    categories: tuple[str, ...] = ()


def _line_key(line: str) -> tuple[int, str]:
    digits = re.match(r"\d+", line)
    return (int(digits.group()) if digits else 999, line)


def schedule_c(owner, *, currency: str = "USD", year: int) -> list[FormLine]:
    """IRS Schedule C (Form 1040) Part I–II summary for a calendar year: line 1 gross receipts,
    6 other income, 7 gross income, each expense line (24b meals at 50%), 28 total expenses,
    29 tentative profit, 30 business use of home, 31 net profit or loss."""
    totals = entry_totals(
        owner, start=date(year, 1, 1), end=date(year, 12, 31), currency=currency, us_rules=True
    )
    line1 = sum(a for k, a in totals.income_by_category.items() if _sc(k) != "6")
    line6 = sum(a for k, a in totals.income_by_category.items() if _sc(k) == "6")
    lines = [
        FormLine(
            "1",
            "Gross receipts or sales",
            line1,
            categories=tuple(k for k in totals.income_by_category if _sc(k) != "6"),
        ),
        FormLine(
            "6",
            "Other income",
            line6,
            categories=tuple(k for k in totals.income_by_category if _sc(k) == "6"),
        ),
        FormLine("7", "Gross income", line1 + line6, total=True),
    ]
    by_line: dict[str, list] = {}
    for key, amount in totals.expenses_by_category.items():
        cat = categories.category_get(key)
        line = cat.schedule_c if cat and cat.schedule_c else "27b"
        label = cat.schedule_c_label if cat and cat.schedule_c else "Other expenses"
        deductible = amount
        note = ""
        if key == "meals":
            deductible = amount * categories.MEALS_DEDUCTIBLE_PERCENT // 100
        entry = by_line.setdefault(line, [label, 0, [], note])
        entry[1] += deductible
        entry[2].append(key)
        if key == "meals":
            entry[3] = (
                f"{categories.MEALS_DEDUCTIBLE_PERCENT}% of "
                f"{_fmt(amount, currency)} of business meals (IRS Publication 463)"
            )
    home = by_line.pop("30", None)
    expense_lines = [
        FormLine(line, label, amount, note=note, categories=tuple(keys))
        for line, (label, amount, keys, note) in sorted(
            by_line.items(), key=lambda i: _line_key(i[0])
        )
    ]
    line28 = sum(x.amount for x in expense_lines)
    line29 = line1 + line6 - line28
    line30 = home[1] if home else 0
    lines += expense_lines
    lines += [
        FormLine("28", "Total expenses before business use of home", line28, total=True),
        FormLine("29", "Tentative profit or (loss)", line29, total=True),
        FormLine(
            "30", "Business use of your home", line30, categories=tuple(home[2]) if home else ()
        ),
        FormLine("31", "Net profit or (loss)", line29 - line30, total=True),
    ]
    return lines


def _sc(key: str) -> str:
    cat = categories.category_get(key)
    return cat.schedule_c if cat else ""


def _fmt(amount: int, currency: str) -> str:
    from micromarket.core.money import money_format

    return money_format(amount, currency)


# --- UK SA103F ----------------------------------------------------------------------------------


def uk_tax_year_bounds(year: int) -> tuple[date, date]:
    """The UK tax year that starts on 6 April ``year`` and ends on 5 April ``year + 1``."""
    return date(year, 4, 6), date(year + 1, 4, 5)


SA103F_EXPENSE_BOXES = {
    "17": "Cost of goods bought for resale or goods used",
    "18": "Construction industry – payments to subcontractors",
    "19": "Wages, salaries and other staff costs",
    "20": "Car, van and travel expenses",
    "21": "Rent, rates, power and insurance costs",
    "22": "Repairs and maintenance of property and equipment",
    "23": "Phone, fax, stationery and other office costs",
    "24": "Advertising and business entertainment costs",
    "25": "Interest on bank and other loans",
    "26": "Bank, credit card and other financial charges",
    "27": "Irrecoverable debts written off",
    "28": "Accountancy, legal and other professional fees",
    "29": "Depreciation and loss or profit on sale of assets",
    "30": "Other business expenses",
}


@dataclass(frozen=True)
class Sa103f:
    year: int  # the tax year it starts in (2025 → 2025/26)
    start: date
    end: date
    currency: str
    lines: list[FormLine]
    not_allowable: list[tuple[str, int]] = field(default_factory=list)  # (label, amount)

    @property
    def label(self) -> str:
        return f"{self.year}/{str(self.year + 1)[-2:]}"


def sa103f(owner, *, currency: str = "GBP", year: int) -> Sa103f:
    """HMRC SA103F (self-employment, full) boxes for the tax year 6 April ``year`` – 5 April
    ``year + 1``: box 15 turnover, 16 other business income, 17–30 allowable expenses,
    31 total expenses, 47 net profit or 48 net loss. Business entertainment (meals) is not
    allowable and is listed apart. Depreciation (box 29) is shown as recorded; on the return it
    is added back as disallowable and capital allowances are claimed instead."""
    start, end = uk_tax_year_bounds(year)
    totals = entry_totals(owner, start=start, end=end, currency=currency, us_rules=False)
    turnover = sum(a for k, a in totals.income_by_category.items() if _uk(k) != "16")
    other = totals.income - turnover
    boxes: dict[str, list] = {}
    not_allowable = []
    for key, amount in totals.expenses_by_category.items():
        box = _uk(key)
        cat = categories.category_get(key)
        if not box:
            not_allowable.append((cat.label if cat else key, amount))
            continue
        boxes.setdefault(box, [0, []])
        boxes[box][0] += amount
        boxes[box][1].append(key)
    lines = [
        FormLine("15", "Your turnover", turnover),
        FormLine("16", "Any other business income", other),
    ]
    total = 0
    for box, label in SA103F_EXPENSE_BOXES.items():
        amount, keys = boxes.get(box, [0, []])
        total += amount
        note = (
            "Added back as disallowable; claim capital allowances."
            if box == "29" and amount
            else ""
        )
        lines.append(FormLine(box, label, amount, note=note, categories=tuple(keys)))
    lines.append(FormLine("31", "Total expenses", total, total=True))
    net = turnover + other - total
    if net >= 0:
        lines.append(FormLine("47", "Net profit", net, total=True))
    else:
        lines.append(FormLine("48", "Net loss", -net, total=True))
    return Sa103f(year, start, end, currency, lines, not_allowable)


def _uk(key: str) -> str:
    cat = categories.category_get(key)
    return cat.uk_box if cat else ""


# --- expenses by category -----------------------------------------------------------------------


@dataclass(frozen=True)
class CategoryRow:
    key: str
    label: str
    schedule_c: str
    uk_box: str
    amount: int
    deductible_us: int
    share_bps: int  # of all expenses


def expenses_by_category(owner, *, currency: str, start: date, end: date) -> list[CategoryRow]:
    totals = entry_totals(owner, start=start, end=end, currency=currency)
    spent = totals.expenses or 1
    rows = []
    for key, amount in totals.expenses_by_category.items():
        cat = categories.category_get(key)
        deductible = (
            amount * categories.MEALS_DEDUCTIBLE_PERCENT // 100 if key == "meals" else amount
        )
        rows.append(
            CategoryRow(
                key=key,
                label=cat.label if cat else key,
                schedule_c=cat.schedule_c if cat else "",
                uk_box=cat.uk_box if cat else "",
                amount=amount,
                deductible_us=deductible,
                share_bps=amount * 10000 // spent,
            )
        )
    return sorted(rows, key=lambda r: (-r.amount, r.label))


# --- CSV export ---------------------------------------------------------------------------------

_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _cell(value) -> str:
    """Text as a spreadsheet shows it, never as a formula (OWASP CSV injection)."""
    if value is None:
        return ""
    text = str(value)
    if isinstance(value, str) and text.startswith(_FORMULA):
        return "'" + text
    return text


def _money(amount: int | None, currency: str) -> str:
    if amount is None or not currency:
        return ""
    return str(from_minor(amount, currency))


def _csv(header: list[str], rows: Iterable[list]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    return buffer.getvalue().encode("utf-8-sig")  # BOM: spreadsheets read UTF-8 correctly


def export_tables(owner) -> dict[str, bytes]:
    """Every table of the owner's books as CSV files (amounts as decimals with their currency;
    times in UTC ISO 8601)."""
    files: dict[str, bytes] = {}
    cat = categories.category_get
    files["entries.csv"] = _csv(
        [
            "id",
            "date",
            "kind",
            "amount",
            "currency",
            "payee",
            "category",
            "category_label",
            "schedule_c_line",
            "uk_sa103f_box",
            "note",
            "source",
            "source_ref",
            "has_receipt",
        ],
        (
            [
                e.pk,
                e.date,
                e.kind,
                _money(e.amount, e.currency),
                e.currency,
                e.payee,
                e.category,
                cat(e.category).label if cat(e.category) else "",
                cat(e.category).schedule_c if cat(e.category) else "",
                cat(e.category).uk_box if cat(e.category) else "",
                e.note,
                e.source,
                e.source_ref,
                "yes" if e.receipt else "no",
            ]
            for e in Entry.objects.filter(owner=owner).order_by("date", "id")
        ),
    )
    files["mileage.csv"] = _csv(
        [
            "id",
            "date",
            "distance",
            "unit",
            "origin",
            "destination",
            "purpose",
            "rate_per_unit",
            "currency",
            "entry_id",
        ],
        (
            [
                t.pk,
                t.date,
                t.distance,
                t.unit,
                t.origin,
                t.destination,
                t.purpose,
                _money(t.rate, t.currency)
                if t.rate_scale == 1
                else str(from_minor(t.rate, t.currency) / t.rate_scale),
                t.currency,
                t.entry_id,
            ]
            for t in MileageTrip.objects.filter(owner=owner).order_by("date", "id")
        ),
    )
    files["recurring_expenses.csv"] = _csv(
        [
            "id",
            "payee",
            "amount",
            "currency",
            "category",
            "frequency",
            "start_date",
            "next_date",
            "end_date",
            "active",
        ],
        (
            [
                r.pk,
                r.payee,
                _money(r.amount, r.currency),
                r.currency,
                r.category,
                r.frequency,
                r.start_date,
                r.next_date,
                r.end_date,
                r.active,
            ]
            for r in RecurringExpense.objects.filter(owner=owner).order_by("id")
        ),
    )
    files["clients.csv"] = _csv(
        [
            "id",
            "name",
            "email",
            "address",
            "city",
            "postcode",
            "country",
            "vat_id",
            "company_id",
            "currency",
            "default_rate",
            "archived",
        ],
        (
            [
                c.pk,
                c.name,
                c.email,
                c.address,
                c.city,
                c.postcode,
                c.country,
                c.vat_id,
                c.company_id,
                c.currency,
                _money(c.default_rate, c.currency),
                "yes" if c.archived_at else "no",
            ]
            for c in Client.objects.filter(owner=owner).order_by("id")
        ),
    )
    invoices = Invoice.objects.filter(owner=owner).select_related("client").order_by("id")
    files["invoices.csv"] = _csv(
        [
            "id",
            "number",
            "client_id",
            "client",
            "status",
            "currency",
            "issue_date",
            "due_date",
            "subtotal",
            "discount",
            "tax",
            "total",
            "paid",
            "balance",
            "sent_at",
            "voided_at",
        ],
        (
            [
                i.pk,
                i.number,
                i.client_id,
                i.client.name,
                i.status,
                i.currency,
                i.issue_date,
                i.due_date,
                _money(i.subtotal, i.currency),
                _money(i.discount_total, i.currency),
                _money(i.tax_total, i.currency),
                _money(i.total, i.currency),
                _money(i.paid_total, i.currency),
                _money(i.balance, i.currency),
                i.sent_at.isoformat() if i.sent_at else "",
                i.voided_at.isoformat() if i.voided_at else "",
            ]
            for i in invoices
        ),
    )
    files["invoice_lines.csv"] = _csv(
        [
            "id",
            "invoice_id",
            "invoice_number",
            "position",
            "description",
            "quantity",
            "unit",
            "unit_price",
            "discount_percent",
            "tax_rate_percent",
            "amount",
            "currency",
        ],
        (
            [
                ln.pk,
                ln.invoice_id,
                ln.invoice.number,
                ln.position,
                ln.description,
                ln.quantity,
                ln.unit,
                _money(ln.unit_price, ln.invoice.currency),
                ln.discount_bps / 100,
                ln.tax_rate_bps / 100,
                _money(ln.amount, ln.invoice.currency),
                ln.invoice.currency,
            ]
            for ln in InvoiceLine.objects.filter(invoice__owner=owner)
            .select_related("invoice")
            .order_by("invoice_id", "position", "id")
        ),
    )
    files["invoice_payments.csv"] = _csv(
        [
            "id",
            "invoice_id",
            "invoice_number",
            "date",
            "amount",
            "currency",
            "method",
            "note",
            "entry_id",
        ],
        (
            [
                p.pk,
                p.invoice_id,
                p.invoice.number,
                p.date,
                _money(p.amount, p.invoice.currency),
                p.invoice.currency,
                p.method,
                p.note,
                p.entry_id,
            ]
            for p in InvoicePayment.objects.filter(invoice__owner=owner)
            .select_related("invoice")
            .order_by("date", "id")
        ),
    )
    files["time_entries.csv"] = _csv(
        [
            "id",
            "started_at",
            "ended_at",
            "hours",
            "client_id",
            "client",
            "offer_id",
            "project",
            "description",
            "billable",
            "rate",
            "currency",
            "invoice_line_id",
        ],
        (
            [
                t.pk,
                t.started_at.isoformat(),
                t.ended_at.isoformat() if t.ended_at else "",
                f"{t.duration_seconds / 3600:.2f}",
                t.client_id,
                t.client.name if t.client else "",
                t.offer_id,
                t.project,
                t.description,
                "yes" if t.billable else "no",
                _money(t.rate, t.currency),
                t.currency,
                t.invoice_line_id,
            ]
            for t in TimeEntry.objects.filter(owner=owner)
            .select_related("client")
            .order_by("started_at", "id")
        ),
    )
    files["envelope_movements.csv"] = _csv(
        [
            "id",
            "created_at",
            "envelope",
            "kind",
            "amount",
            "currency",
            "entry_id",
            "counterpart",
            "note",
        ],
        (
            [
                m.pk,
                m.created_at.isoformat(),
                m.envelope.name,
                m.kind,
                _money(m.amount, m.currency),
                m.currency,
                m.entry_id,
                m.counterpart.name if m.counterpart else "",
                m.note,
            ]
            for m in EnvelopeMovement.objects.filter(envelope__owner=owner)
            .select_related("envelope", "counterpart")
            .order_by("created_at", "id")
        ),
    )
    files["tax_payments.csv"] = _csv(
        ["id", "country", "tax_year", "period", "date", "amount", "currency", "note"],
        (
            [
                p.pk,
                p.country,
                p.tax_year,
                p.period,
                p.date,
                _money(p.amount, p.currency),
                p.currency,
                p.note,
            ]
            for p in TaxPayment.objects.filter(owner=owner).order_by("date", "id")
        ),
    )
    return files


README = """micromarket books export
=======================

One CSV file per table, UTF-8 with a byte-order mark, comma-separated, first row = column names.
Amounts are decimals in their row's currency (12.50 USD); dates are YYYY-MM-DD; times are UTC
(ISO 8601). Text that a spreadsheet would read as a formula starts with an apostrophe.

entries.csv             income and expenses (platform earnings, invoice payments, imports …)
mileage.csv             mileage log (each trip also has its expense in entries.csv)
recurring_expenses.csv  recurring expense rules
clients.csv             direct clients
invoices.csv            invoices with totals and status
invoice_lines.csv       their lines
invoice_payments.csv    payments recorded on invoices (each is also an income entry)
time_entries.csv        tracked time
envelope_movements.csv  budget envelope history
tax_payments.csv        estimated tax payments made
"""


def export_zip(owner) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.txt", README)
        for name, content in export_tables(owner).items():
            archive.writestr(name, content)
    return buffer.getvalue()


# --- Beancount export ---------------------------------------------------------------------------


def _account_part(key: str) -> str:
    part = "".join(w.capitalize() for w in re.split(r"[^A-Za-z0-9]+", key) if w)
    return part if part and part[0].isalpha() else f"X{part}"


def _bean_string(text: str) -> str:
    text = " ".join((text or "").split())
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _asset_account(entry: Entry) -> str:
    if entry.source == Entry.Source.PLATFORM:
        return "Assets:Business:Micromarket"
    return "Assets:Business:Bank"


def _category_account(entry: Entry) -> str:
    root = "Income:Business" if entry.kind == Entry.Kind.INCOME else "Expenses:Business"
    return f"{root}:{_account_part(entry.category)}"


def export_beancount(owner) -> str:
    """The books as a Beancount ledger (cash basis): each entry is a transaction between an
    asset account (``Assets:Business:Micromarket`` for platform earnings, ``…:Bank`` for the
    rest) and an income or expense account per category. Passes ``bean-check``."""
    entries = list(Entry.objects.filter(owner=owner).order_by("date", "id"))
    currencies = sorted({e.currency for e in entries}) or ["USD"]
    lines = [
        f"; micromarket books export for {owner.email}",
        "; Cash basis: one transaction per income or expense entry.",
        'option "title" "micromarket books"',
    ]
    lines += [f'option "operating_currency" "{c}"' for c in currencies]
    lines.append("")
    if entries:
        opened = entries[0].date
        accounts = sorted(
            {_asset_account(e) for e in entries} | {_category_account(e) for e in entries}
        )
        for account in accounts:
            lines.append(f"{opened:%Y-%m-%d} open {account}")
        lines.append("")
    for entry in entries:
        cat = categories.category_get(entry.category)
        narration = entry.note or (cat.label if cat else entry.category)
        amount = from_minor(entry.amount, entry.currency)
        lines.append(
            f"{entry.date:%Y-%m-%d} * {_bean_string(entry.payee)} {_bean_string(narration)}"
        )
        lines.append(f"  entry_id: {entry.pk}")
        if entry.source_ref:
            lines.append(f"  source_ref: {_bean_string(entry.source_ref)}")
        if cat and cat.schedule_c:
            lines.append(f"  schedule_c: {_bean_string(cat.schedule_c)}")
        if entry.kind == Entry.Kind.INCOME:
            lines.append(f"  {_asset_account(entry)}  {amount} {entry.currency}")
            lines.append(f"  {_category_account(entry)}  {-amount} {entry.currency}")
        else:
            lines.append(f"  {_category_account(entry)}  {amount} {entry.currency}")
            lines.append(f"  {_asset_account(entry)}  {-amount} {entry.currency}")
        lines.append("")
    return "\n".join(lines) + "\n"
