# Shared by the celery_scripts/*.sh (sourced, not run). Resolves the repository from this file's
# location, so the scripts work from any directory, and picks the repository's .venv if present.
# Overrides: ADSPARK_VAR_DIR (pid and log files; default <repo>/var), PYTHON (interpreter).

REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BACKEND_DIR="$REPO_DIR/backend"
VAR_DIR="${ADSPARK_VAR_DIR:-$REPO_DIR/var}"
RUN_DIR="$VAR_DIR/run"
LOG_DIR="$VAR_DIR/log"
if [[ -z "${PYTHON:-}" ]]; then
  if [[ -x "$REPO_DIR/.venv/bin/python" ]]; then PYTHON="$REPO_DIR/.venv/bin/python"; else PYTHON="$(command -v python3)"; fi
fi
export PYTHONPATH="$BACKEND_DIR${PYTHONPATH:+:$PYTHONPATH}"

# queue:concurrency — docs/architecture.md "Queues and workers" (docker-compose.yml has the same table).
WORKER_TABLE=(default:2 data_fetch:2 ai_generation:1 maintenance:1)

celery_cmd() { (cd "$BACKEND_DIR" && "$PYTHON" -m celery -A backend "$@"); }

# pid_alive FILE: true when FILE names a running process.
pid_alive() {
  local pid
  pid="$(pid_of "$1")"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null
}

# pid_of FILE: the pid in FILE, or nothing (Celery creates the file before writing the pid).
pid_of() { { tr -dc '0-9' <"$1"; } 2>/dev/null || true; }

# wait_alive FILE [SECONDS]: wait until FILE names a running process (default 20 s).
wait_alive() {
  local i
  for ((i = 0; i < ${2:-20} * 10; i++)); do
    pid_alive "$1" && return 0
    sleep 0.1
  done
  return 1
}

# wait_stable FILE [SECONDS]: wait until FILE has named the same live process for 2 s in a row,
# then print that pid. `celery --detach` writes a pid file that a start-up failure removes a
# moment later, so "the file names a live process" alone accepts a daemon about to exit.
wait_stable() {
  local i pid last="" since=0
  for ((i = 0; i < ${2:-60} * 10; i++)); do
    pid="$(pid_of "$1")"
    if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
      if [[ "$pid" == "$last" ]]; then
        since=$((since + 1))
        ((since >= 20)) && { echo "$pid"; return 0; }
      else
        last="$pid"; since=0
      fi
    else
      last=""; since=0
    fi
    sleep 0.1
  done
  return 1
}

# wait_ready SECONDS NODE...: wait until every Celery NODE answers ping; print those that did not.
wait_ready() {
  local seconds="$1"; shift
  celery_py "
import sys, time
from backend.celery import app
nodes, deadline = set(sys.argv[2:]), time.monotonic() + float(sys.argv[1])
while nodes and time.monotonic() < deadline:
    try:
        replies = app.control.ping(destination=sorted(nodes), timeout=1.0) or []
    except Exception:  # broker unreachable: nobody can answer yet
        replies = []
        time.sleep(1.0)
    for reply in replies:
        nodes -= set(reply)
print(' '.join(sorted(nodes)))
sys.exit(1 if nodes else 0)
" "$seconds" "$@"
}

celery_py() { (cd "$BACKEND_DIR" && "$PYTHON" -c "$@"); }

# Each start script records what it started in RUN_DIR/NAME.started, so celery_status.sh can
# show a process that exited (and took its pid file with it) as STOPPED instead of forgetting it.
mark_started() { : >"$RUN_DIR/$1.started"; }

mkdirs() { mkdir -p "$RUN_DIR" "$LOG_DIR"; }
