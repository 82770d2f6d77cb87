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

# queue:concurrency — DESIGN.md "Queues and workers" (docker-compose.yml has the same table).
WORKER_TABLE=(default:2 data_fetch:2 ai_generation:1 maintenance:1)

celery_cmd() { (cd "$BACKEND_DIR" && "$PYTHON" -m celery -A backend "$@"); }

# pid_alive FILE: true when FILE names a running process.
pid_alive() {
  local pid
  pid="$(pid_of "$1")"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null
}

# pid_of FILE: the pid in FILE, or nothing (a detached daemon rewrites its file while starting).
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

mkdirs() { mkdir -p "$RUN_DIR" "$LOG_DIR"; }
