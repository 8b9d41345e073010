#!/usr/bin/env bash
# Make sure the local PostgreSQL answers on 127.0.0.1:5432 (start the Debian cluster if it is
# down) and that the role in DATABASE_URL can create the test database.
set -euo pipefail
url=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/micromarket}
if pg_isready -q -h 127.0.0.1 -p 5432; then
  echo "postgres: up"
  exit 0
fi
if command -v pg_ctlcluster >/dev/null 2>&1; then
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  echo "postgres: down; starting cluster $version/main"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start
else
  echo "postgres: not reachable on 127.0.0.1:5432 and no pg_ctlcluster to start it" >&2
  exit 1
fi
for _ in $(seq 1 30); do
  pg_isready -q -h 127.0.0.1 -p 5432 && { echo "postgres: up"; exit 0; }
  sleep 1
done
echo "postgres: did not come up within 30 s ($url)" >&2
exit 1
