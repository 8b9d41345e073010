"""Pages of the imports area: upload a statement, map its columns (CSV), see every row as it
will be recorded (duplicates and probable transfers flagged, a box per row to leave it out),
then import it all — or, when a row is bad, nothing, with the line numbers to fix. See
docs/books/entries.md#imports."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from micromarket.books import categories
from micromarket.books.forms.imports import MappingForm, UploadForm, guess_mapping
from micromarket.books.models import ImportBatch
from micromarket.books.selectors import imports as selectors
from micromarket.books.services import imports as services
from micromarket.core.errors import DomainError, NotFound, ValidationFailed

PREVIEW_ROWS = 200


def _errors(exc: DomainError) -> list[str]:
    return [e["msg"] for e in exc.errors] or [exc.message]


def _index(request, form=None, status=200):
    return render(
        request,
        "books/imports/index.html",
        {
            "tab": "imports",
            "form": form or UploadForm(),
            "batches": list(selectors.import_batches(request.user)[:20]),
        },
        status=status,
    )


def _lines(values) -> set[int]:
    return {int(v) for v in values if str(v).isdigit()}


def _exclude_lines(request, preview) -> set[int] | None:
    """The lines the seller left out: rows shown with their box unticked, plus flagged rows
    beyond the ones shown. None when the page had no boxes yet (the defaults apply)."""
    shown = _lines(request.POST.getlist("shown"))
    if not shown:
        return None
    ticked = _lines(request.POST.getlist("include"))
    hidden = {r.line for r in preview.rows if r.transfer and r.line not in shown}
    return (shown - ticked) | hidden


def _preview_page(request, *, token, filename, data, form=None, status=200, errors=()):
    fmt = services.file_format(data)
    preview, errors = None, list(errors)
    header: list[str] = []
    if fmt == ImportBatch.Format.CSV:
        try:
            header = services.csv_header(data)
        except ValidationFailed as exc:
            return _index(request, _upload_error(exc), status=400)
        if form is None:
            initial = {
                "token": token,
                "filename": filename,
                "has_header": True,
                "default_currency": getattr(request.user, "preferred_currency", "") or "USD",
                **guess_mapping(header),
            }
            form = MappingForm(initial=initial, header=header)
            mapping = services.CsvMapping.from_dict(
                {
                    k: int(v)
                    if k
                    in (
                        "date",
                        "amount",
                        "debit",
                        "credit",
                        "payee",
                        "note",
                        "category",
                        "currency",
                    )
                    else v
                    for k, v in initial.items()
                    if k not in ("token", "filename")
                }
            )
        else:
            mapping = form.mapping() if form.is_valid() else None
    else:
        mapping = None
        if form is None:
            form = MappingForm(initial={"token": token, "filename": filename}, header=[])
    if fmt == ImportBatch.Format.OFX or mapping is not None:
        try:
            preview = services.import_preview(
                owner=request.user, data=data, filename=filename, mapping=mapping
            )
        except ValidationFailed as exc:
            errors += [e for e in _errors(exc) if e not in errors]
            status = 400 if request.method == "POST" and "action" in request.POST else status
    excluded = None
    if preview is not None and request.method == "POST":
        excluded = _exclude_lines(request, preview)
    if preview is not None:
        excluded = preview.excluded_lines(excluded)
    return render(
        request,
        "books/imports/preview.html",
        {
            "tab": "imports",
            "form": form,
            "format": fmt,
            "filename": filename,
            "token": token,
            "preview": preview,
            "rows": preview.rows[:PREVIEW_ROWS] if preview else [],
            "more": max(0, len(preview.rows) - PREVIEW_ROWS) if preview else 0,
            "errors": errors,
            "excluded": excluded or set(),
            "header": header,
            "labels": {c.key: c.label for c in categories.ALL.values()},
        },
        status=status,
    )


def _upload_error(exc: DomainError) -> UploadForm:
    form = UploadForm()
    form.is_bound = True
    form._errors = {"file": form.error_class(_errors(exc))}
    form.cleaned_data = {}
    return form


@login_required
def imports(request):
    if request.method == "POST":
        form = UploadForm(request.POST, request.FILES)
        if not form.is_valid():
            return _index(request, form, status=400)
        upload = form.cleaned_data["file"]
        try:
            token, data = services.import_stage(owner=request.user, upload=upload)
        except DomainError as exc:
            return _index(request, _upload_error(exc), status=400)
        return _preview_page(request, token=token, filename=upload.name[:200], data=data)
    return _index(request)


@login_required
@require_POST
def import_preview(request):
    token = request.POST.get("token", "")
    filename = request.POST.get("filename", "")[:200]
    try:
        data = services.import_staged(owner=request.user, token=token)
    except NotFound as exc:
        messages.error(request, exc.message)
        return redirect("books:imports")
    fmt = services.file_format(data)
    header = services.csv_header(data) if fmt == ImportBatch.Format.CSV else []
    form = MappingForm(request.POST, header=header)
    if fmt == ImportBatch.Format.OFX:
        form.fields = {
            k: v for k, v in form.fields.items() if k in ("token", "filename", "include_duplicates")
        }
    errors: list[str] = []
    if request.POST.get("action") == "import" and form.is_valid():
        mapping = form.mapping() if fmt == ImportBatch.Format.CSV else None
        try:
            preview = services.import_preview(
                owner=request.user, data=data, filename=filename, mapping=mapping
            )
            batch = services.import_commit(
                owner=request.user,
                data=data,
                filename=filename,
                mapping=mapping,
                include_duplicates=form.cleaned_data.get("include_duplicates", False),
                exclude_lines=_exclude_lines(request, preview),
            )
        except DomainError as exc:
            errors = _errors(exc)  # shown above the preview, with every bad line
        else:
            services.import_unstage(owner=request.user, token=token)
            messages.success(request, _imported_message(batch))
            return redirect("books:entries")
    return _preview_page(
        request,
        token=token,
        filename=filename,
        data=data,
        form=form,
        status=400 if request.POST.get("action") == "import" else 200,
        errors=errors,
    )


def _imported_message(batch: ImportBatch) -> str:
    parts = [
        f"Imported {batch.imported} entr{'y' if batch.imported == 1 else 'ies'} from "
        f"{batch.filename}"
    ]
    if batch.duplicates:
        parts.append(f"{batch.duplicates} duplicate{'s' if batch.duplicates != 1 else ''} skipped")
    left_out = services.import_excluded(batch)
    if left_out:
        parts.append(f"{left_out} row{'s' if left_out != 1 else ''} skipped as transfers")
    return "; ".join(parts) + "."


urlpatterns = [
    path("books/imports/", imports, name="imports"),
    path("books/imports/preview/", import_preview, name="import_preview"),
]
