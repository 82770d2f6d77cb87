#!/usr/bin/env bash
# Start Flower (Celery's web monitor) in the background, behind basic auth.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_common.sh"

usage() {
  cat <<USAGE
Usage: FLOWER_BASIC_AUTH=user:password celery_scripts/start_celery_flower.sh [--port PORT] [--address ADDR]

Starts Flower on ADDR:PORT (default 127.0.0.1:\${FLOWER_PORT:-5555}) with basic auth from
FLOWER_BASIC_AUTH (read from the environment or .env); refuses to start without it.
Pid file $RUN_DIR/celery-flower.pid, log $LOG_DIR/celery-flower.log.
API: curl -u user:password http://127.0.0.1:5555/api/workers  (401 without credentials)
USAGE
}

port="${FLOWER_PORT:-5555}"
address=127.0.0.1
while (($#)); do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --port) port="$2"; shift 2 ;;
    --address) address="$2"; shift 2 ;;
    *) echo "unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

if [[ -z "${FLOWER_BASIC_AUTH:-}" && -f "$REPO_DIR/.env" ]]; then
  FLOWER_BASIC_AUTH="$(sed -n 's/^FLOWER_BASIC_AUTH=//p' "$REPO_DIR/.env" | tail -n 1)"
fi
if [[ "${FLOWER_BASIC_AUTH:-}" != *:* ]]; then
  echo "FLOWER_BASIC_AUTH=user:password is required (Flower must not run without auth)" >&2
  exit 2
fi
export FLOWER_BASIC_AUTH

mkdirs
pidfile="$RUN_DIR/celery-flower.pid"
if pid_alive "$pidfile"; then
  echo "flower already running (pid $(pid_of "$pidfile"))"
  exit 0
fi
# Flower has no --detach: run it under nohup in its own session and record its pid.
cd "$BACKEND_DIR"
nohup setsid "$PYTHON" -m celery -A backend flower --address="$address" --port="$port" \
  >>"$LOG_DIR/celery-flower.log" 2>&1 </dev/null &
echo $! >"$pidfile"
sleep 1
pid_alive "$pidfile" || { echo "flower failed to start; see $LOG_DIR/celery-flower.log" >&2; exit 1; }
echo "flower started on http://$address:$port (pid $(pid_of "$pidfile")), log $LOG_DIR/celery-flower.log"
