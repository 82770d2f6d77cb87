#!/usr/bin/env bash
# Start AdSpark's four Celery workers in the background, one per queue, sized as docs/architecture.md says.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_common.sh"

usage() {
  cat <<USAGE
Usage: celery_scripts/start_celery_workers.sh [-l LEVEL] [QUEUE ...]

Starts one detached worker per queue (default: all four) with its pid file and log file:
  default        -c 2     data_fetch   -c 2
  ai_generation  -c 1     maintenance  -c 1
Node names are <queue>@<hostname>. Pid files: $RUN_DIR/celery-worker-<queue>.pid,
logs: $LOG_DIR/celery-worker-<queue>.log. A worker whose pid file names a live process is left alone.

Options:
  -l, --loglevel LEVEL   debug|info|warning|error (default info)
  -h, --help             this help
Environment: the project's (.env is read): CELERY_BROKER_URL, DATABASE_URL, ...;
ADSPARK_VAR_DIR moves pid/log files; CELERY_POOL (default prefork) picks the pool.
A worker counts as started when its pid has been stable for 2 s and it answers ping (up to
ADSPARK_READY_TIMEOUT seconds, default 60); exit 1 otherwise.
Stop them with celery_scripts/stop_celery.sh; check them with celery_scripts/celery_status.sh.
USAGE
}

loglevel=info
queues=()
while (($#)); do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    -l|--loglevel) loglevel="$2"; shift 2 ;;
    -*) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
    *) queues+=("$1"); shift ;;
  esac
done

mkdirs
started=()
for entry in "${WORKER_TABLE[@]}"; do
  queue="${entry%%:*}"; concurrency="${entry##*:}"
  if ((${#queues[@]})) && [[ " ${queues[*]} " != *" $queue "* ]]; then continue; fi
  pidfile="$RUN_DIR/celery-worker-$queue.pid"
  if pid_alive "$pidfile"; then
    echo "worker $queue already running (pid $(pid_of "$pidfile"))"
    continue
  fi
  rm -f "$pidfile"
  mark_started "celery-worker-$queue"
  celery_cmd worker --detach -Q "$queue" -c "$concurrency" -P "${CELERY_POOL:-prefork}" -n "$queue@%h" \
    -l "$loglevel" --pidfile="$pidfile" --logfile="$LOG_DIR/celery-worker-$queue.log"
  if ! pid="$(wait_stable "$pidfile" 60)"; then
    echo "worker $queue failed to start; see $LOG_DIR/celery-worker-$queue.log" >&2
    exit 1
  fi
  echo "worker $queue started: -c $concurrency, pid $pid, log $LOG_DIR/celery-worker-$queue.log"
  started+=("$queue")
done
if ((${#queues[@]})) && ((${#started[@]} == 0)); then
  for queue in "${queues[@]}"; do
    [[ " ${WORKER_TABLE[*]} " == *" $queue:"* ]] || { echo "unknown queue $queue" >&2; exit 2; }
  done
fi
if ((${#started[@]})); then
  # Running is not ready: wait until each new worker answers ping through the broker.
  host="$(celery_py 'import socket; print(socket.gethostname())')"
  nodes=(); for queue in "${started[@]}"; do nodes+=("$queue@$host"); done
  if ! missing="$(wait_ready "${ADSPARK_READY_TIMEOUT:-60}" "${nodes[@]}")"; then
    echo "not ready within ${ADSPARK_READY_TIMEOUT:-60} s (no answer to ping): $missing; see $LOG_DIR" >&2
    exit 1
  fi
  echo "ready: ${nodes[*]}"
fi
