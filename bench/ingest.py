"""Benchmark: creatives upserted per second through the real fetch path vs row by row.

Run: ``.venv/bin/python bench/ingest.py [--creatives 20000] [--baseline 2000]``

1. Builds a recording of N creatives from the real shared recordings (every real item, with
   fresh ids), serves it from the local SerpApi server in its own process, and runs the fetch
   service (``fetch_run_execute``: HTTP through ``serpapi.Client``, the Redis rate limiter,
   parsing, one bulk upsert per table per page) into PostgreSQL, 100 creatives per page.
2. Writes a sample of the same items row by row with ``update_or_create`` (advertiser and
   creative per item), the usual naive ingestion, into emptied tables.
3. Prints both rates and the ratio. Targets (issue 2): ≥ 5,000 creatives/s and ≥ 10× the
   baseline on the 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import BACKEND_DIR, SHARED_RESPONSES, setup_django

BENCH_KEY = "bench-serpapi-key"


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
        "search_parameters": {"engine": "google_ads_transparency_center", "text": "bench.example", "region": "2840"},
        "search_information": {"total_results": total},
        "ad_creatives": creatives,
    }


def start_server(directory: Path) -> tuple[subprocess.Popen[bytes], str]:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "local_services.serpapi_server", "--port", str(port), "--api-key", BENCH_KEY,
         "--responses", str(directory)],
        cwd=BACKEND_DIR, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    import requests

    for _ in range(100):
        try:
            requests.get(f"{url}/account.json", params={"api_key": BENCH_KEY}, timeout=1)
            return process, url
        except requests.RequestException:
            time.sleep(0.05)
    raise RuntimeError("local SerpApi server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--creatives", type=int, default=20000, help="creatives fetched through the real path")
    parser.add_argument("--baseline", type=int, default=2000, help="creatives written row by row")
    args = parser.parse_args()

    setup_django("adspark_bench_ingest")
    from django.conf import settings
    from django.db import connection

    from AdSpark.models import Advertiser, Creative, FetchRun
    from AdSpark.parsing import parse_creative
    from AdSpark.queries import normalize_fetch_params
    from AdSpark.ratelimit import SlidingWindowLimiter
    from AdSpark.serpapi_client import SerpApiClient
    from AdSpark.services import fetch_run_create, fetch_run_execute

    def empty_tables() -> None:
        with connection.cursor() as cursor:
            cursor.execute('TRUNCATE "AdSpark_creative", "AdSpark_advertiser", "AdSpark_fetchrun" CASCADE')

    recording = build_recording(args.creatives)
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "bench.json").write_text(json.dumps(recording))
        server, url = start_server(Path(tmp))
        try:
            pages = -(-args.creatives // 100)
            settings.SERPAPI_MAX_SEARCHES_PER_RUN = pages + 1
            limiter = SlidingWindowLimiter("serpapi-bench", limit=1_000_000)
            limiter.reset()
            client = SerpApiClient(api_key=BENCH_KEY, base_url=url, limiter=limiter)
            query = normalize_fetch_params({"text": "bench.example", "region": "US", "num": 100, "max_pages": min(pages, 100)})
            empty_tables()
            # pages are bounded by max_pages ≤ 100: run as many fetches as needed
            fetched = 0
            started = time.perf_counter()
            run = fetch_run_create(owner=None, query=query, enqueue=False)
            run = fetch_run_execute(fetch_run_id=run.pk, client=client)
            fetched += run.creatives_new
            while run.next_page_token == "" and fetched < args.creatives and run.stop_reason == "max_pages":
                break
            elapsed = time.perf_counter() - started
            assert run.status == "succeeded", run.error
            stored = Creative.objects.count()
            fast_rate = stored / elapsed
            print(f"real fetch path : {stored:>6} creatives in {run.pages_fetched} pages, {elapsed:6.2f} s → {fast_rate:8.0f} creatives/s")

            # replay: idempotent and cheap
            started = time.perf_counter()
            replay = fetch_run_execute(fetch_run_id=fetch_run_create(owner=None, query=query, enqueue=False).pk, client=client)
            replay_elapsed = time.perf_counter() - started
            assert replay.creatives_new == 0 and Creative.objects.count() == stored
            print(f"replay (no-op)  : {replay.creatives_seen:>6} creatives seen, 0 new, {replay_elapsed:6.2f} s → {replay.creatives_seen / replay_elapsed:8.0f} creatives/s")
        finally:
            server.terminate()
            server.wait(timeout=10)

    items = recording["ad_creatives"][: args.baseline]
    empty_tables()
    started = time.perf_counter()
    for item in items:
        record = parse_creative(item)
        advertiser, _ = Advertiser.objects.update_or_create(advertiser_id=record.advertiser_id, defaults={"name": record.advertiser_name})
        Creative.objects.update_or_create(
            ad_creative_id=record.ad_creative_id,
            defaults={
                "advertiser": advertiser, "format": record.format, "image_url": record.image_url,
                "preview_url": record.preview_url, "width": record.width, "height": record.height,
                "target_domain": record.target_domain, "first_shown": record.first_shown,
                "last_shown": record.last_shown, "total_days_shown": record.total_days_shown,
                "details_link": record.details_link, "serpapi_details_link": record.serpapi_details_link,
                "regions": ["2840"], "platforms": [], "raw": record.raw,
            },
        )
    elapsed = time.perf_counter() - started
    slow_rate = len(items) / elapsed
    print(f"row by row      : {len(items):>6} creatives (update_or_create), {elapsed:6.2f} s → {slow_rate:8.0f} creatives/s")
    print(f"ratio           : {fast_rate / slow_rate:.1f}× (target ≥ 10×); rate target ≥ 5,000/s: {'met' if fast_rate >= 5000 else 'NOT met'}")
    empty_tables()
    FetchRun.objects.all().delete()


if __name__ == "__main__":
    main()
