"""Uploaded files judged by their content: a small allow-list of signatures, never the name.

Used for digital products (and later message attachments, receipts). Executables and scripts
are refused whatever they are called.
"""

from __future__ import annotations

import hashlib
import zipfile
from dataclasses import dataclass

from micromarket.core.errors import ValidationFailed

# (content type, human name, test on the first bytes)
_SIGNATURES: list[tuple[str, str, object]] = [
    ("application/pdf", "PDF", lambda b: b.startswith(b"%PDF-")),
    ("image/png", "PNG image", lambda b: b.startswith(b"\x89PNG\r\n\x1a\n")),
    ("image/jpeg", "JPEG image", lambda b: b.startswith(b"\xff\xd8\xff")),
    ("image/gif", "GIF image", lambda b: b[:6] in (b"GIF87a", b"GIF89a")),
    ("image/webp", "WebP image", lambda b: b[:4] == b"RIFF" and b[8:12] == b"WEBP"),
    (
        "audio/mpeg",
        "MP3 audio",
        lambda b: b.startswith(b"ID3") or b[:2] in (b"\xff\xfb", b"\xff\xf3"),
    ),
    ("video/mp4", "MP4 video", lambda b: b[4:8] == b"ftyp"),
]
_EXECUTABLE_MAGIC = (
    b"MZ",
    b"\x7fELF",
    b"#!",
    b"\xca\xfe\xba\xbe",
    b"\xcf\xfa\xed\xfe",
    b"\xfe\xed\xfa",
)

ZIP_TYPES = {
    "application/epub+zip": "EPUB e-book",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "Word document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "Excel workbook",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "PowerPoint",
}


@dataclass(frozen=True)
class SniffedFile:
    content_type: str
    description: str
    size: int
    sha256: str


def _read_all(upload) -> bytes:
    upload.seek(0)
    data = upload.read()
    upload.seek(0)
    return data


def _zip_kind(upload) -> tuple[str, str] | None:
    try:
        with zipfile.ZipFile(upload) as archive:
            names = archive.namelist()
            if "mimetype" in names:
                declared = archive.read("mimetype").decode("ascii", "replace").strip()
                if declared in ZIP_TYPES:
                    return declared, ZIP_TYPES[declared]
            for name in names:  # every member first: an Office file may not smuggle a program
                with archive.open(name) as member:
                    if member.read(4).startswith(_EXECUTABLE_MAGIC):
                        return None
            for name in names:
                if name.startswith("word/"):
                    key = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
                    return key, ZIP_TYPES[key]
                if name.startswith("xl/"):
                    key = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
                    return key, ZIP_TYPES[key]
                if name.startswith("ppt/"):
                    key = (
                        "application/vnd.openxmlformats-officedocument.presentationml.presentation"
                    )
                    return key, ZIP_TYPES[key]
            return "application/zip", "ZIP archive"
    except (zipfile.BadZipFile, OSError, ValueError):
        return None
    finally:
        upload.seek(0)


def file_sniff(upload, *, field: str, max_bytes: int) -> SniffedFile:
    """Identify ``upload`` by its bytes or raise ValidationFailed on ``field``."""
    declared = getattr(upload, "size", None)
    if declared is not None and declared > max_bytes:  # refuse before reading it into memory
        raise ValidationFailed(
            f"That file is {declared / 1048576:.1f} MB; the limit is {max_bytes // 1048576} MB.",
            field=field,
            code="file_too_large",
        )
    data = _read_all(upload)
    size = len(data)
    if size == 0:
        raise ValidationFailed("That file is empty.", field=field, code="file_empty")
    if size > max_bytes:
        raise ValidationFailed(
            f"That file is {size / 1048576:.1f} MB; the limit is {max_bytes // 1048576} MB.",
            field=field,
            code="file_too_large",
        )
    head = data[:64]
    digest = hashlib.sha256(data).hexdigest()
    refused = ValidationFailed(
        "That type of file is not allowed. Upload a PDF, image, ZIP, EPUB, Office document, "
        "MP3, MP4, or plain text/CSV.",
        field=field,
        code="file_type_not_allowed",
    )
    if head.startswith(_EXECUTABLE_MAGIC):
        raise refused
    for content_type, description, test in _SIGNATURES:
        if test(head):
            return SniffedFile(content_type, description, size, digest)
    if head.startswith(b"PK\x03\x04"):
        kind = _zip_kind(upload)
        if kind is None:
            raise refused
        return SniffedFile(kind[0], kind[1], size, digest)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise refused from None
    if "\x00" in text:
        raise refused
    return SniffedFile("text/plain", "text file", size, digest)
