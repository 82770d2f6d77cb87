"""The offline demo: real (recorded) SerpApi data through the API, the queues and workers.

Run it with ``make demo`` (or ``cd backend && python -m local_services.demo``). It sets up its
own world and tears it down again:

1. a fresh SQLite database under ``var/demo/`` (migrated);
2. a private ``redis-server`` on a free port (or the running Redis when the binary is absent);
3. the local SerpApi-compatible server, serving the recordings in ``shared/fixtures/serpapi``;
4. one Celery worker per queue it uses (``data_fetch``, ``default``, and ``ai_generation`` /
   ``maintenance`` when those apps exist) and the Django web server;
5. then, as a user would: registers, fetches the Tesla advertiser (AR17828074650563772417,
   region US) through ``POST /api/adspark/fetch/``, follows the run's progress to the end,
   prints what was stored, runs a watch and a ``template`` variant when those features exist,
   and stops everything it started (also on Ctrl-C).

Exit code 0 when every step succeeded, 1 otherwise. Logs of the processes: ``var/demo/logs/``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import requests
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from local_services.serpapi_server import LocalSerpApiServer

BACKEND_DIR = Path(__file__).resolve().parent.parent
REPO_DIR = BACKEND_DIR.parent
DEMO_DIR = REPO_DIR / "var" / "demo"
TESLA = "AR17828074650563772417"
DEMO_SERPAPI_KEY = "demo-local-serpapi-key"  # only the local server accepts it
console = Console(highlight=False)


class DemoError(RuntimeError):
    """A demo step failed; the message says which and where to look."""


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(check: Callable[[], bool], *, timeout: float, what: str) -> None:
    """Poll ``check`` every 0.2 s until it is true. Raises DemoError after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception:  # noqa: S110 - not up yet
            pass
        time.sleep(0.2)
    raise DemoError(f"{what} did not come up within {timeout:.0f} s (logs: {DEMO_DIR / 'logs'})")


class Processes:
    """Child processes started by the demo; all stopped (TERM, then KILL) on close."""

    def __init__(self, env: dict[str, str]):
        self.env = env
        self.children: list[tuple[str, subprocess.Popen[bytes]]] = []
        (DEMO_DIR / "logs").mkdir(parents=True, exist_ok=True)

    def start(self, name: str, args: list[str]) -> subprocess.Popen[bytes]:
        log = open(DEMO_DIR / "logs" / f"{name}.log", "wb")  # noqa: SIM115 - lives as long as the child
        process = subprocess.Popen(
            args, cwd=BACKEND_DIR, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.children.append((name, process))
        return process

    def close(self) -> None:
        for _name, process in reversed(self.children):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for _name, process in reversed(self.children):
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)


