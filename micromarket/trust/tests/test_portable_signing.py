"""Portable reputation: the export is signed with Ed25519, verifies with the published key,
and fails when any byte of the payload or the signature changes."""

from __future__ import annotations

import json
import os
import stat
from io import StringIO

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import call_command

from micromarket.accounts.tests.factories import UserFactory
from micromarket.catalog.tests.factories import seller
from micromarket.core.errors import PermissionDenied
from micromarket.trust import signing
from micromarket.trust.models import Review
from micromarket.trust.selectors import portable
from micromarket.trust.tests.factories import completed_order

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def own_key(settings, tmp_path):
    """Every test signs with a key generated in its own folder."""
    settings.TRUST_SIGNING_KEY = ""
    settings.TRUST_SIGNING_KEY_FILE = tmp_path / "trust-signing-key.pem"
    signing._cache.clear()
    yield settings.TRUST_SIGNING_KEY_FILE
    signing._cache.clear()


def reviewed_seller():
    """A seller with one public review from a buyer (written directly: reviews are another
    area's; the export only reads them)."""
    order = completed_order()
    from django.utils import timezone

    Review.objects.create(
        order=order,
        offer=order.offer,
        author=order.buyer,
        subject=order.seller,
        role="buyer",
        rating=5,
        communication=5,
        accuracy=4,
        value=5,
        text="Délicieux travail — fast and kind.",
        reveal_at=timezone.now(),
        revealed_at=timezone.now(),
        reply="Thank you!",
    )
    return order.seller


def verify(document, keys=None) -> str:
    try:
        signing.verify(document, keys)
    except signing.VerificationError as exc:
        return f"INVALID: {exc}"
    return "valid"


def test_the_export_holds_the_figures_and_reviews_and_verifies():
    user = reviewed_seller()
    document = portable.reputation_document(seller=user)
    payload = document["payload"]
    assert payload["type"] == "micromarket.reputation/v1"
    assert payload["subject"]["id"] == user.pk
    assert payload["subject"]["shop"]["url"].endswith(f"/shops/{user.shop.slug}/")
    assert payload["figures"]["reputation"]["count"] == 1
    assert payload["figures"]["reputation"]["average"] == 5.0
    assert payload["figures"]["completed_orders"] == 1
    assert payload["figures"]["badges"]["email_verified"] is True
    review = payload["reviews"][0]
    assert (review["rating"], review["accuracy"], review["order_kind"]) == (5, 4, "service")
    assert review["reply"] == "Thank you!"
    assert document["alg"] == "Ed25519"
    assert document["kid"] == signing.key_id(signing.public_key())
    assert verify(document) == "valid"


def test_changing_one_byte_of_the_payload_or_the_signature_fails():
    document = portable.reputation_document(seller=reviewed_seller())
    text = json.dumps(document, ensure_ascii=False)
    assert verify(json.loads(text)) == "valid"
    # One byte of the payload's text: a 5-star rating becomes 4.
    changed = text.replace('"rating": 5', '"rating": 4', 1)
    assert changed != text
    assert verify(json.loads(changed)).startswith("INVALID")
    # One character of a review's text.
    changed = text.replace("fast and kind", "fast and kinD", 1)
    assert verify(json.loads(changed)) == "INVALID: the signature does not match the payload"
    # Every position of the signature.
    signature = document["signature"]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    for i in range(len(signature)):
        other = alphabet[(alphabet.index(signature[i]) + 1) % 64]
        forged = {**document, "signature": signature[:i] + other + signature[i + 1 :]}
        assert verify(forged).startswith("INVALID"), i


def test_another_key_does_not_verify():
    document = portable.reputation_document(seller=reviewed_seller())
    stranger = Ed25519PrivateKey.generate().public_key()
    assert verify(document, {document["kid"]: stranger}).startswith("INVALID")
    assert verify({**document, "kid": "0123456789abcdef"}).startswith("INVALID: unknown key")


def test_the_jwks_matches_the_signing_key(client):
    body = client.get("/.well-known/micromarket-reputation-keys.json").json()
    (key,) = body["keys"]
    public = signing.public_key()
    assert key == {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": signing.b64url(signing.raw_public(public)),
        "kid": signing.key_id(public),
        "use": "sig",
        "alg": "EdDSA",
    }
    assert len(key["kid"]) == 16
    assert client.get("/api/v1/reputation/keys").json() == body
    document = portable.reputation_document(seller=reviewed_seller())
    assert verify(document, signing.public_keys_from_jwks(body)) == "valid"


