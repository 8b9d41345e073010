"""API of the imports area: preview and import a CSV (with a column mapping) or OFX/QFX file.
All or nothing: a bad row answers 422 with each bad line in ``errors``. See
docs/books/entries.md#imports."""

from __future__ import annotations

import json

from django.http import HttpRequest
from ninja import File, Form, Router, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from micromarket.books.schemas.imports import ImportBatchOut, ImportPreviewOut
from micromarket.books.selectors import imports as selectors
from micromarket.books.services import imports as services
from micromarket.core.api import PROBLEM_RESPONSES, LimitOffsetPage
from micromarket.core.errors import ValidationFailed

router = Router(tags=["books"])

MAPPING_HELP = (
    "CSV only: a JSON object — column numbers from 0: `date` (required), `amount` (signed) or "
    "`debit`/`credit`, optional `payee`, `note`, `category`, `currency`; and `has_header` "
    "(true), `date_format` (e.g. `%d/%m/%Y`), `decimal_comma`, `sign` (`negative_expense` or "
    "`positive_expense`), `default_currency`, `income_category`, `expense_category`."
)


def _exclude_lines(value: str) -> list[int] | None:
    if not (value or "").strip():
        return None
    try:
        raw = json.loads(value) if value.strip().startswith("[") else value.split(",")
        if not isinstance(raw, list):
            raise ValueError
        return [int(str(line).strip()) for line in raw]
    except (ValueError, TypeError):
        raise ValidationFailed(
            "exclude_lines must be a list of line numbers, such as [4, 9].",
            code="exclude_lines_invalid",
            field="exclude_lines",
        ) from None


def _mapping(data: bytes, mapping: str):
    if services.file_format(data) != "csv":
        return None
    try:
        raw = json.loads(mapping or "{}")
        if not isinstance(raw, dict):
            raise ValueError
        return services.CsvMapping.from_dict(raw)
    except (ValueError, TypeError):
        raise ValidationFailed(
            "mapping must be a JSON object.", code="mapping_invalid", field="mapping"
        ) from None


@router.post(
    "/imports/preview",
    response={200: ImportPreviewOut, **PROBLEM_RESPONSES},
    summary="Read a statement without saving anything (multipart: file, mapping)",
    description=MAPPING_HELP,
)
def import_preview(request: HttpRequest, file: File[UploadedFile], mapping: Form[str] = ""):
    data = services.upload_read(file)
    preview = services.import_preview(
        owner=request.auth, data=data, filename=file.name or "", mapping=_mapping(data, mapping)
    )
    return {
        "format": preview.format,
        "filename": preview.filename,
        "rows": [r.__dict__ for r in preview.rows],
        "new_rows": preview.new_rows,
        "duplicates": preview.duplicates,
        "transfers": preview.transfers,
        "skipped_zero": preview.skipped_zero,
        "previously_imported_at": preview.previous.created_at if preview.previous else None,
    }


@router.post(
    "/imports",
    response={201: ImportBatchOut, **PROBLEM_RESPONSES},
    summary="Import a statement: every row or none (multipart: file, mapping)",
    description=MAPPING_HELP + " Duplicates are skipped unless `include_duplicates` is true. "
    "`exclude_lines`: the lines to leave out (owner draws, transfers between your accounts, "
    "payouts), a JSON list such as `[4, 9]` or `4,9`; when it is not sent, the rows the preview "
    "flags as `transfer` are left out (send `[]` to import them). Left-out rows are not saved "
    "and are counted in `excluded`. "
    "**422** `import_rows_invalid`: nothing saved; `errors` lists each bad line.",
)
def import_create(
    request: HttpRequest,
    file: File[UploadedFile],
    mapping: Form[str] = "",
    include_duplicates: Form[bool] = False,
    exclude_lines: Form[str] = "",
):
    data = services.upload_read(file)
    batch = services.import_commit(
        owner=request.auth,
        data=data,
        filename=file.name or "",
        mapping=_mapping(data, mapping),
        include_duplicates=include_duplicates,
        exclude_lines=_exclude_lines(exclude_lines),
    )
    return Status(201, batch)


@router.get("/imports", response=list[ImportBatchOut], summary="Your imports")
@paginate(LimitOffsetPage)
def imports_list(request: HttpRequest):
    return selectors.import_batches(request.auth)


@router.get("/imports/{batch_id}", response={200: ImportBatchOut, **PROBLEM_RESPONSES})
def import_get(request: HttpRequest, batch_id: int):
    return selectors.import_batch_get(request.auth, batch_id)
