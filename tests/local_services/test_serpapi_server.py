"""The local SerpApi server, driven by the real ``serpapi.Client`` over HTTP.

No Django and no database: the server is standard library only. Recordings come from
``shared/fixtures/serpapi/responses`` (read-only); anything written goes to ``tmp_path``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import requests
import serpapi

from local_services.serpapi_server import (
    DEFAULT_RESPONSES_DIR,
    DETAILS_ENGINE,
    GOOGLE_MEDIA_HOSTS,
    INVALID_API_KEY,
    INVALID_TOKEN,
    LIST_ENGINE,
    NO_RESULTS,
    LocalSerpApiServer,
)

API_KEY = "test-key"
BACKEND_DIR = Path(__file__).resolve().parents[2] / "backend"
# Pass copies: serpapi.Client.search(params) writes "api_key" into the dict it is given.
TESLA = {"engine": LIST_ENGINE, "advertiser_id": "AR17828074650563772417", "region": "2840"}


def tesla(**extra: str | int) -> dict:
    return {**TESLA, **extra}


def recorded(name: str) -> dict:
    return json.loads((DEFAULT_RESPONSES_DIR / f"{name}.json").read_text(encoding="utf-8"))


def creative_ids(pages: list) -> list[str]:
    return [creative["ad_creative_id"] for page in pages for creative in page["ad_creatives"]]


@pytest.fixture
def server():
    with LocalSerpApiServer(responses_dir=DEFAULT_RESPONSES_DIR, api_key=API_KEY, port=0) as s:
        yield s


@pytest.fixture
def client(server):
    client = serpapi.Client(api_key=API_KEY, timeout=5)
    client.BASE_DOMAIN = server.url
    return client


# -- recordings ---------------------------------------------------------------------------------


def test_it_serves_the_tesla_recording_for_its_advertiser_and_region(server, client):
    # Given the Tesla recording (40 creatives, made with advertiser_id + region=2840)
    recording = recorded("peer_tesla_p1")

    # When alice's watch asks for Tesla's ads in the United States
    results = client.search(tesla())

    # Then she gets all 40 recorded creatives on one page, with fresh metadata from this server
    assert creative_ids([results]) == creative_ids([recording])
    assert "serpapi_pagination" not in results
    metadata = results["search_metadata"]
    assert metadata["id"] != recording["search_metadata"]["id"]
    assert len(metadata["id"]) == 24
    assert int(metadata["id"], 16) >= 0
    assert metadata["status"] == "Success"
    assert metadata["json_endpoint"].startswith(server.url + "/searches/")
    assert metadata["created_at"].endswith(" UTC")
    assert results["search_parameters"] == TESLA
    assert results["search_information"] == recording["search_information"]


def test_it_keeps_the_json_endpoint_of_an_answer_readable(server, client):
    # Given an answer
    results = client.search(tesla())

    # When its json_endpoint is fetched (SerpApi's Search Archive)
    archived = requests.get(
        results["search_metadata"]["json_endpoint"], params={"api_key": API_KEY}, timeout=5
    )

    # Then it is the same answer
    assert archived.status_code == 200
    assert archived.json() == results.as_dict()


def test_it_serves_the_recorded_empty_result_as_is(client):
    # Given the recording of a search that found nothing
    empty = recorded("toppertrail_pwonlyias_empty")

    # When the same search is made
    results = client.search(dict(empty["search_parameters"]))

    # Then the recorded "no results" answer comes back with HTTP 200
    assert results["error"] == NO_RESULTS[LIST_ENGINE]
    assert results["search_information"] == {"results_state": "Fully empty"}
    assert "ad_creatives" not in results
    assert results["search_parameters"] == empty["search_parameters"]


def test_it_answers_an_unknown_query_with_200_and_the_no_results_error(server, client):
    # When nobody recorded the advertiser asked for
    results = client.search(engine=LIST_ENGINE, advertiser_id="AR00000000000000000000", region="2840")

    # Then the answer is SerpApi's "no results" shape, not an HTTP error
    assert results["error"] == NO_RESULTS[LIST_ENGINE]
    assert results["search_information"] == {"results_state": "Fully empty"}
    assert "ad_creatives" not in results
    assert results["search_metadata"]["status"] == "Success"
    assert server.requests[-1]["status"] == 200


@pytest.mark.parametrize("name", ["holloway_details_typical_text", "holloway_details_rating_sitelinks"])
def test_it_serves_the_ad_details_recordings(client, name):
    # Given an ad details recording
    details = recorded(name)

    # When the same creative is looked up
    results = client.search(dict(details["search_parameters"]))

    # Then its variations and search_information come back as recorded
    assert results["ad_creatives"] == details["ad_creatives"]
    assert results["search_information"] == details["search_information"]
    assert results["search_parameters"] == details["search_parameters"]


def test_it_serves_the_ad_details_no_results_recording_and_invents_one_for_unknown_ids(client):
    # Given the recording of a details lookup that found nothing
    noresults = recorded("holloway_details_error_noresults")

    # When that creative and an unrecorded one are looked up
    served = client.search(dict(noresults["search_parameters"]))
    unknown = client.search(engine=DETAILS_ENGINE, advertiser_id="AR1", creative_id="CR1", region="2840")

    # Then both are HTTP 200 with the details engine's "no results" error
    assert served["error"] == unknown["error"] == NO_RESULTS[DETAILS_ENGINE]
    assert served["search_information"] == noresults["search_information"]


def test_it_filters_a_recording_by_a_creative_format_it_was_not_made_with(client):
    # Given the Tesla recording holds 19 text and 21 video creatives
    recording = recorded("peer_tesla_p1")
    videos = [c["ad_creative_id"] for c in recording["ad_creatives"] if c["format"] == "video"]

    # When only videos, then only images, are asked for
    video_results = client.search(tesla(creative_format="video"))
    image_results = client.search(tesla(creative_format="image"))

    # Then the videos come back, and images find nothing
    assert creative_ids([video_results]) == videos
    assert image_results["error"] == NO_RESULTS[LIST_ENGINE]


def test_it_points_serpapi_details_links_at_itself(server, client):
    # When the Nike list (2026 shape, with serpapi_details_link) is served
    results = client.search(
        engine=LIST_ENGINE,
        advertiser_id="AR16735076323512287233",
        region="2840",
        creative_format="text",
    )

    # Then following a details link stays on this server
    link = results["ad_creatives"][0]["serpapi_details_link"]
    assert link.startswith(server.url + "/search.json?")
    assert parse_qs(urlsplit(link).query)["engine"] == [DETAILS_ENGINE]


def test_it_serves_google_media_urls_as_recorded_by_default(client):
    # When Tesla's list is served by a server started without media_host_base
    results = client.search(tesla())

    # Then images and preview scripts point at Google's hosts as recorded
    recorded_creatives = {c["ad_creative_id"]: c for c in recorded("peer_tesla_p1")["ad_creatives"]}
    for creative in results["ad_creatives"]:
        original = recorded_creatives[creative["ad_creative_id"]]
        assert creative.get("image") == original.get("image")
        assert creative.get("link") == original.get("link")


def test_it_rewrites_google_media_hosts_to_the_media_host_base(client):
    # Given the server moves Google's media hosts onto a local base URL (trailing slash dropped)
    rewriting = LocalSerpApiServer(
        responses_dir=DEFAULT_RESPONSES_DIR, api_key=API_KEY, port=0, media_host_base="http://127.0.0.1:9/"
    )
    with rewriting:
        client.BASE_DOMAIN = rewriting.url
        # When Tesla's list and then its archived copy are fetched
        results = client.search(tesla())
        archived = requests.get(
            results["search_metadata"]["json_endpoint"], params={"api_key": API_KEY}, timeout=5
        ).json()

    # Then every image and preview link is on the base, with the recorded path and query
    recorded_creatives = {c["ad_creative_id"]: c for c in recorded("peer_tesla_p1")["ad_creatives"]}
    images = links = 0
    for creative in results["ad_creatives"]:
        original = recorded_creatives[creative["ad_creative_id"]]
        for key in ("image", "link"):
            value = original.get(key)
            host = next(
                (h for h in GOOGLE_MEDIA_HOSTS if isinstance(value, str) and value.startswith(h)), None
            )
            if host is None:
                assert creative.get(key) == value
                continue
            assert creative[key] == "http://127.0.0.1:9" + value[len(host) :]
            images += key == "image"
            links += key == "link"
    assert images > 0 and links > 0
    # And nothing in the answer (nor its Search Archive copy) still names a Google media host
    assert not any(host in json.dumps(dict(results)) for host in GOOGLE_MEDIA_HOSTS)
    assert archived["ad_creatives"] == results["ad_creatives"]


# -- pagination ---------------------------------------------------------------------------------


def test_it_repaginates_at_num_15_when_the_client_follows_next_urls(server, client):
    # Given the 40-creative Tesla recording
    tesla_ids = creative_ids([recorded("peer_tesla_p1")])

    # When the client pages through it 15 at a time with next_page()
    first = client.search(tesla(num=15))
    pages = list(first.yield_pages())

    # Then it gets 15, 15 and 10 creatives: all 40, each once, the last page without a next
    assert [len(page["ad_creatives"]) for page in pages] == [15, 15, 10]
    assert creative_ids(pages) == tesla_ids
    assert len(set(creative_ids(pages))) == 40
    assert all(p["serpapi_pagination"]["next"].startswith(server.url) for p in pages[:2])
    assert "serpapi_pagination" not in pages[-1]
    assert pages[1]["search_information"]["total_results"] == 700


def test_it_repaginates_at_num_15_when_the_caller_passes_next_page_token(client):
    # Given the 40-creative Tesla recording
    tesla_ids = creative_ids([recorded("peer_tesla_p1")])

    # When the caller passes each next_page_token itself
    pages = [client.search(tesla(num=15))]
    while "serpapi_pagination" in pages[-1]:
        token = pages[-1]["serpapi_pagination"]["next_page_token"]
        pages.append(client.search(tesla(num=15, next_page_token=token)))

    # Then the pages hold the 40 recorded creatives in order, without duplicates
    assert [len(page["ad_creatives"]) for page in pages] == [15, 15, 10]
    assert creative_ids(pages) == tesla_ids
    assert "next_page_token" not in pages[1]["search_parameters"]


def test_it_issues_tokens_that_need_and_survive_url_encoding(server, client):
    # Given a first page with a next page
    pagination = client.search(tesla(num=15))["serpapi_pagination"]
    token = pagination["next_page_token"]

    # Then the token holds the characters real tokens hold, encoded in `next` like SerpApi does
    assert {"+", "/", "="} <= set(token)
    query = urlsplit(pagination["next"]).query
    assert f"next_page_token={quote(token, safe='')}" in query
    assert parse_qs(query)["next_page_token"] == [token]
    assert list(parse_qs(query)) == sorted(parse_qs(query))

    # When a careless caller sends the token unencoded ("+" arrives as a space)
    careless = requests.get(
        f"{server.url}/search.json?engine={LIST_ENGINE}&advertiser_id={TESLA['advertiser_id']}"
        f"&region=2840&num=15&api_key={API_KEY}&next_page_token={token}",
        timeout=5,
    )

    # Then it is refused, as the live API would
    assert careless.status_code == 400
    assert careless.json() == {"error": INVALID_TOKEN}


@pytest.mark.parametrize("token", ["garbled", "CgoAP7znDsg3LQfvEhDXLLhjDLoJPUPAmEYAAAAAGgj8+I+I88gQVw=="])
def test_it_rejects_unknown_next_page_tokens(client, token):
    # When a token this server never issued (here, one from a real recording) is passed
    with pytest.raises(serpapi.HTTPError) as error:
        client.search(tesla(next_page_token=token))

    # Then the answer is a 400
    assert error.value.status_code == 400
    assert error.value.error == INVALID_TOKEN


# -- errors -------------------------------------------------------------------------------------


def test_it_rejects_a_bad_api_key_with_401(server):
    # Given bob's client with the wrong key
    bob = serpapi.Client(api_key="not-the-key", timeout=5)
    bob.BASE_DOMAIN = server.url

    # When he searches
    with pytest.raises(serpapi.HTTPError) as error:
        bob.search(tesla())

    # Then SerpApi's 401 comes back
    assert error.value.status_code == 401
    assert error.value.error == INVALID_API_KEY


@pytest.mark.parametrize(
    ("params", "message_part"),
    [
        (tesla(region="US"), "`US` region"),
        (tesla(region="9999"), "`9999` region"),
        (tesla(num="0"), "`num`"),
        (tesla(num="101"), "`num`"),
        (tesla(num="ten"), "`num`"),
        (tesla(creative_format="gif"), "creative_format"),
        (tesla(platform="TV"), "platform"),
        (tesla(start_date="2026-01-01"), "YYYYMMDD"),
        ({"engine": LIST_ENGINE, "region": "2840"}, "`advertiser_id` or `text`"),
        ({"engine": DETAILS_ENGINE, "advertiser_id": "AR1"}, "`creative_id`"),
        ({"engine": "google", "q": "tesla"}, "Unsupported `google` search engine."),
    ],
)
def test_it_rejects_bad_parameters_with_400(client, params, message_part):
    # When a request breaks one of SerpApi's parameter rules
    with pytest.raises(serpapi.HTTPError) as error:
        client.search(params)

    # Then it gets a 400 naming the problem
    assert error.value.status_code == 400
    assert message_part in error.value.error


# -- faults -------------------------------------------------------------------------------------


def test_it_answers_429_twice_then_succeeds(server, client):
    # Given two "searches used up" faults
    server.inject_fault(status=429, count=2)

    # When the client tries three times
    errors = []
    for _ in range(2):
        with pytest.raises(serpapi.HTTPError) as error:
            client.search(tesla())
        errors.append((error.value.status_code, error.value.error))
    third = client.search(tesla())

    # Then the first two get SerpApi's 429, the third succeeds, and all three are logged
    assert errors == [(429, "Your account has run out of searches.")] * 2
    assert len(third["ad_creatives"]) == 40
    assert [entry["status"] for entry in server.requests] == [429, 429, 200]
    assert server.pending_faults == 0


def test_it_answers_503_with_an_internal_error(server, client):
    server.inject_fault(status=503)

    with pytest.raises(serpapi.HTTPError) as error:
        client.search(tesla())

    assert error.value.status_code == 503
    assert error.value.error == "Internal server error."


def test_it_only_faults_the_given_engine(server, client):
    # Given a fault for the details engine only
    server.inject_fault(status=500, engine=DETAILS_ENGINE)

    # When a list search runs first, then a details lookup
    client.search(tesla())
    with pytest.raises(serpapi.HTTPError) as error:
        client.search(recorded("holloway_details_typical_text")["search_parameters"])

    # Then only the details lookup fails
    assert error.value.status_code == 500


def test_it_serves_a_malformed_body_which_the_client_returns_as_text(server, client):
    # Given a truncated JSON body with HTTP 200
    server.inject_fault(body="malformed")

    # When the client searches
    results = client.search(tesla())

    # Then serpapi.Client does not raise: it catches the JSON error and returns the raw text
    assert results == '{"search_metadata": {"id": "x"'
    assert isinstance(results, str)


def test_it_serves_a_malformed_error_body_which_leaves_the_error_text_empty(server, client):
    server.inject_fault(status=502, body="malformed")

    with pytest.raises(serpapi.HTTPError) as error:
        client.search(tesla())

    assert error.value.status_code == 502
    assert error.value.error is None


def test_it_serves_an_html_page_and_an_empty_body_which_the_client_returns_as_text(server, client):
    # Given a proxy's HTML page, then an empty body
    server.inject_fault(body="html")
    server.inject_fault(body="empty")

    # When the client searches twice
    html, empty = client.search(tesla()), client.search(tesla())

    # Then it returns both bodies as strings
    assert html == "<html><body>Bad Gateway</body></html>"
    assert empty == ""


def test_it_delays_an_answer_past_the_client_timeout(server):
    # Given a slow answer and a client that waits half a second
    server.inject_fault(delay=1.0)
    impatient = serpapi.Client(api_key=API_KEY, timeout=0.5)
    impatient.BASE_DOMAIN = server.url

    # When it searches
    with pytest.raises(serpapi.TimeoutError):
        impatient.search(tesla())

    # Then the next search (no fault left) answers normally
    assert len(impatient.search(tesla())["ad_creatives"]) == 40


def test_it_answers_normally_after_a_short_delay(server, client):
    server.inject_fault(delay=0.05)

    results = client.search(tesla())

    assert len(results["ad_creatives"]) == 40


def test_it_refuses_a_fault_that_does_nothing(server):
    with pytest.raises(ValueError, match="needs a status, a body or a delay"):
        server.inject_fault()
    with pytest.raises(ValueError, match="body must be one of"):
        server.inject_fault(status=429, body="xml")


# -- account, counters, control -----------------------------------------------------------------


def test_it_counts_searches_in_the_account(server, client):
    # Given two searches served and one refused for a bad key
    client.search(tesla())
    client.search(tesla())
    requests.get(f"{server.url}/search.json", params=tesla(api_key="bad"), timeout=5)

    # When the account is read
    account = client.account()

    # Then every answered /search counts, and the account call itself does not
    assert server.search_count == 3
    assert account["this_month_usage"] == 3
    assert account["this_hour_searches"] + account["last_hour_searches"] == 3
    assert account["plan_searches_left"] == account["searches_per_month"] - 3
    assert account["total_searches_left"] == account["plan_searches_left"]
    assert account["api_key"] == API_KEY
    assert account["plan_id"] == "local"

    # And after a reset the counters start again
    server.reset()
    assert client.account()["this_month_usage"] == 0
    assert server.requests == []


def test_it_rejects_the_account_call_with_a_bad_key(server):
    response = requests.get(f"{server.url}/account.json", params={"api_key": "bad"}, timeout=5)

    assert response.status_code == 401
    assert response.json() == {"error": INVALID_API_KEY}


def test_it_logs_requests_without_the_api_key(server, client):
    client.search(tesla())

    (entry,) = server.requests

    assert entry["path"] == "/search"
    assert entry["params"] == TESLA
    assert entry["status"] == 200
    assert isinstance(entry["time"], float)


def test_it_is_controlled_over_http(server, client, tmp_path):
    # Given a separate directory holding only an edited Tesla recording
    edited = recorded("peer_tesla_p1")
    edited["ad_creatives"] = edited["ad_creatives"][:3]
    (tmp_path / "tesla_three.json").write_text(json.dumps(edited), encoding="utf-8")

    # When a 429 fault is injected, the recordings are swapped and the log read over HTTP
    fault = requests.post(f"{server.url}/_control/faults", json={"status": 429}, timeout=5)
    with pytest.raises(serpapi.HTTPError):
        client.search(tesla())
    swapped = requests.post(f"{server.url}/_control/responses", json={"dir": str(tmp_path)}, timeout=5)
    results = client.search(tesla())
    log = requests.get(f"{server.url}/_control/requests", timeout=5).json()
    reset = requests.post(f"{server.url}/_control/reset", timeout=5)

    # Then each control call did its job
    assert fault.json() == {"ok": True, "pending_faults": 1}
    assert swapped.json() == {"ok": True, "recordings": ["tesla_three"]}
    assert len(results["ad_creatives"]) == 3
    assert log["search_count"] == 2
    assert [entry["status"] for entry in log["requests"]] == [429, 200]
    assert reset.json() == {"ok": True}
    assert server.search_count == 0


def test_it_refuses_bad_control_requests(server, tmp_path):
    bad_fault = requests.post(f"{server.url}/_control/faults", json={"count": 0}, timeout=5)
    missing_dir = requests.post(
        f"{server.url}/_control/responses", json={"dir": str(tmp_path / "nope")}, timeout=5
    )

    assert bad_fault.status_code == missing_dir.status_code == 400
    assert "error" in missing_dir.json()


def test_it_serves_a_recording_added_at_runtime(server, client):
    # Given a recording registered while the server runs
    data = recorded("exportscout_onlinelighting_gb")
    data["search_parameters"]["text"] = "example.com"
    server.add_recording(data, "example_com")

    # When its domain is searched (text is case-insensitive)
    results = client.search(engine=LIST_ENGINE, text="Example.COM", region="2826")

    # Then its creatives come back
    assert len(results["ad_creatives"]) == 6


def test_it_answers_many_threads_at_once(server, client):
    # Given eight worker threads each searching five times
    statuses: list[int] = []
    lock = threading.Lock()

    def worker():
        own = serpapi.Client(api_key=API_KEY, timeout=5)
        own.BASE_DOMAIN = server.url
        for _ in range(5):
            results = own.search(tesla(num=15))
            with lock:
                statuses.append(len(results["ad_creatives"]))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)

    # Then every search was answered and counted
    assert statuses == [15] * 40
    assert server.search_count == 40


# -- command line -------------------------------------------------------------------------------


def test_it_runs_from_the_command_line_and_stops_cleanly_on_ctrl_c():
    # Given the server started as its own process on a free port
    process = subprocess.Popen(
        [sys.executable, "-m", "local_services.serpapi_server", "--port", "0"],
        cwd=BACKEND_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "LOCAL_SERPAPI_API_KEY": API_KEY},
    )
    try:
        banner = process.stdout.readline()
        assert banner.startswith("Local SerpApi server on http://127.0.0.1:"), banner
        url = banner.split()[4]
        assert "serving 9 recordings from" in banner

        # When a client searches it
        client = serpapi.Client(api_key=API_KEY, timeout=5)
        client.BASE_DOMAIN = url
        results = client.search(tesla())

        # And Ctrl-C is pressed
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=5)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()

    # Then it answered, and exited with 0 and without a traceback
    assert len(results["ad_creatives"]) == 40
    assert process.returncode == 0
    assert "Traceback" not in stderr


def test_its_command_line_takes_a_media_host_base():
    # Given the server started with --media-host-base
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "local_services.serpapi_server",
            "--port",
            "0",
            "--media-host-base",
            "http://media.test",
        ],
        cwd=BACKEND_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "LOCAL_SERPAPI_API_KEY": API_KEY},
    )
    try:
        url = process.stdout.readline().split()[4]
        client = serpapi.Client(api_key=API_KEY, timeout=5)
        client.BASE_DOMAIN = url
        # When a client searches it
        results = client.search(tesla())
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=5)

    # Then the images are served from that base
    images = [c["image"] for c in results["ad_creatives"] if c.get("image")]
    assert images and all(i.startswith("http://media.test/archive/simgad/") for i in images)
