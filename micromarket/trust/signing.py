"""Ed25519 signing of portable reputation documents (the portable area; see docs/trust.md).

The platform signs a seller's exported reputation so anyone can check, without asking us, that
the figures and reviews are the ones we issued: the signature covers the *canonical JSON* of
the payload (keys sorted, no spaces, UTF-8), so re-serialising the payload reproduces the
signed bytes exactly. The private key comes from ``TRUST_SIGNING_KEY`` (PEM, or base64 of the
32 raw bytes) or, when that is unset, from a PEM file generated once (mode 0600). The public key
is published as a JWKS at ``/.well-known/micromarket-reputation-keys.json``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

ALG = "Ed25519"

_cache: dict[tuple, Ed25519PrivateKey] = {}


def canonical_json(payload) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    text = text.strip()
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _from_setting(value: str) -> Ed25519PrivateKey:
    value = value.strip()
    try:
        if value.startswith("-----BEGIN"):
            key = serialization.load_pem_private_key(value.encode(), password=None)
        else:
            key = Ed25519PrivateKey.from_private_bytes(base64.b64decode(value, validate=True))
    except (ValueError, TypeError, binascii.Error) as exc:
        raise ImproperlyConfigured(
            "TRUST_SIGNING_KEY must be an Ed25519 private key: PEM, or base64 of 32 bytes."
        ) from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise ImproperlyConfigured("TRUST_SIGNING_KEY must be an Ed25519 key.")
    return key


def _from_file(path: Path) -> Ed25519PrivateKey:
    """Generate the key once; O_EXCL so two processes starting together keep the same key."""
    if not path.exists():
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "wb") as fh:
                fh.write(pem)
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ImproperlyConfigured(f"{path} does not hold an Ed25519 private key.")
    return key


def private_key() -> Ed25519PrivateKey:
    source = (settings.TRUST_SIGNING_KEY, str(settings.TRUST_SIGNING_KEY_FILE))
    if source not in _cache:
        _cache[source] = (
            _from_setting(settings.TRUST_SIGNING_KEY)
            if settings.TRUST_SIGNING_KEY
            else _from_file(Path(settings.TRUST_SIGNING_KEY_FILE))
        )
    return _cache[source]


def public_key() -> Ed25519PublicKey:
    return private_key().public_key()


def raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(key: Ed25519PublicKey) -> str:
    """The first 16 hex digits of the SHA-256 of the raw public key."""
    return hashlib.sha256(raw_public(key)).hexdigest()[:16]


def jwk(key: Ed25519PublicKey) -> dict:
    return {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": b64url(raw_public(key)),
        "kid": key_id(key),
        "use": "sig",
        "alg": "EdDSA",
    }


def jwks() -> dict:
    """The platform's public signing keys (one today; a list, so keys can be rotated)."""
    return {"keys": [jwk(public_key())]}


def sign(payload) -> dict:
    """The signed envelope of ``payload``: {payload, signature, alg, kid}."""
    key = private_key()
    return {
        "payload": payload,
        "signature": b64url(key.sign(canonical_json(payload))),
        "alg": ALG,
        "kid": key_id(key.public_key()),
    }


class VerificationError(Exception):
    """Why a document does not verify (the message is shown to the person checking)."""


def public_keys_from_jwks(jwks_doc: dict) -> dict[str, Ed25519PublicKey]:
    """{kid: key} of the Ed25519 keys in a JWKS document."""
    keys = {}
    for item in (jwks_doc or {}).get("keys", []) if isinstance(jwks_doc, dict) else []:
        if not isinstance(item, dict) or item.get("kty") != "OKP" or item.get("crv") != "Ed25519":
            continue
        try:
            key = Ed25519PublicKey.from_public_bytes(b64url_decode(item["x"]))
        except (KeyError, ValueError, TypeError, binascii.Error):
            continue
        keys[item.get("kid") or key_id(key)] = key
    return keys


def verify(document, keys: dict[str, Ed25519PublicKey] | None = None) -> dict:
    """Return the payload of a signed envelope, or raise VerificationError saying why not.
    ``keys`` defaults to this platform's key."""
    if keys is None:
        key = public_key()
        keys = {key_id(key): key}
    if not isinstance(document, dict):
        raise VerificationError("not a signed document (expected a JSON object)")
    missing = [k for k in ("payload", "signature", "alg", "kid") if k not in document]
    if missing:
        raise VerificationError(f"missing {', '.join(missing)}")
    if document["alg"] != ALG:
        raise VerificationError(f"unsupported algorithm {document['alg']!r}")
    key = keys.get(document["kid"])
    if key is None:
        raise VerificationError(f"unknown key id {document['kid']!r}")
    try:
        signature = b64url_decode(str(document["signature"]))
    except (ValueError, binascii.Error) as exc:
        raise VerificationError("the signature is not base64url") from exc
    # base64 ignores the unused bits of the last character: insist on the one canonical spelling
    # so that every changed byte of the document is detected.
    if b64url(signature) != document["signature"]:
        raise VerificationError("the signature is not canonical base64url")
    try:
        key.verify(signature, canonical_json(document["payload"]))
    except InvalidSignature as exc:
        raise VerificationError("the signature does not match the payload") from exc
    return document["payload"]
