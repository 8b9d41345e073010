"""API shapes of the portable area."""

from __future__ import annotations

from typing import Any

from ninja import Schema


class SignedDocument(Schema):
    """``payload`` is signed with Ed25519 over its canonical JSON (keys sorted, no spaces,
    UTF-8); ``kid`` names the key in ``GET /reputation/keys``."""

    payload: dict[str, Any]
    signature: str  # base64url, no padding
    alg: str
    kid: str


class JWK(Schema):
    kty: str
    crv: str
    x: str
    kid: str
    use: str
    alg: str


class JWKS(Schema):
    keys: list[JWK]
