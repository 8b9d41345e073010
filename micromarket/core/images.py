"""Uploaded images: checked by their content (never their name), normalised, resized.

Every image the site keeps goes through ``image_normalise``: it must decode as JPEG, PNG, WebP or
GIF within size and pixel limits; it is rotated upright by its EXIF orientation, stripped of its
metadata (EXIF often carries GPS coordinates) and re-encoded as WebP.
"""

from __future__ import annotations

import io
import uuid
import warnings

from django.core.files.base import ContentFile
from PIL import Image, ImageOps, UnidentifiedImageError

from micromarket.core.errors import ValidationFailed

ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF"}
MAX_PIXELS = 40_000_000  # 40 megapixels: more than any phone camera; stops decompression bombs


def _human_bytes(n: int) -> str:
    return f"{n / (1024 * 1024):.0f} MB" if n >= 1024 * 1024 else f"{n // 1024} KB"


def image_normalise(
    upload,
    *,
    field: str,
    max_bytes: int,
    max_side: int,
    square: bool = False,
) -> ContentFile:
    """Return a re-encoded WebP copy of ``upload`` or raise ValidationFailed on ``field``."""
    size = getattr(upload, "size", None)
    if size is None:
        upload.seek(0, io.SEEK_END)
        size = upload.tell()
    if size > max_bytes:
        raise ValidationFailed(
            f"That image is {_human_bytes(size)}; the limit is {_human_bytes(max_bytes)}.",
            field=field,
            code="image_too_large",
        )
    not_an_image = ValidationFailed(
        "That file is not an image we can read. Upload a JPEG, PNG, WebP or GIF picture.",
        field=field,
        code="image_invalid",
    )
    try:
        upload.seek(0)
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(upload) as probe:
                if probe.format not in ALLOWED_FORMATS:
                    raise not_an_image
                if probe.width * probe.height > MAX_PIXELS:
                    raise ValidationFailed(
                        f"That image is {probe.width}×{probe.height} pixels; "
                        "the limit is 40 megapixels.",
                        field=field,
                        code="image_too_large",
                    )
                probe.verify()
            upload.seek(0)
            with Image.open(upload) as img:
                img.load()
                img = ImageOps.exif_transpose(img)
                img = img.convert("RGBA" if img.mode in ("RGBA", "LA", "P") else "RGB")
                if square:
                    side = min(max_side, img.width, img.height)
                    img = ImageOps.fit(img, (side, side), method=Image.Resampling.LANCZOS)
                else:
                    img.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
                out = io.BytesIO()
                img.save(out, format="WEBP", quality=85, method=4)
    except ValidationFailed:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ValidationFailed(
            "That image has too many pixels; the limit is 40 megapixels.",
            field=field,
            code="image_too_large",
        ) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise not_an_image from exc
    return ContentFile(out.getvalue(), name=f"{uuid.uuid4().hex}.webp")
