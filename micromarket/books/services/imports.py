"""Imports of bank statements and other platforms' exports: CSV (with a column mapping and a
preview) and OFX/QFX (read with ofxtools). All or nothing: a bad row is reported with its line
number and nothing is saved. Rows that are probably already in the books are flagged as
duplicates and skipped unless the seller asks for them (docs/books/entries.md#imports)."""

from __future__ import annotations

import csv
import hashlib
import io
import re
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import transaction

from micromarket.books import categories
from micromarket.books.models import Entry, ImportBatch
from micromarket.books.services import entries as entry_services
from micromarket.core.errors import NotFound, ValidationFailed
from micromarket.core.files import file_sniff
from micromarket.core.money import currency_check, money_format, to_minor
from micromarket.payments import selectors as payment_selectors

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 10_000
MAX_ERRORS = 20
DATE_FORMATS = {
    "%Y-%m-%d": "2025-03-31",
    "%m/%d/%Y": "03/31/2025",
    "%d/%m/%Y": "31/03/2025",
    "%d.%m.%Y": "31.03.2025",
    "%Y/%m/%d": "2025/03/31",
    "%m/%d/%y": "03/31/25",
    "%d/%m/%y": "31/03/25",
}
SIGNS = {
    "negative_expense": "Money out is negative (most banks)",
    "positive_expense": "Money out is positive (credit card statements)",
}


@dataclass
class CsvMapping:
    """Which column holds what (0-based column numbers; None when the file has no such
    column), and how to read dates, amounts and signs."""

    date: int | None = None
    amount: int | None = None  # signed; or debit/credit columns instead
    debit: int | None = None  # money out → expense
    credit: int | None = None  # money in → income
    payee: int | None = None
    note: int | None = None
    category: int | None = None
    currency: int | None = None
    has_header: bool = True
    date_format: str = "%Y-%m-%d"
    decimal_comma: bool = False
    sign: str = "negative_expense"
    default_currency: str = "USD"
    income_category: str = "other_income"
    expense_category: str = "other_expense"

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> CsvMapping:
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in (data or {}).items() if k in known})


@dataclass
class ImportRow:
    line: int
    kind: str
    date: date
    amount: int
    currency: str
    payee: str
    note: str
    category: str
    source_ref: str = ""  # OFX: the bank's transaction id
    duplicate: bool = False
    # Why the row is probably a transfer of money already in the books (a micromarket payout,
    # an invoice payment already recorded): such rows are left out unless the seller keeps them.
    transfer: str = ""

    @property
    def fingerprint(self) -> str:
        return entry_services.entry_fingerprint(
            kind=self.kind,
            date=self.date,
            amount=self.amount,
            currency=self.currency,
            payee=self.payee,
        )


@dataclass
class ImportPreview:
    format: str
    filename: str
    sha256: str
    rows: list[ImportRow]
    skipped_zero: int = 0
    previous: ImportBatch | None = None  # the same file imported before
    header: list[str] = field(default_factory=list)

    @property
    def duplicates(self) -> int:
        return sum(1 for r in self.rows if r.duplicate)

    @property
    def transfers(self) -> int:
        return sum(1 for r in self.rows if r.transfer and not r.duplicate)

    @property
    def new_rows(self) -> int:
        return len(self.rows) - self.duplicates - self.transfers

    def excluded_lines(self, exclude_lines=None) -> set[int]:
        """The lines left out: ``exclude_lines`` when the seller chose them (ticked boxes on
        the preview, the API's list), else the rows flagged as transfers."""
        if exclude_lines is None:
            return {r.line for r in self.rows if r.transfer}
        return {int(line) for line in exclude_lines}


class _Errors:
    """Bad rows, collected so the seller sees them all at once (up to MAX_ERRORS)."""

    def __init__(self) -> None:
        self.items: list[dict] = []

    def add(self, line: int, message: str, column: str = "") -> None:
        if len(self.items) < MAX_ERRORS:
            self.items.append({"line": line, "column": column, "message": message})

    def raise_if_any(self) -> None:
        if not self.items:
            return
        first = self.items[0]
        more = len(self.items) - 1
        tail = f" (and {more} more problem{'s' if more != 1 else ''})" if more else ""
        raise ValidationFailed(
            f"Line {first['line']}: {first['message']}{tail}. Nothing was imported.",
            code="import_rows_invalid",
            field="file",
            errors=[
                {
                    "loc": ["file", "line", e["line"]],
                    "msg": f"Line {e['line']}: {e['message']}",
                    "type": "import_row_invalid",
                    "line": e["line"],
                }
                for e in self.items
            ],
        )


