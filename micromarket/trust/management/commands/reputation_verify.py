"""micromarket reputation_verify FILE [--keys JWKS_FILE_OR_URL]

Checks the signature of an exported reputation document. Prints "valid" (exit 0) or
"INVALID: reason" (exit 1). Without --keys it uses this installation's own signing key; a
URL is fetched only when given explicitly.
"""

from __future__ import annotations

import json
import sys
import urllib.request
from pathlib import Path

from django.core.management.base import BaseCommand

from micromarket.trust import signing


class Command(BaseCommand):
    help = "Verify the signature of an exported reputation document (JSON file, or - for stdin)."

    def add_arguments(self, parser):
        parser.add_argument("file", help="The exported document (.json), or - for stdin.")
        parser.add_argument(
            "--keys",
            help="A JWKS file or https:// URL with the issuer's public keys "
            "(default: this installation's key).",
        )

    def _load_keys(self, source: str) -> dict:
        if source.startswith(("https://", "http://")):
            with urllib.request.urlopen(source, timeout=10) as response:  # noqa: S310 (explicit)
                return json.loads(response.read())
        return json.loads(Path(source).read_text(encoding="utf-8"))

    def handle(self, *args, file: str, keys: str | None = None, **options):
        try:
            text = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
            document = json.loads(text)
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            return self._invalid(f"cannot read the document ({exc})")
        key_set = None
        if keys:
            try:
                key_set = signing.public_keys_from_jwks(self._load_keys(keys))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError, ValueError) as exc:
                return self._invalid(f"cannot read the keys ({exc})")
            if not key_set:
                return self._invalid("the key set has no Ed25519 keys")
        try:
            payload = signing.verify(document, key_set)
        except signing.VerificationError as exc:
            return self._invalid(str(exc))
        self.stdout.write("valid")
        if options.get("verbosity", 1) > 1 and isinstance(payload, dict):
            subject = payload.get("subject", {})
            self.stdout.write(
                f"{payload.get('type')} issued {payload.get('issued_at')} "
                f"for {subject.get('display_name')} (#{subject.get('id')})"
            )

    def _invalid(self, reason: str):
        self.stdout.write(f"INVALID: {reason}")
        sys.exit(1)