def start_redis(stack: ExitStack, processes: Processes) -> str:
    """Start a private redis-server (no persistence) and return its base URL.

    Without the binary, the Redis at ``DEMO_REDIS_URL`` (default ``redis://127.0.0.1:6379``) is
    used. Raises DemoError when there is neither.
    """
    import redis

    binary = shutil.which("redis-server")
    if binary is None:
        url = os.environ.get("DEMO_REDIS_URL", "redis://127.0.0.1:6379")
        try:
            redis.Redis.from_url(url, socket_connect_timeout=2).ping()
        except redis.RedisError as exc:
            raise DemoError(
                f"redis-server is not installed and no Redis answers at {url} ({exc}):"
                " run `apt-get install redis-server` (or `brew install redis`), or set DEMO_REDIS_URL"
            ) from exc
        console.print(f"[yellow]redis-server not found; using the running Redis at {url}[/]")
        return url
    port = free_port()
    processes.start(
        "redis", [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    )
    wait_until(lambda: bool(redis.Redis(port=port).ping()), timeout=10, what="redis-server")
    return f"redis://127.0.0.1:{port}"


def preflight(apps: set[str]) -> None:
    """Check what the demo needs before starting anything; raises DemoError naming the fix."""
    if "ai_agent" in apps:
        from core.toolchain import BROWSER_FIX, ToolMissing, find_browser

        try:
            browser = find_browser()
        except ToolMissing as exc:
            raise DemoError(str(exc)) from exc
        if browser is None:
            raise DemoError(f"no browser to draw the creatives with: run `make setup` (or {BROWSER_FIX})")
        console.print(f"• Browser {browser.path} ({browser.source})")


def installed_apps() -> set[str]:
    """Names of the project's apps present in this checkout (features the demo can show)."""
    return {name for name in ("ai_agent", "search") if (BACKEND_DIR / name / "apps.py").exists()}


class Api:
    """A tiny client for the AdSpark API (token auth), raising DemoError on unexpected answers."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.session = requests.Session()

    def call(self, method: str, path: str, expect: tuple[int, ...] = (200,), **kwargs: Any) -> Any:
        response = self.session.request(method, self.base_url + path, timeout=30, **kwargs)
        if response.status_code not in expect:
            raise DemoError(f"{method} {path} answered {response.status_code}: {response.text[:300]}")
        return response.json() if response.content else None

    def follow(self, status_url: str, *, label: str, timeout: float = 120) -> dict[str, Any]:
        """Poll a job's status URL with a progress bar until it finishes; return the job."""
        path = status_url.replace(self.base_url, "")
        with Progress(
            TextColumn(f"{label}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[status]}"),
            TimeElapsedColumn(),
            console=console,
        ) as progress:
            bar = progress.add_task(label, total=None, status="pending")
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                job = self.call("GET", path)
                prog = job.get("progress") or {}
                progress.update(
                    bar, completed=prog.get("done", 0), total=prog.get("total") or None, status=job["status"]
                )
                if job["status"] in ("succeeded", "failed"):
                    return job
                time.sleep(0.25)
        raise DemoError(f"{label} did not finish within {timeout:.0f} s")


def run_demo(keep_data: bool = False) -> int:
    """Run every step; return the process exit code."""
    if not keep_data and DEMO_DIR.exists():
        shutil.rmtree(DEMO_DIR)
    DEMO_DIR.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL",)}
    env.update(
        DJANGO_SETTINGS_MODULE="backend.settings",
        DJANGO_DEBUG="true",
        SQLITE_PATH=str(DEMO_DIR / "adspark.sqlite3"),
        MEDIA_ROOT=str(DEMO_DIR / "media"),
        SERPAPI_API_KEY=DEMO_SERPAPI_KEY,
        ADSPARK_ALLOW_LOOPBACK_URLS="true",
        AI_PROVIDER=os.environ.get("AI_PROVIDER", "template"),
        # Watches with one query share a fetch for 10 minutes; the demo re-runs its watch at once.
        WATCH_FETCH_SHARE_SECONDS="0",
        PYTHONUNBUFFERED="1",
        LOG_LEVEL="info",
    )
    processes = Processes(env)
    with ExitStack() as stack:
        stack.callback(processes.close)
        console.rule("[bold]AdSpark offline demo")
        apps = installed_apps()
        preflight(apps)
        redis_url = start_redis(stack, processes)
        env.update(
            CELERY_BROKER_URL=f"{redis_url}/0",
            CELERY_RESULT_BACKEND=f"{redis_url}/1",
            REDIS_URL=f"{redis_url}/2",
        )
        serpapi = LocalSerpApiServer(api_key=DEMO_SERPAPI_KEY, port=0).start()
        stack.callback(serpapi.stop)
        env["SERPAPI_BASE_URL"] = serpapi.url
        console.print(
            f"• Redis {redis_url}  • local SerpApi {serpapi.url} ({len(serpapi.recording_names)} recordings)"
        )

        console.print("• Migrating a fresh SQLite database …")
        migrated = subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
            cwd=BACKEND_DIR,
            env=env,
            capture_output=True,
            text=True,
        )
        if migrated.returncode != 0:
            last = (migrated.stderr or migrated.stdout).strip().splitlines()[-1:] or ["(no output)"]
            raise DemoError(f"manage.py migrate failed: {last[0]} (run `make setup`, then `make demo` again)")

        workers = [("data_fetch", 2), ("default", 2), ("maintenance", 1)]
        if "ai_agent" in apps:
            workers.append(("ai_generation", 1))
        for queue, concurrency in workers:
            processes.start(
                f"worker-{queue}",
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "backend",
                    "worker",
                    "-Q",
                    queue,
                    "-c",
                    str(concurrency),
                    "-n",
                    f"demo-{queue}@%h",
                    "-l",
                    "info",
                    "--without-gossip",
                    "--without-mingle",
                ],
            )
        web_port = free_port()
        processes.start(
            "web", [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{web_port}"]
        )
        base_url = f"http://127.0.0.1:{web_port}"
        api = Api(base_url)
        wait_until(
            lambda: requests.get(f"{base_url}/api/health/", timeout=2).status_code in (200, 503),
            timeout=60,
            what="web server",
        )

        registered = api.call(
            "POST",
            "/api/auth/register/",
            expect=(201,),
            json={"username": "demo", "email": "demo@example.com", "password": "demo-Password-2026"},
        )
        api.session.headers["Authorization"] = f"Token {registered['token']}"

        def all_queues_served() -> bool:
            # Queue details are for signed-in callers; the public answer is only the status.
            health = api.session.get(f"{base_url}/api/health/", timeout=5).json()
            return all(health["queues"][q]["workers"] for q, _ in workers)

        wait_until(all_queues_served, timeout=90, what="Celery workers")
        console.print(f"• Web {base_url}  • workers on {', '.join(q for q, _ in workers)}")
        console.print("• Registered user [bold]demo[/] and signed in with an API token")

        console.rule("Fetch: Tesla (AR17828074650563772417), region US, 10 creatives per page")
        job = api.call(
            "POST",
            "/api/adspark/fetch/",
            expect=(202,),
            json={"advertiser_ids": TESLA, "region": "US", "num": 10},
        )
        console.print(f"  202 Accepted: fetch run {job['id']}, task {job['task_id']}")
        run = api.follow(job["status_url"], label="  fetching pages")
        if run["status"] != "succeeded":
            raise DemoError(f"fetch run {run['id']} failed: {run['error']}")
        print_fetch_summary(api, run)

        watch_step(api, serpapi)
        if "ai_agent" in apps:
            variant_step(api)
        console.rule("[bold green]Demo finished")
        return 0


def print_fetch_summary(api: Api, run: dict[str, Any]) -> None:
    """Print the fetch run's counters, the advertiser and a few stored creatives."""
    table = Table(title=f"Fetch run {run['id']}: {run['status']}", show_header=False)
    for key in (
        "pages_fetched",
        "creatives_seen",
        "creatives_new",
        "creatives_updated",
        "searches_used",
        "stop_reason",
    ):
        table.add_row(key.replace("_", " "), str(run[key]))
    console.print(table)
    advertiser = api.call("GET", f"/api/adspark/advertisers/{TESLA}/")
    console.print(
        f"  Advertiser {advertiser['name']}: {advertiser['creative_count']} creatives, "
        f"first seen {advertiser['first_seen']}, last seen {advertiser['last_seen']}"
    )
    by_format = {
        fmt: api.call("GET", f"/api/adspark/creatives/?advertiser_id={TESLA}&creative_format={fmt}")["count"]
        for fmt in ("text", "image", "video")
    }
    console.print("  Creatives by format: " + ", ".join(f"{k} {v}" for k, v in by_format.items()))
    sample = Table(title="Latest creatives", show_lines=False)
    for column in ("ad_creative_id", "format", "last_shown", "days", "image / preview"):
        sample.add_column(column)
    for creative in api.call("GET", f"/api/adspark/creatives/?advertiser_id={TESLA}&page_size=5")["results"]:
        url = creative["image_url"] or creative["preview_url"]
        sample.add_row(
            creative["ad_creative_id"],
            creative["format"],
            creative["last_shown"],
            str(creative["total_days_shown"]),
            url[:60] + "…",
        )
    console.print(sample)


def watch_step(api: Api, serpapi: LocalSerpApiServer) -> None:
    """Create a watch on Tesla, run it (the baseline), let one new creative appear, run it again."""
    console.rule("Watch: Tesla, region US; the first run sets the baseline")
    watch = api.call(
        "POST",
        "/api/adspark/watches/",
        expect=(201,),
        json={"name": "Tesla in the US", "advertiser_ids": [TESLA], "region": "US", "interval_minutes": 60},
    )
    first = api.call("POST", f"/api/adspark/watches/{watch['id']}/trigger/", expect=(202,))
    done = api.follow(first["status_url"], label="  watch run 1 (baseline)")
    if done["status"] != "succeeded":
        raise DemoError(f"watch run failed: {done['error']}")
    runs = api.call("GET", f"/api/adspark/watches/{watch['id']}/runs/")["results"]
    console.print(
        f"  Baseline: the watch has seen {runs[0]['new_creatives_count']} creatives; no alert for a baseline."
    )

    # A new creative shows up in the Ads Transparency Center: serve a recording with one more.
    recording = json.loads((serpapi_responses_dir() / "peer_tesla_p1.json").read_text())
    fresh = dict(
        recording["ad_creatives"][0],
        ad_creative_id="CR99999999999999999001",
        first_shown=int(time.time()) - 3600,
        last_shown=int(time.time()),
    )
    recording["ad_creatives"].insert(0, fresh)
    serpapi.add_recording(recording, "demo_tesla_with_a_new_creative")
    second = api.call("POST", f"/api/adspark/watches/{watch['id']}/trigger/", expect=(202,))
    done = api.follow(second["status_url"], label="  watch run 2")
    if done["status"] != "succeeded":
        raise DemoError(f"watch run failed: {done['error']}")
    new = api.call("GET", f"/api/adspark/watches/{watch['id']}/new-creatives/")
    items = new.get("results", new) if isinstance(new, dict) else new
    ids = [c["ad_creative_id"] for c in items]
    console.print(
        f"  Run 2 found {len(ids)} new creative(s): {', '.join(ids) or '-'} (alert e-mail in var/demo/logs/worker-default.log)"
    )
    if "CR99999999999999999001" not in ids:
        raise DemoError("the new creative was not reported by the watch")


def variant_step(api: Api) -> None:
    """Generate a template variant of one fetched creative on the ai_generation queue."""
    console.rule("Variant: a template variant of the newest Tesla creative (ai_generation queue)")
    creative = api.call(
        "GET", f"/api/adspark/creatives/?advertiser_id={TESLA}&creative_format=text&page_size=1"
    )["results"][0]
    variant = api.call(
        "POST",
        "/api/ai/variants/",
        expect=(202,),
        json={
            "creative": creative["ad_creative_id"],
            "prompt": "Announce a winter test-drive weekend, friendly tone",
            "provider": "template",
        },
    )
    done = api.follow(variant["status_url"], label="  generating", timeout=180)
    if done["status"] != "succeeded":
        raise DemoError(f"variant failed: {done['error']}")
    detail = api.call("GET", f"/api/ai/variants/{variant['id']}/")
    console.print(
        f"  Variant {detail['id']} ({detail['provider_label']}, generated by {detail['generated_by']}): {detail['headline']}"
    )
    console.print(
        f"  Built on creative {creative['ad_creative_id']} ({creative['format']}): the worker's browser drew it"
        " (offline, an ad whose image is on Google's servers is drawn as its text card); that picture is the"
        " hero of every size and its dominant colours are the variant's"
    )
    saved = []
    for render in detail["renders"] or ([detail["image"]] if detail["image"] else []):
        response = api.session.get(render["url"], timeout=30)
        if response.status_code != 200:
            raise DemoError(f"GET {render['url']} answered {response.status_code}")
        path = DEMO_DIR / f"variant-{detail['id']}-{render.get('size') or 'image'}.png"
        path.write_bytes(response.content)
        saved.append(f"{path} ({render['width']}x{render['height']}, {len(response.content)} bytes)")
    if not saved:
        raise DemoError("the variant has no image")
    console.print("  Images:\n    " + "\n    ".join(saved))


def serpapi_responses_dir() -> Path:
    """The recordings the local SerpApi server serves by default."""
    from local_services.serpapi_server import DEFAULT_RESPONSES_DIR

    return Path(DEFAULT_RESPONSES_DIR)


def main(argv: list[str] | None = None) -> int:
    """Run the demo; exit 0 on success, 1 with one ``Demo failed: …`` line (what is missing and
    the command that fixes it), 130 after Ctrl-C. ``--traceback`` shows unexpected errors' stack."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep-data", action="store_true", help="keep var/demo/ from the last run")
    parser.add_argument("--traceback", action="store_true", help="show the stack of an unexpected error")
    args = parser.parse_args(argv)
    try:
        return run_demo(keep_data=args.keep_data)
    except DemoError as exc:
        console.print(f"[bold red]Demo failed:[/] {exc}")
        return 1
    except KeyboardInterrupt:
        console.print("[yellow]Interrupted; stopped everything the demo started.[/]")
        return 130
    except requests.ConnectionError as exc:
        console.print(
            f"[bold red]Demo failed:[/] a demo server stopped answering ({exc}); see {DEMO_DIR / 'logs'}"
        )
        return 1
    except Exception as exc:
        if args.traceback:
            raise
        console.print(
            f"[bold red]Demo failed:[/] unexpected {type(exc).__name__}: {exc}"
            f" (logs: {DEMO_DIR / 'logs'}; `python -m local_services.demo --traceback` shows where)"
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
