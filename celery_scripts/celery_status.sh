#!/usr/bin/env bash
# Show AdSpark's Celery status: local processes, workers per queue, queue depths, beat.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_common.sh"

usage() {
  cat <<USAGE
Usage: celery_scripts/celery_status.sh [--json] [--probe]

1. The processes the start scripts started (recorded in $RUN_DIR): running, or STOPPED when
   the process is gone, also when it exited and removed its own pid file.
2. monitor_celery.py --check --no-probe: workers consuming each queue (from every host), queue
   depths and the oldest waiting message, beat's last tick, stuck runs.
   --probe also sends a probe task to each queue (round-trip latency).
Exit code: monitor_celery.py's — 0 healthy, 1 degraded, 2 down.
USAGE
}

json=false
probe=(--no-probe)
while (($#)); do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --json) json=true; shift ;;
    --probe) probe=(); shift ;;
    *) echo "unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

if ! $json; then
  echo "local processes ($RUN_DIR):"
  shopt -s nullglob
  found=false
  names=()
  for file in "$RUN_DIR"/celery-*.started "$RUN_DIR"/celery-*.pid; do
    name="$(basename "${file%.*}")"
    [[ " ${names[*]} " == *" $name "* ]] || names+=("$name")
  done
  for name in "${names[@]}"; do
    found=true
    pidfile="$RUN_DIR/$name.pid"
    if pid_alive "$pidfile"; then
      echo "  $name running (pid $(pid_of "$pidfile"))"
    elif [[ -f "$pidfile" ]]; then
      echo "  $name STOPPED (stale pid file; see $LOG_DIR/$name.log)"
    else
      echo "  $name STOPPED (exited; see $LOG_DIR/$name.log)"
    fi
  done
  $found || echo "  none started by celery_scripts"
  echo
fi
args=(--check "${probe[@]}")
$json && args+=(--json)
set +e
"$PYTHON" "$REPO_DIR/monitor_celery.py" "${args[@]}"
status=$?
set -e
exit "$status"
