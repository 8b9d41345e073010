"""Uploaded images are judged by their content and re-encoded."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from micromarket.core.errors import ValidationFailed
from micromarket.core.images import image_normalise


def _image_file(fmt="PNG", size=(800, 600), name="photo.png", exif=None):
    buf = io.BytesIO()
    img = Image.new("RGB", size, (200, 100, 50))
    kwargs = {"exif": exif} if exif is not None else {}
    img.save(buf, format=fmt, **kwargs)
    return SimpleUploadedFile(name, buf.getvalue())


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF", "WEBP"])
def test_common_formats_become_a_resized_webp(fmt):
    out = image_normalise(_image_file(fmt), field="f", max_bytes=5_000_000, max_side=512)
    img = Image.open(io.BytesIO(out.read()))
    assert img.format == "WEBP"
    assert max(img.size) == 512
    assert out.name.endswith(".webp")


def test_square_crop():
    out = image_normalise(_image_file(), field="f", max_bytes=5_000_000, max_side=256, square=True)
    assert Image.open(io.BytesIO(out.read())).size == (256, 256)


def test_exif_metadata_such_as_gps_is_removed():
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {2: (51.0, 30.0, 0.0)}  # GPS latitude
    out = image_normalise(
        _image_file("JPEG", exif=exif.tobytes()), field="f", max_bytes=5_000_000, max_side=512
    )
    assert not Image.open(io.BytesIO(out.read())).getexif()


def test_a_text_file_named_png_is_rejected():
    fake = SimpleUploadedFile("avatar.png", b"#!/bin/sh\necho not an image\n")
    with pytest.raises(ValidationFailed) as err:
        image_normalise(fake, field="avatar", max_bytes=5_000_000, max_side=512)
    assert err.value.code == "image_invalid"
    assert err.value.field == "avatar"


def test_a_truncated_image_is_rejected():
    data = _image_file("PNG").read()[:200]
    with pytest.raises(ValidationFailed) as err:
        image_normalise(SimpleUploadedFile("x.png", data), field="f", max_bytes=10**7, max_side=64)
    assert err.value.code == "image_invalid"


def test_too_many_bytes_is_rejected_with_the_limit_in_the_message():
    with pytest.raises(ValidationFailed, match="the limit is 1 KB") as err:
        image_normalise(_image_file(), field="f", max_bytes=1024, max_side=64)
    assert err.value.code == "image_too_large"


def test_a_decompression_bomb_is_rejected():
    # 10000x10000 pixels of one colour compresses to a few KB but would take 300 MB to decode.
    bomb = _image_file("PNG", size=(10_000, 10_000))
    assert bomb.size < 1_000_000
    with pytest.raises(ValidationFailed) as err:
        image_normalise(bomb, field="f", max_bytes=5_000_000, max_side=64)
    assert err.value.code == "image_too_large"
