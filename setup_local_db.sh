#!/usr/bin/env bash
# Create AdSpark's role and database on a local PostgreSQL, point .env at it, migrate, and create
# the default periodic tasks. Idempotent: run it again and nothing is duplicated.
set -euo pipefail

REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

usage() {
  cat <<USAGE
Usage: ./setup_local_db.sh [options]

  --db NAME           database to create (default adspark)
  --user ROLE         role that owns it (default adspark)
  --password PW       the role's password (default none: local trust/peer auth; or \$ADSPARK_DB_PASSWORD)
  --host HOST         PostgreSQL host (default 127.0.0.1)
  --port PORT         PostgreSQL port (default 5432)
  --admin-user USER   superuser that creates them (default postgres; its password from \$PGPASSWORD)
  --env-file FILE     where DATABASE_URL is written (default $REPO_DIR/.env)
  --no-migrate        only create the role and database and write DATABASE_URL
  -h, --help          this help

Steps: CREATE ROLE / CREATE DATABASE if missing; DATABASE_URL=postgres://ROLE[:PW]@HOST:PORT/DB
replaces any DATABASE_URL line in the env file; manage.py migrate; manage.py setup_periodic_tasks
(when the project has that command) for the default schedules of celery beat.
Needs psql (apt install postgresql-client / brew install libpq).
USAGE
}

db=adspark; role=adspark; password="${ADSPARK_DB_PASSWORD:-}"; host=127.0.0.1; port=5432
admin=postgres; env_file="$REPO_DIR/.env"; migrate=true
while (($#)); do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --db) db="$2"; shift 2 ;;
    --user) role="$2"; shift 2 ;;
    --password) password="$2"; shift 2 ;;
    --host) host="$2"; shift 2 ;;
    --port) port="$2"; shift 2 ;;
    --admin-user) admin="$2"; shift 2 ;;
    --env-file) env_file="$2"; shift 2 ;;
    --no-migrate) migrate=false; shift ;;
    *) echo "unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
for name in "$db" "$role"; do
  [[ "$name" =~ ^[a-zA-Z_][a-zA-Z0-9_]*$ ]] || { echo "invalid name '$name' (letters, digits, _)" >&2; exit 2; }
done
command -v psql >/dev/null || { echo "psql not found: install the PostgreSQL client" >&2; exit 1; }
if [[ -x "$REPO_DIR/.venv/bin/python" ]]; then python="$REPO_DIR/.venv/bin/python"; else python="$(command -v python3)"; fi

psql_admin() { psql -v ON_ERROR_STOP=1 -X -q -h "$host" -p "$port" -U "$admin" -d postgres "$@"; }

if ! psql_admin -tAc "SELECT 1" >/dev/null; then
  echo "cannot connect to PostgreSQL at $host:$port as $admin (is it running? PGPASSWORD?)" >&2
  exit 1
fi

if [[ "$(psql_admin -tAc "SELECT 1 FROM pg_roles WHERE rolname = '$role'")" == 1 ]]; then
  echo "role $role exists"
else
  psql_admin -c "CREATE ROLE \"$role\" LOGIN"
  echo "role $role created"
fi
if [[ -n "$password" ]]; then
  # The password goes to psql on standard input, never on its command line (visible in ps and
  # /proc to every local user); single quotes doubled for the SQL literal.
  psql_admin <<SQL
ALTER ROLE "$role" PASSWORD '${password//\'/\'\'}';
SQL
fi
if [[ "$(psql_admin -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'")" == 1 ]]; then
  echo "database $db exists"
else
  psql_admin -c "CREATE DATABASE \"$db\" OWNER \"$role\""
  echo "database $db created (owner $role)"
fi

userinfo="$role"
if [[ -n "$password" ]]; then
  userinfo="$role:$("$python" -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$password")"
fi
url="postgres://$userinfo@$host:$port/$db"

if [[ ! -f "$env_file" ]]; then
  echo "DJANGO_DEBUG=true" >"$env_file"
fi
tmp="$(mktemp)"
grep -v '^DATABASE_URL=' "$env_file" >"$tmp" || true
echo "DATABASE_URL=$url" >>"$tmp"
cat "$tmp" >"$env_file"
rm -f "$tmp"
echo "wrote DATABASE_URL=postgres://$role${password:+:***}@$host:$port/$db to $env_file"

# manage.py with the env file's variables loaded (real environment variables still win).
manage() {
  "$python" - "$env_file" "$@" <<'PY'
import os, sys
from dotenv import load_dotenv
load_dotenv(sys.argv[1], override=False)
from django.core.management import execute_from_command_line
execute_from_command_line(["manage.py", *sys.argv[2:]])
PY
}

if $migrate; then
  cd "$REPO_DIR/backend"
  export DATABASE_URL="$url" PYTHONPATH="$REPO_DIR/backend${PYTHONPATH:+:$PYTHONPATH}"
  export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-backend.settings}"
  manage migrate --noinput
  if manage help setup_periodic_tasks >/dev/null 2>&1; then
    manage setup_periodic_tasks
  else
    echo "manage.py setup_periodic_tasks does not exist yet: no default periodic tasks created"
  fi
fi
echo "done: the database is ready ($db on $host:$port)"