def test_the_key_file_is_created_once_with_mode_0600_and_reused(own_key):
    assert not own_key.exists()
    first = signing.key_id(signing.public_key())
    assert own_key.exists()
    assert stat.S_IMODE(os.stat(own_key).st_mode) == 0o600
    content = own_key.read_bytes()
    signing._cache.clear()  # as in a new process
    assert signing.key_id(signing.public_key()) == first
    assert own_key.read_bytes() == content


def test_a_key_from_the_setting_wins(settings, own_key):
    import base64

    from cryptography.hazmat.primitives import serialization

    key = Ed25519PrivateKey.generate()
    raw = key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    settings.TRUST_SIGNING_KEY = base64.b64encode(raw).decode()
    assert signing.key_id(signing.public_key()) == signing.key_id(key.public_key())
    assert not own_key.exists()


def test_export_page_gives_a_json_attachment_to_the_seller(client):
    user = reviewed_seller()
    client.force_login(user)
    response = client.get("/seller/reputation/export/")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert verify(json.loads(response.content)) == "valid"
    api = client.get("/api/v1/reputation/export")
    assert api.status_code == 200
    assert verify(api.json()) == "valid"


def test_export_is_refused_to_non_sellers(client):
    with pytest.raises(PermissionDenied):
        portable.reputation_document(seller=UserFactory())
    client.force_login(UserFactory())
    assert client.get("/seller/reputation/export/").status_code == 403
    assert client.get("/api/v1/reputation/export").status_code == 403
    client.logout()
    assert client.get("/seller/reputation/export/").status_code == 302
    assert client.get("/api/v1/reputation/export").status_code == 401


def run_verify(*args) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("reputation_verify", *args, stdout=out)
    except SystemExit as exc:
        return exc.code, out.getvalue().strip()
    return 0, out.getvalue().strip()


def test_the_command_says_valid_or_invalid_with_exit_codes(tmp_path):
    document = portable.reputation_document(seller=seller())
    good = tmp_path / "good.json"
    good.write_text(json.dumps(document, indent=2, ensure_ascii=False), encoding="utf-8")
    assert run_verify(str(good)) == (0, "valid")

    bad = tmp_path / "bad.json"
    bad.write_text(good.read_text().replace('"level": "new"', '"level": "top"', 1))
    assert bad.read_text() != good.read_text()
    code, out = run_verify(str(bad))
    assert code == 1
    assert out == "INVALID: the signature does not match the payload"

    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps(signing.jwks()))
    assert run_verify(str(good), "--keys", str(keys)) == (0, "valid")
    other = {"keys": [signing.jwk(Ed25519PrivateKey.generate().public_key())]}
    keys.write_text(json.dumps(other))
    code, out = run_verify(str(good), "--keys", str(keys))
    assert code == 1
    assert out.startswith("INVALID: unknown key id")

    junk = tmp_path / "junk.json"
    junk.write_text("not json")
    code, out = run_verify(str(junk))
    assert code == 1
    assert out.startswith("INVALID: cannot read the document")


def test_the_documented_standalone_snippet_verifies_an_export(tmp_path):
    """The docs' snippet (cryptography only), run as written."""
    document = portable.reputation_document(seller=reviewed_seller())
    (tmp_path / "reputation.json").write_text(json.dumps(document, indent=2, ensure_ascii=False))
    (tmp_path / "keys.json").write_text(json.dumps(signing.jwks()))
    namespace: dict = {}
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        exec(STANDALONE, namespace)  # noqa: S102
    finally:
        os.chdir(cwd)
    assert namespace["result"] == "valid"


STANDALONE = """
import base64, json
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

def b64(s): return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))

doc = json.load(open("reputation.json", encoding="utf-8"))
keys = {k["kid"]: k for k in json.load(open("keys.json"))["keys"]}
key = Ed25519PublicKey.from_public_bytes(b64(keys[doc["kid"]]["x"]))
data = json.dumps(doc["payload"], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
key.verify(b64(doc["signature"]), data.encode())  # raises InvalidSignature if changed
result = "valid"
"""
