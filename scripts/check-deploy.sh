#!/usr/bin/env bash
# `manage.py check --deploy` on the production profile must report no issue at all.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
out=$(DJANGO_SETTINGS_MODULE=micromarket.settings.production \
  ALLOWED_HOSTS=market.example.org \
  SECRET_KEY="$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(64))')" \
  MICROMARKET_VAR_DIR="$tmp" \
  .venv/bin/micromarket check --deploy --fail-level WARNING 2>&1) || { echo "$out"; exit 1; }
echo "$out"
echo "$out" | grep -q "System check identified no issues (0 silenced)." || {
  echo "check --deploy reported issues" >&2
  exit 1
}
