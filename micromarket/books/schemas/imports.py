"""API shapes of the imports area."""

from __future__ import annotations

import datetime as dt

from ninja import Field, Schema


class ImportRowOut(Schema):
    line: int = Field(description="The line of the file the row starts on.")
    kind: str
    date: dt.date
    amount: int
    currency: str
    payee: str
    note: str
    category: str
    duplicate: bool = Field(description="Probably already in your books; skipped by default.")
    transfer: str = Field(
        description="Why the row is probably money already in your books under another name "
        "(a micromarket payout, an invoice payment already recorded); such rows are left out "
        "unless `exclude_lines` is given. Empty for other rows."
    )


class ImportPreviewOut(Schema):
    format: str
    filename: str
    rows: list[ImportRowOut]
    new_rows: int
    duplicates: int
    transfers: int = Field(description="Rows flagged as transfers (left out by default).")
    skipped_zero: int
    previously_imported_at: dt.datetime | None = Field(
        description="When this same file was imported before, if it was."
    )


class ImportBatchOut(Schema):
    id: int
    format: str
    filename: str
    sha256: str
    mapping: dict
    rows: int
    imported: int
    duplicates: int
    excluded: int = Field(description="Rows left out as transfers (not saved).")
    created_at: dt.datetime

    @staticmethod
    def resolve_excluded(obj) -> int:
        return max(0, obj.rows - obj.imported - obj.duplicates)