# --- reading the file ---------------------------------------------------------------------


def file_format(data: bytes) -> str:
    """ "ofx" for OFX/QFX (SGML or XML), else "csv"."""
    head = data[:2048].lstrip(b"\xef\xbb\xbf \r\n\t").upper()
    if head.startswith(b"OFXHEADER") or (
        head.startswith(b"<?XML") and b"<OFX" in data[:4096].upper()
    ):
        return ImportBatch.Format.OFX
    if head.startswith(b"<OFX>"):
        return ImportBatch.Format.OFX
    return ImportBatch.Format.CSV


def upload_read(upload) -> bytes:
    """The bytes of an uploaded statement, checked by content: a text file (CSV, OFX/QFX)."""
    sniffed = file_sniff(upload, field="file", max_bytes=MAX_BYTES)
    if sniffed.content_type != "text/plain":
        raise ValidationFailed(
            f"Upload a CSV or OFX/QFX statement; that file is a {sniffed.description}.",
            code="import_type_not_allowed",
            field="file",
        )
    upload.seek(0)
    data = upload.read()
    upload.seek(0)
    return data


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def csv_table(data: bytes) -> tuple[list[tuple[int, list[str]]], str]:
    """(rows as (line number, cells), delimiter). Blank lines are left out."""
    text = _decode(data)
    sample = text[:8192]
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        delimiter = ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows = []
    start = 1
    try:
        for cells in reader:
            if any(c.strip() for c in cells):
                rows.append((start, [c.strip() for c in cells]))
            start = reader.line_num + 1
            if len(rows) > MAX_ROWS + 1:
                raise ValidationFailed(
                    f"That file has more than {MAX_ROWS:,} rows; split it.",
                    code="import_too_many_rows",
                    field="file",
                )
    except csv.Error as exc:
        raise ValidationFailed(
            f"Line {reader.line_num}: the file is not valid CSV ({exc}). Nothing was imported.",
            code="import_rows_invalid",
            field="file",
        ) from None
    if not rows:
        raise ValidationFailed("That file has no rows.", code="import_empty", field="file")
    return rows, delimiter


def csv_header(data: bytes) -> list[str]:
    rows, _ = csv_table(data)
    return rows[0][1]


_MONEY_JUNK = re.compile(r"[^\d.,\-+()]")


def _amount(text: str, mapping: CsvMapping, currency: str) -> int | None:
    """Signed minor units, or None when the cell is empty."""
    raw = text.strip()
    if not raw:
        return None
    negative = raw.startswith("(") and raw.endswith(")")
    cleaned = _MONEY_JUNK.sub("", raw).strip("()")
    if cleaned.endswith("-"):
        negative, cleaned = True, cleaned[:-1]
    if mapping.decimal_comma:
        cleaned = cleaned.replace(".", "").replace(",", ".")
    else:
        cleaned = cleaned.replace(",", "")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"“{raw}” is not an amount") from None
    if not value.is_finite():
        raise ValueError(f"“{raw}” is not an amount")
    try:
        minor = to_minor(value, currency)
    except ValidationFailed as exc:
        raise ValueError(f"“{raw}”: {exc.message}") from None
    return -minor if negative else minor


def _cell(cells: list[str], index: int | None) -> str:
    if index is None or index >= len(cells):
        return ""
    return cells[index]


def _category(value: str, kind: str, default: str) -> str:
    wanted = value.strip().lower()
    if wanted:
        for key, label in categories.choices(kind):
            if wanted in (key, label.lower()):
                return key
    return default


