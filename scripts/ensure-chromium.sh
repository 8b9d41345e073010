#!/usr/bin/env bash
# Make sure Debian's Chromium is installed for the Playwright browser journeys.
# Playwright's own browser download is never used (no `playwright install`):
# tests/browser/conftest.py launches /usr/bin/chromium.
set -euo pipefail
chromium=/usr/bin/chromium
if [[ ! -x "$chromium" ]]; then
  if [[ "$(id -u)" -eq 0 ]]; then
    echo "chromium: $chromium is missing; installing Debian's chromium package"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
  else
    echo "chromium: $chromium is missing. The browser tests drive Debian's Chromium." >&2
    echo "  Install it with:  sudo apt-get install chromium" >&2
    echo "  then run 'make test-browser' again." >&2
    exit 1
  fi
fi
# stderr dropped: Debian's launcher script prints a harmless '[: unexpected operator' on some hosts.
echo "chromium: $("$chromium" --version 2>/dev/null)"
