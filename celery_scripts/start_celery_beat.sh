#!/usr/bin/env bash
# Start celery beat (django-celery-beat's DatabaseScheduler) in the background. Run exactly one.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_common.sh"

usage() {
  cat <<USAGE
Usage: celery_scripts/start_celery_beat.sh [-l LEVEL]

Starts one detached celery beat with the DatabaseScheduler (schedules are edited in the Django
admin). Pid file $RUN_DIR/celery-beat.pid, log $LOG_DIR/celery-beat.log.
Refuses to start a second beat while the pid file names a live process: two beats send every
periodic task twice.

Options:
  -l, --loglevel LEVEL   debug|info|warning|error (default info)
  -h, --help             this help
USAGE
}

loglevel=info
while (($#)); do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    -l|--loglevel) loglevel="$2"; shift 2 ;;
    *) echo "unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

mkdirs
pidfile="$RUN_DIR/celery-beat.pid"
if pid_alive "$pidfile"; then
  echo "beat already running (pid $(pid_of "$pidfile"))"
  exit 0
fi
rm -f "$pidfile"
mark_started celery-beat
celery_cmd beat --detach -l "$loglevel" --scheduler django_celery_beat.schedulers:DatabaseScheduler \
  --pidfile="$pidfile" --logfile="$LOG_DIR/celery-beat.log"
pid="$(wait_stable "$pidfile" 60)" || { echo "beat failed to start; see $LOG_DIR/celery-beat.log" >&2; exit 1; }
echo "beat started: pid $pid, log $LOG_DIR/celery-beat.log"