def _mapping_check(mapping: CsvMapping, width: int) -> None:
    if mapping.date is None:
        raise ValidationFailed("Choose the date column.", code="mapping_date", field="date")
    if mapping.amount is None and mapping.debit is None and mapping.credit is None:
        raise ValidationFailed(
            "Choose the amount column (or the money in and money out columns).",
            code="mapping_amount",
            field="amount",
        )
    for name in ("date", "amount", "debit", "credit", "payee", "note", "category", "currency"):
        index = getattr(mapping, name)
        if index is not None and not 0 <= index < width:
            raise ValidationFailed(
                f"The file has no column {index + 1}.", code="mapping_column", field=name
            )
    if mapping.date_format not in DATE_FORMATS:
        raise ValidationFailed("Choose a date format.", code="mapping_date", field="date_format")
    if mapping.sign not in SIGNS:
        raise ValidationFailed("Choose how signs are read.", code="mapping_sign", field="sign")
    currency_check(mapping.default_currency, field="default_currency")
    for kind, name in (("income", "income_category"), ("expense", "expense_category")):
        found = categories.category_get(getattr(mapping, name))
        if found is None or found.kind != kind:
            raise ValidationFailed(
                f"Choose an {kind} category.", code="mapping_category", field=name
            )


def csv_parse(data: bytes, mapping: CsvMapping) -> tuple[list[ImportRow], int]:
    """(rows, rows skipped because their amount is zero), or ValidationFailed listing every
    bad line."""
    table, _ = csv_table(data)
    width = max(len(cells) for _, cells in table)
    _mapping_check(mapping, width)
    if mapping.has_header:
        table = table[1:]
    if not table:
        raise ValidationFailed(
            "That file has no rows below its header.", code="import_empty", field="file"
        )
    default_currency = currency_check(mapping.default_currency, field="default_currency")
    errors = _Errors()
    rows: list[ImportRow] = []
    zero = 0
    for line, cells in table:
        try:
            day = datetime.strptime(_cell(cells, mapping.date), mapping.date_format).date()
        except ValueError:
            shown = _cell(cells, mapping.date) or "(empty)"
            errors.add(
                line,
                f"“{shown}” is not a date like {DATE_FORMATS[mapping.date_format]}",
                "date",
            )
            continue
        problem = _date_problem(day)
        if problem:
            errors.add(line, problem, "date")
            continue
        currency = default_currency
        if mapping.currency is not None and _cell(cells, mapping.currency):
            try:
                currency = currency_check(_cell(cells, mapping.currency))
            except ValidationFailed:
                errors.add(
                    line, f"“{_cell(cells, mapping.currency)}” is not a currency", "currency"
                )
                continue
        try:
            if mapping.amount is not None:
                signed = _amount(_cell(cells, mapping.amount), mapping, currency)
                if signed is None:
                    errors.add(line, "the amount is empty", "amount")
                    continue
                if mapping.sign == "positive_expense":
                    signed = -signed
            else:
                out = _amount(_cell(cells, mapping.debit), mapping, currency) or 0
                into = _amount(_cell(cells, mapping.credit), mapping, currency) or 0
                signed = abs(into) - abs(out)
        except ValueError as exc:
            errors.add(line, str(exc), "amount")
            continue
        if signed == 0:
            zero += 1
            continue
        kind = Entry.Kind.INCOME if signed > 0 else Entry.Kind.EXPENSE
        default = mapping.income_category if signed > 0 else mapping.expense_category
        payee = _cell(cells, mapping.payee)[:200]
        note = _cell(cells, mapping.note)[:500]
        if abs(signed) > entry_services.MAX_AMOUNT:
            errors.add(line, "the amount is too large", "amount")
            continue
        rows.append(
            ImportRow(
                line=line,
                kind=kind,
                date=day,
                amount=abs(signed),
                currency=currency,
                payee=payee,
                note=note,
                category=_category(_cell(cells, mapping.category), kind, default),
            )
        )
    errors.raise_if_any()
    if not rows:
        raise ValidationFailed("No row has an amount to import.", code="import_empty", field="file")
    return rows, zero


def _date_problem(day: date) -> str:
    """The books' own date rule (``entries.date_check``), so the preview refuses what the
    import would."""
    try:
        entry_services.date_check(day)
    except ValidationFailed as exc:
        return f"{day.isoformat()} is out of range ({exc.message.rstrip('.').lower()})"
    return ""


