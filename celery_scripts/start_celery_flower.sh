#!/usr/bin/env bash
# Start Flower (Celery's web monitor) in the background, behind basic auth.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_common.sh"

usage() {
  cat <<USAGE
Usage: FLOWER_BASIC_AUTH=user:password celery_scripts/start_celery_flower.sh [--port PORT] [--address ADDR]

Starts Flower on ADDR:PORT (default \${FLOWER_ADDRESS:-127.0.0.1}:\${FLOWER_PORT:-5555}) with
the project's backend/flowerconfig.py: basic auth from FLOWER_BASIC_AUTH (environment or .env)
is required, an empty user or password is refused (exit 2), /metrics needs the login too.
Pid file $RUN_DIR/celery-flower.pid, log $LOG_DIR/celery-flower.log.
API: curl -u user:password http://127.0.0.1:5555/api/workers  (401 without credentials)
USAGE
}

port="${FLOWER_PORT:-5555}"
address="${FLOWER_ADDRESS:-127.0.0.1}"
while (($#)); do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --port) port="$2"; shift 2 ;;
    --address) address="$2"; shift 2 ;;
    *) echo "unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

mkdirs
pidfile="$RUN_DIR/celery-flower.pid"
if pid_alive "$pidfile"; then
  echo "flower already running (pid $(pid_of "$pidfile"))"
  exit 0
fi
# Flower has no --detach: run it under nohup in its own session and record its pid.
cd "$BACKEND_DIR"
mark_started celery-flower
nohup setsid "$PYTHON" -m celery -A backend flower --conf=flowerconfig.py --address="$address" --port="$port" \
  >>"$LOG_DIR/celery-flower.log" 2>&1 </dev/null &
pid=$!
echo "$pid" >"$pidfile"
probe="$address"; [[ "$probe" == 0.0.0.0 || -z "$probe" ]] && probe=127.0.0.1
for _ in $(seq 1 300); do
  if ! kill -0 "$pid" 2>/dev/null; then
    set +e; wait "$pid"; code=$?; set -e
    rm -f "$pidfile"
    tail -n 5 "$LOG_DIR/celery-flower.log" >&2
    echo "flower exited with code $code; see $LOG_DIR/celery-flower.log" >&2
    exit "$code"
  fi
  if (exec 3<>"/dev/tcp/$probe/$port") 2>/dev/null; then
    echo "flower started on http://$address:$port (pid $pid), log $LOG_DIR/celery-flower.log"
    exit 0
  fi
  sleep 0.1
done
echo "flower did not listen on $address:$port within 30 s; see $LOG_DIR/celery-flower.log" >&2
exit 1
