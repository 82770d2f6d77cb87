"""Benchmark: creatives stored per second by the real fetch path, against COPY and row by row.

Run: ``.venv/bin/python bench/ingest.py [--creatives 10000] [--repeat 3] [--profile]``

Every side of every ratio writes the same ``--creatives`` rows into the same table with the same
indexes, on the same PostgreSQL, in the same run:

1. **real fetch path**: a recording of N creatives made from the real shared recordings (every
   real item, fresh ids; 20 advertisers with 500 creatives each) is served by the local SerpApi
   server in its own process, and ``fetch_run_execute`` runs one fetch run over it: HTTP through
   ``serpapi.Client``, the Redis rate limiter, parsing, one upsert statement per page and the
   run's checkpoint in the page's transaction; 100 creatives per page (SerpApi's ``num`` limit),
   so N ≤ 10,000 (one run's ``max_pages`` cap of 100 pages).
2. **replay**: the same fetch again; it must store nothing (no row gets a new version: the
   ``xmin`` of every creative and advertiser is unchanged).
3. **COPY limit**: the rows the real path stored, read back with ``COPY … TO``, are written again
   with ``COPY … FROM`` into the emptied creative table in one transaction: no HTTP, no parsing,
   no merging -- PostgreSQL's own bulk-load speed, the physical limit.
4. **fetch floor**: the same pages fetched and parsed exactly as the real path does it
   (``AdSpark.services._page_fetch``: ``serpapi.Client``, rate limiter, parsing), one after the other, with no
   database at all: the part of the real path that no write strategy can remove. COPY / floor
   is the best real / COPY any write path could show on this machine.
5. **row by row**: the same N items written with ``update_or_create`` per advertiser and
   creative (the usual naive ingestion) into emptied tables.

Steps 1-4 run ``--repeat`` times and the medians are reported, since the machine is shared.
Targets (issue 11): real path ≥ 0.6 of the COPY limit and ≥ 20× row by row. ``--profile`` runs
step 1 once more under cProfile and prints where the time goes (the source of the figures that
comments in ``AdSpark/services.py`` cite).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import BACKEND_DIR, SHARED_RESPONSES, setup_django

BENCH_KEY = "bench-serpapi-key"
PAGE_SIZE = 100  # SerpApi's largest ``num``
MAX_PAGES = 100  # AdSpark.queries.MAX_PAGES_LIMIT: the most pages one fetch run follows


def build_recording(total: int) -> dict:
    """A ``google_ads_transparency_center`` response with ``total`` creatives made from real items."""
    items: list[dict] = []
    for path in sorted(SHARED_RESPONSES.glob("*.json")):
        data = json.loads(path.read_text())
        if data.get("search_parameters", {}).get("engine") == "google_ads_transparency_center":
            items.extend(data.get("ad_creatives", []))
    creatives = []
    for n in range(total):
        item = dict(items[n % len(items)])
        item["ad_creative_id"] = f"CR{90000000000000000000 + n}"
        # 20 advertisers with 500 creatives each, as a fetch by advertiser id or domain returns
        # them (one or two advertisers per page), not a different advertiser on every row.
        item["advertiser_id"] = f"AR{90000000000000000000 + n // 500}"
        creatives.append(item)
    return {
        "search_metadata": {"status": "Success"},
        "search_parameters": {
            "engine": "google_ads_transparency_center",
            "text": "bench.example",
            "region": "2840",
        },
        "search_information": {"total_results": total},
        "ad_creatives": creatives,
    }


def start_server(directory: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Start the local SerpApi server over ``directory`` in its own process; return it and its URL."""
    import socket

    import requests

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "local_services.serpapi_server",
            "--port",
            str(port),
            "--api-key",
            BENCH_KEY,
            "--responses",
            str(directory),
        ],
        cwd=BACKEND_DIR,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            requests.get(f"{url}/account.json", params={"api_key": BENCH_KEY}, timeout=1)
            return process, url
        except requests.RequestException:
            time.sleep(0.05)
    raise RuntimeError("local SerpApi server did not start")


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--creatives",
        type=int,
        default=PAGE_SIZE * MAX_PAGES,
        help=f"creatives written by every side (1..{PAGE_SIZE * MAX_PAGES}: one fetch run of "
        f"≤ {MAX_PAGES} pages of {PAGE_SIZE}; default %(default)s)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="runs of real path, replay, COPY and fetch floor (median; default %(default)s)",
    )
    parser.add_argument(
        "--no-row-by-row", action="store_true", help="skip step 5 (minutes at ~100 rows/s) and its ratio"
    )
    parser.add_argument(
        "--profile", action="store_true", help="also profile the real fetch path and print the top functions"
    )
    args = parser.parse_args()
    if not 1 <= args.creatives <= PAGE_SIZE * MAX_PAGES:
        parser.error(
            f"--creatives must be 1..{PAGE_SIZE * MAX_PAGES} (one fetch run: {MAX_PAGES} pages of {PAGE_SIZE})"
        )
    if args.repeat < 1:
        parser.error("--repeat must be ≥ 1")

    setup_django("adspark_bench_ingest")
    from django.conf import settings
    from django.db import connection, transaction

    from AdSpark.models import Advertiser, Creative, FetchRun
    from AdSpark.parsing import parse_creative
    from AdSpark.queries import normalize_fetch_params
    from AdSpark.ratelimit import SlidingWindowLimiter
    from AdSpark.serpapi_client import SerpApiClient
    from AdSpark.services import _page_fetch as page_fetch  # the real path's own fetch + parse
    from AdSpark.services import fetch_run_create, fetch_run_execute

    creative_table = Creative._meta.db_table
    advertiser_table = Advertiser._meta.db_table

    def empty_tables() -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                f'TRUNCATE "{creative_table}", "{advertiser_table}", "{FetchRun._meta.db_table}" CASCADE'
            )

    def row_versions() -> list[tuple[str, str]]:
        with connection.cursor() as cursor:
            sql = (
                f'SELECT ad_creative_id, xmin::text FROM "{creative_table}" UNION ALL '  # noqa: S608 - our tables
                f'SELECT advertiser_id, xmin::text FROM "{advertiser_table}" ORDER BY 1'
            )
            cursor.execute(sql)
            return cursor.fetchall()

    pages = -(-args.creatives // PAGE_SIZE)
    print(f"{args.creatives} creatives, {pages} pages of ≤ {PAGE_SIZE}; {load()}")
    recording = build_recording(args.creatives)
    real_times: list[float] = []
    replay_times: list[float] = []
    copy_times: list[float] = []
    floor_times: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "bench.json").write_text(json.dumps(recording))
        server, url = start_server(Path(tmp))
        try:
            settings.SERPAPI_MAX_SEARCHES_PER_RUN = pages
            limiter = SlidingWindowLimiter("serpapi-bench", limit=1_000_000)
            client = SerpApiClient(api_key=BENCH_KEY, base_url=url, limiter=limiter)
            query = normalize_fetch_params(
                {"text": "bench.example", "region": "US", "num": PAGE_SIZE, "max_pages": pages}
            )

            def real_path() -> FetchRun:
                run = fetch_run_create(owner=None, query=query, enqueue=False)
                return fetch_run_execute(fetch_run_id=run.pk, client=client)

            for _ in range(args.repeat):
                # 1. the real fetch path into empty tables
                empty_tables()
                limiter.reset()
                started = time.perf_counter()
                run = real_path()
                real_times.append(time.perf_counter() - started)
                stored = Creative.objects.count()
                assert run.status == "succeeded", run.error
                assert stored == run.creatives_new == args.creatives, (stored, run.creatives_new)

                # 2. replay: seen again, nothing written
                before = row_versions()
                started = time.perf_counter()
                replay = real_path()
                replay_times.append(time.perf_counter() - started)
                assert replay.creatives_seen == args.creatives
                assert (replay.creatives_new, replay.creatives_updated) == (0, 0)
                after = row_versions()
                rewritten = [a for a, b in zip(before, after, strict=True) if a != b]
                assert not rewritten, f"the replay rewrote {len(rewritten)} rows, e.g. {rewritten[:3]}"

                # 3. the COPY limit: the same rows, the same table and indexes, one transaction
                dump = io.StringIO()
                with connection.cursor() as cursor:
                    cursor.cursor.copy_expert(f'COPY "{creative_table}" TO STDOUT', dump)
                    cursor.execute(f'TRUNCATE "{creative_table}" CASCADE')
                started = time.perf_counter()
                with transaction.atomic(), connection.cursor() as cursor:
                    cursor.cursor.copy_expert(
                        f'COPY "{creative_table}" FROM STDIN', io.StringIO(dump.getvalue())
                    )
                copy_times.append(time.perf_counter() - started)
                assert Creative.objects.count() == args.creatives

                # 4. the fetch floor: the same pages fetched and parsed, nothing written
                limiter.reset()
                started = time.perf_counter()
                token, fetched, parsed = None, 0, 0
                while fetched == 0 or (token and fetched < pages):
                    page, prepared = page_fetch(client, query, token, connection.vendor)
                    parsed += len(prepared.records)
                    token, fetched = page.next_page_token, fetched + 1
                floor_times.append(time.perf_counter() - started)
                assert parsed == args.creatives, parsed

            if args.profile:
                empty_tables()
                limiter.reset()
                profile = cProfile.Profile()
                profile.enable()
                real_path()
                profile.disable()
                print("profile of the real fetch path (main thread; the prefetch thread does the HTTP):")
                pstats.Stats(profile).sort_stats("tottime").print_stats(25)
        finally:
            server.terminate()
            server.wait(timeout=10)

    # 5. row by row: the same items, one update_or_create per advertiser and creative
    items = [] if args.no_row_by_row else recording["ad_creatives"]
    empty_tables()
    started = time.perf_counter()
    for item in items:
        record = parse_creative(item)
        advertiser, _ = Advertiser.objects.update_or_create(
            advertiser_id=record.advertiser_id, defaults={"name": record.advertiser_name}
        )
        Creative.objects.update_or_create(
            ad_creative_id=record.ad_creative_id,
            defaults={
                "advertiser": advertiser,
                "format": record.format,
                "image_url": record.image_url,
                "preview_url": record.preview_url,
                "width": record.width,
                "height": record.height,
                "target_domain": record.target_domain,
                "first_shown": record.first_shown,
                "last_shown": record.last_shown,
                "total_days_shown": record.total_days_shown,
                "details_link": record.details_link,
                "serpapi_details_link": record.serpapi_details_link,
                "regions": ["2840"],
                "platforms": [],
                "raw": record.raw,
            },
        )
    slow_elapsed = time.perf_counter() - started
    assert Creative.objects.count() == len(items)
    empty_tables()

    n = args.creatives
    real, replay, copy, floor = (
        statistics.median(t) for t in (real_times, replay_times, copy_times, floor_times)
    )
    spread = f"(runs: {', '.join(f'{t:.2f}' for t in real_times)} s)"
    print(
        f"real fetch path : {n:>6} creatives in {pages} pages, {real:6.2f} s → {n / real:8.0f} creatives/s {spread}"
    )
    print(
        f"replay          : {n:>6} creatives seen, 0 written,  {replay:6.2f} s → {n / replay:8.0f} creatives/s"
    )
    print(f"COPY limit      : {n:>6} rows, one COPY,             {copy:6.2f} s → {n / copy:8.0f} rows/s")
    print(f"fetch floor     : {n:>6} creatives fetched + parsed, no database, {floor:6.2f} s")
    of_copy = copy / real
    print(f"real / COPY     : {of_copy:.2f} (target ≥ 0.6: {'met' if of_copy >= 0.6 else 'NOT met'})")
    print(
        f"floor / COPY    : COPY / fetch floor = {copy / floor:.2f}: the best real / COPY any write path "
        "could reach here (fetching and parsing alone take this long)"
    )
    if items:
        over_slow = slow_elapsed / real
        print(
            f"row by row      : {n:>6} creatives (update_or_create), {slow_elapsed:6.2f} s → {n / slow_elapsed:8.0f} creatives/s"
        )
        print(
            f"real / row by row: {over_slow:.1f}× (target ≥ 20×: {'met' if over_slow >= 20 else 'NOT met'})"
        )
    print(load())


if __name__ == "__main__":
    main()