def _ofx_lines(text: str) -> list[int]:
    """The line number of each <STMTTRN> in the file, in order."""
    return [text.count("\n", 0, m.start()) + 1 for m in re.finditer(r"<STMTTRN>", text, re.I)]


def ofx_parse(data: bytes) -> tuple[list[ImportRow], int]:
    """Bank and credit-card statement transactions from an OFX or QFX file (ofxtools)."""
    from ofxtools.models.base import Aggregate
    from ofxtools.Parser import OFXTree

    text = _decode(data)
    tree = OFXTree()
    try:
        tree.parse(io.BytesIO(data))
    except Exception as exc:  # ofxtools raises several kinds for a broken file
        raise ValidationFailed(
            f"That is not a valid OFX/QFX file ({str(exc)[:200]}). Nothing was imported.",
            code="import_rows_invalid",
            field="file",
        ) from None
    root = tree._root
    parents = {child: parent for parent in root.iter() for child in parent}
    lines = _ofx_lines(text)
    errors = _Errors()
    rows: list[ImportRow] = []
    zero = 0
    for index, element in enumerate(root.iter("STMTTRN")):
        line = lines[index] if index < len(lines) else 0
        statement = parents.get(parents.get(element))  # STMTTRN → BANKTRANLIST → STMTRS
        curdef = statement.findtext("CURDEF") if statement is not None else None
        acctid = ""
        if statement is not None:
            acctid = statement.findtext(".//ACCTID") or ""
        try:
            trn = Aggregate.from_etree(element)
        except Exception as exc:
            errors.add(line, _ofx_message(exc), "STMTTRN")
            continue
        currency = getattr(getattr(trn, "currency", None), "cursym", None) or curdef or ""
        try:
            currency = currency_check(currency)
            signed = to_minor(trn.trnamt, currency)
        except ValidationFailed as exc:
            errors.add(line, exc.message, "TRNAMT")
            continue
        if signed == 0:
            zero += 1
            continue
        day = trn.dtposted.date()
        problem = _date_problem(day)
        if problem:
            errors.add(line, problem, "DTPOSTED")
            continue
        kind = Entry.Kind.INCOME if signed > 0 else Entry.Kind.EXPENSE
        payee = (trn.name or (trn.payee.name if getattr(trn, "payee", None) else "") or "")[:200]
        fitid = str(trn.fitid)
        ref = f"ofx:{hashlib.sha256(f'{acctid}|{fitid}'.encode()).hexdigest()[:40]}"
        rows.append(
            ImportRow(
                line=line,
                kind=kind,
                date=day,
                amount=abs(signed),
                currency=currency,
                payee=payee,
                note=(trn.memo or "")[:500],
                category="other_income" if signed > 0 else "other_expense",
                source_ref=ref,
            )
        )
    errors.raise_if_any()
    if not rows:
        raise ValidationFailed(
            "That file has no transactions to import.", code="import_empty", field="file"
        )
    return rows, zero


def _ofx_message(exc: Exception) -> str:
    message = str(exc).strip() or type(exc).__name__
    match = re.search(r"Can't set STMTTRN\.(\w+) to (.*?):", message)
    if match:
        return f"the {match.group(1).upper()} value “{match.group(2)}” is not valid"
    return message[:200]


# --- duplicates, preview, commit ----------------------------------------------------------


def _mark_duplicates(owner, rows: list[ImportRow]) -> None:
    """A row is a duplicate when the books already hold its bank transaction id (OFX) or an
    entry with the same kind, date, amount, currency and payee. Two identical rows in one file
    are both real unless the books already hold as many."""
    refs = {r.source_ref for r in rows if r.source_ref}
    known_refs = set(
        Entry.objects.filter(owner=owner, source_ref__in=refs).values_list("source_ref", flat=True)
    )
    prints = {r.fingerprint for r in rows}
    existing = Counter(
        Entry.objects.filter(owner=owner, fingerprint__in=prints).values_list(
            "fingerprint", flat=True
        )
    )
    seen_refs: set[str] = set()
    for row in rows:
        if row.source_ref and (row.source_ref in known_refs or row.source_ref in seen_refs):
            # Already in the books, or the same bank transaction id twice in this file.
            row.duplicate = True
            seen_refs.add(row.source_ref)
        elif row.source_ref:
            seen_refs.add(row.source_ref)
        if row.duplicate:
            continue
        if existing[row.fingerprint] > 0:
            existing[row.fingerprint] -= 1
            row.duplicate = True


