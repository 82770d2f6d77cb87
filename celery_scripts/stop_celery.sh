#!/usr/bin/env bash
# Stop what the start_celery_*.sh scripts started: workers (warm shutdown), beat, Flower.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_common.sh"

usage() {
  cat <<USAGE
Usage: celery_scripts/stop_celery.sh [--timeout SECONDS] [--force]

Sends SIGTERM to every process with a pid file in $RUN_DIR (workers, beat, Flower).
For a worker SIGTERM is a warm shutdown: running tasks finish, nothing new is taken; with
acks_late a task that cannot finish is redelivered later, so nothing is lost.
Waits up to --timeout seconds (default 60) for each, then SIGKILLs only with --force.
Exit code 1 if something is still running.
USAGE
}

timeout=60
force=false
while (($#)); do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --timeout) timeout="$2"; shift 2 ;;
    --force) force=true; shift ;;
    *) echo "unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

shopt -s nullglob
pidfiles=("$RUN_DIR"/celery-*.pid)
# Stopping on purpose: forget what was started, so the status shows no STOPPED line for it.
rm -f "$RUN_DIR"/celery-*.started
if ((${#pidfiles[@]} == 0)); then echo "nothing to stop (no pid files in $RUN_DIR)"; exit 0; fi
pids=()
for pidfile in "${pidfiles[@]}"; do
  name="$(basename "$pidfile" .pid)"
  pid="$(pid_of "$pidfile")"
  pids+=("$pid")
  if [[ -n "$pid" ]] && kill -TERM "$pid" 2>/dev/null; then
    echo "$name: SIGTERM sent to pid $pid"
  else
    echo "$name: not running (stale pid file removed)"
    pids[-1]=""
    rm -f "$pidfile"
  fi
done
status=0
for i in "${!pidfiles[@]}"; do
  pidfile="${pidfiles[$i]}"
  pid="${pids[$i]}"
  name="$(basename "$pidfile" .pid)"
  [[ -n "$pid" ]] || continue
  for _ in $(seq 1 $((timeout * 10))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    if $force; then
      pkill -KILL -P "$pid" 2>/dev/null || true
      kill -KILL "$pid" 2>/dev/null || true
      echo "$name: SIGKILL after ${timeout} s"
    else
      echo "$name: still running after ${timeout} s (use --force to SIGKILL)" >&2
      status=1
      continue
    fi
  else
    echo "$name: stopped"
  fi
  rm -f "$pidfile"
done
exit "$status"