PAYOUT_DAYS = (-1, 7)  # a payout reaches the bank from the day before it is sent to a week after
INVOICE_DAYS = 5  # an invoice payment is recorded within 5 days of the bank's date


def _mark_transfers(owner, rows: list[ImportRow]) -> None:
    """Flag money in that is probably already in the books under another name, so it is not
    counted twice: a payout of micromarket earnings (already there as gross platform income,
    the payee or memo names micromarket or the amount is one of the seller's payouts) or a
    client's payment already recorded on an invoice (same amount and currency within 5 days).
    Each payout or invoice payment explains one row at most."""
    incoming = [r for r in rows if r.kind == Entry.Kind.INCOME and not r.duplicate]
    if not incoming:
        return
    first = min(r.date for r in incoming) - timedelta(days=max(INVOICE_DAYS, PAYOUT_DAYS[1]))
    payouts = payment_selectors.payouts_sent(owner=owner, since=first - timedelta(days=1))
    used_payouts: set[int] = set()
    payments = list(
        Entry.objects.filter(
            owner=owner,
            kind=Entry.Kind.INCOME,
            source=Entry.Source.INVOICE,
            date__gte=first,
        ).values_list("pk", "date", "amount", "currency")
    )
    used_payments: set[int] = set()
    for row in incoming:
        text = f"{row.payee} {row.note}".lower()
        if "micromarket" in text:
            row.transfer = (
                "A micromarket payout: those earnings are already in your books as platform income"
            )
            continue
        for i, payout in enumerate(payouts):
            lag = (row.date - payout.day).days
            if (
                i not in used_payouts
                and payout.currency == row.currency
                and payout.net == row.amount
                and PAYOUT_DAYS[0] <= lag <= PAYOUT_DAYS[1]
            ):
                used_payouts.add(i)
                row.transfer = (
                    f"Same amount as your micromarket payout of {payout.day.day} "
                    f"{payout.day:%b %Y}: those earnings are already in your books as platform "
                    "income"
                )
                break
        if row.transfer:
            continue
        for pk, day, amount, currency in payments:
            if (
                pk not in used_payments
                and currency == row.currency
                and amount == row.amount
                and abs((row.date - day).days) <= INVOICE_DAYS
            ):
                used_payments.add(pk)
                row.transfer = (
                    f"Same amount as the invoice payment of "
                    f"{money_format(amount, currency)} recorded on {day.day} {day:%b %Y}"
                )
                break


def import_preview(
    *, owner, data: bytes, filename: str, mapping: CsvMapping | None = None
) -> ImportPreview:
    """Read the whole file (nothing is saved): every row as it would be recorded, duplicates
    and probable transfers (``_mark_transfers``) flagged; or ValidationFailed with each bad
    line."""
    fmt = file_format(data)
    if fmt == ImportBatch.Format.OFX:
        rows, zero = ofx_parse(data)
        header: list[str] = []
    else:
        if mapping is None:
            raise ValidationFailed("Choose the columns.", code="mapping_missing", field="date")
        rows, zero = csv_parse(data, mapping)
        header = csv_header(data) if mapping.has_header else []
    _mark_duplicates(owner, rows)
    _mark_transfers(owner, rows)
    sha = hashlib.sha256(data).hexdigest()
    previous = ImportBatch.objects.filter(owner=owner, sha256=sha).first()
    return ImportPreview(
        format=fmt,
        filename=filename[:200],
        sha256=sha,
        rows=rows,
        skipped_zero=zero,
        previous=previous,
        header=header,
    )


def import_commit(
    *,
    owner,
    data: bytes,
    filename: str,
    mapping: CsvMapping | None = None,
    include_duplicates: bool = False,
    exclude_lines=None,
) -> ImportBatch:
    """Import the whole file in one transaction: every row, or — when one is bad — none.
    Duplicates are skipped unless ``include_duplicates`` (the same bank transaction id twice in
    the file always counts once). ``exclude_lines``: the lines the seller leaves out (owner
    draws, transfers between their accounts, payouts …); None leaves out the rows flagged as
    transfers. Left-out rows are not saved: ``batch.rows - batch.imported - batch.duplicates``
    of them (``import_excluded``)."""
    preview = import_preview(owner=owner, data=data, filename=filename, mapping=mapping)
    excluded = preview.excluded_lines(exclude_lines)
    unknown = excluded - {r.line for r in preview.rows}
    if unknown:
        raise ValidationFailed(
            f"The file has no row on line {min(unknown)} to leave out.",
            code="exclude_line_unknown",
            field="exclude_lines",
        )
    with transaction.atomic():
        batch = ImportBatch.objects.create(
            owner=owner,
            format=preview.format,
            filename=preview.filename,
            sha256=preview.sha256,
            mapping=mapping.as_dict() if mapping and preview.format == "csv" else {},
            rows=len(preview.rows),
        )
        imported = duplicates = 0
        refs_seen: set[str] = set()
        for row in preview.rows:
            repeated = bool(row.source_ref) and row.source_ref in refs_seen
            refs_seen.add(row.source_ref)
            if repeated or (row.duplicate and not include_duplicates):
                duplicates += 1
                continue
            if row.line in excluded:
                continue
            ref = f"import:{batch.pk}:{row.line}"
            if row.source_ref and not row.duplicate:
                ref = row.source_ref
            common = {
                "owner": owner,
                "date": row.date,
                "amount": row.amount,
                "currency": row.currency,
                "category": row.category,
                "payee": row.payee,
                "note": row.note,
                "source": Entry.Source.IMPORT,
                "source_ref": ref,
            }
            try:
                if row.kind == Entry.Kind.INCOME:
                    entry = entry_services.entry_record_income(**common)
                else:
                    entry = entry_services.entry_record_expense(**common)
            except ValidationFailed as exc:
                raise ValidationFailed(
                    f"Line {row.line}: {exc.message} Nothing was imported.",
                    code="import_rows_invalid",
                    field="file",
                    errors=[
                        {
                            "loc": ["file", "line", row.line],
                            "msg": f"Line {row.line}: {exc.message}",
                            "type": "import_row_invalid",
                            "line": row.line,
                        }
                    ],
                ) from None
            Entry.objects.filter(pk=entry.pk).update(import_batch=batch)
            imported += 1
        batch.imported = imported
        batch.duplicates = duplicates
        batch.save(update_fields=["imported", "duplicates"])
        return batch


def import_excluded(batch: ImportBatch) -> int:
    """How many rows of an import the seller left out (transfers, payouts, owner draws)."""
    return max(0, batch.rows - batch.imported - batch.duplicates)


# --- files waiting between the upload and the confirmation --------------------------------


def _staged_name(owner, token: str) -> str:
    if not re.fullmatch(r"[0-9a-f]{32}", token or ""):
        raise NotFound("That upload has expired; upload the file again.", code="upload_missing")
    return f"imports/staged/{owner.pk}/{token}"


def import_stage(*, owner, upload) -> tuple[str, bytes]:
    """Keep an uploaded statement (private storage) while the seller maps its columns; returns
    (token, bytes). Only the same owner can read it back."""
    data = upload_read(upload)
    token = uuid.uuid4().hex
    storages["private"].save(_staged_name(owner, token), ContentFile(data))
    return token, data


def import_staged(*, owner, token: str) -> bytes:
    storage = storages["private"]
    name = _staged_name(owner, token)
    if not storage.exists(name):
        raise NotFound("That upload has expired; upload the file again.", code="upload_missing")
    with storage.open(name, "rb") as handle:
        return handle.read()


def import_unstage(*, owner, token: str) -> None:
    storage = storages["private"]
    name = _staged_name(owner, token)
    if storage.exists(name):
        storage.delete(name)
