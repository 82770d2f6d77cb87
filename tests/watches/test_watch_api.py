"""The watch API: owner-scoped CRUD, validation like a fetch, trigger (202), runs, new creatives."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from AdSpark.models import Watch, WatchCreative, WatchRun
from AdSpark.watches import watch_run
from tests.conftest import TESLA
from tests.factories import CreativeFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/adspark/watches/"


def client_of(user) -> APIClient:  # type: ignore[no-untyped-def]
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_alice_creates_a_watch_with_a_query_validated_like_a_fetch(alice_client, alice) -> None:
    response = alice_client.post(
        URL,
        {
            "name": "Tesla US",
            "advertiser_ids": f"{TESLA}",
            "region": "US",
            "interval_minutes": 30,
            "start_date": "2025-01-01",
        },
        format="json",
    )

    assert response.status_code == 201, response.data
    watch = Watch.objects.get(pk=response.data["id"])
    assert watch.owner == alice
    assert (watch.advertiser_ids, watch.region, watch.start_date) == ([TESLA], "2840", "20250101")
    assert watch.is_active and watch.next_run_at is not None
    assert response.data["region"] == "2840"
    assert len(watch.query_fingerprint) == 64


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "region": "US"}, "non_field_errors"),
        ({"name": "x", "text": "tesla", "region": "Atlantis"}, "region"),
        ({"name": "x", "advertiser_ids": ["AR123"]}, "advertiser_ids"),
        ({"name": "x", "text": "tesla", "interval_minutes": 5}, "interval_minutes"),
        ({"name": "x", "text": "tesla", "start_date": "20250230"}, "start_date"),
        ({"name": "x", "text": "tesla", "political_ads": True}, "political_ads"),
        ({"text": "tesla"}, "name"),
        ({"name": "x", "text": "tesla", "webhook_url": "ftp://example.com/hook"}, "webhook_url"),
        ({"name": "x", "text": "tesla", "webhook_url": "http://10.1.2.3/hook"}, "webhook_url"),
        (
            {"name": "x", "text": "tesla", "webhook_url": "http://169.254.169.254/latest/meta-data"},
            "webhook_url",
        ),
    ],
)
def test_bad_input_is_a_400_with_field_errors(alice_client, body, field) -> None:
    response = alice_client.post(URL, body, format="json")

    assert response.status_code == 400
    assert field in response.data, response.data
    assert not Watch.objects.exists()


def test_a_private_webhook_address_is_refused_with_the_reason(alice_client) -> None:
    response = alice_client.post(
        URL, {"name": "x", "text": "tesla", "webhook_url": "http://192.168.1.10/hook"}, format="json"
    )

    assert response.status_code == 400
    assert "Private network addresses" in response.data["webhook_url"][0]


def test_a_webhook_gets_a_generated_secret(alice_client, webhook_receiver) -> None:
    response = alice_client.post(
        URL, {"name": "x", "text": "tesla", "webhook_url": webhook_receiver.url}, format="json"
    )

    assert response.status_code == 201, response.data
    assert len(response.data["webhook_secret"]) >= 32


def test_bob_cannot_see_change_trigger_or_delete_alices_watch(make_watch, alice, bob) -> None:
    # Given alice's watch
    watch = make_watch(owner=alice)
    bob_client = client_of(bob)

    # Then to bob it does not exist
    assert bob_client.get(f"{URL}{watch.pk}/").status_code == 404
    assert bob_client.patch(f"{URL}{watch.pk}/", {"name": "mine"}, format="json").status_code == 404
    assert bob_client.post(f"{URL}{watch.pk}/trigger/").status_code == 404
    assert bob_client.get(f"{URL}{watch.pk}/runs/").status_code == 404
    assert bob_client.get(f"{URL}{watch.pk}/new-creatives/").status_code == 404
    assert bob_client.delete(f"{URL}{watch.pk}/").status_code == 404
    assert bob_client.get(URL).data["count"] == 0
    # And nothing changed
    assert Watch.objects.get(pk=watch.pk).name == watch.name
    assert not WatchRun.objects.exists()


def test_anonymous_users_get_401(api_client) -> None:
    assert api_client.get(URL).status_code == 401


def test_alice_updates_her_watch_and_a_bad_update_is_a_400(make_watch, alice) -> None:
    watch = make_watch(owner=alice)
    client = client_of(alice)

    ok = client.patch(f"{URL}{watch.pk}/", {"interval_minutes": 120, "region": "GB"}, format="json")
    bad = client.patch(f"{URL}{watch.pk}/", {"region": "Atlantis"}, format="json")

    assert ok.status_code == 200, ok.data
    watch.refresh_from_db()
    assert (watch.interval_minutes, watch.region) == (120, "2826")
    assert bad.status_code == 400 and "region" in bad.data


def test_trigger_answers_202_with_the_run_and_its_status_url(
    make_watch, alice, django_capture_on_commit_callbacks
) -> None:
    watch = make_watch(owner=alice)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client_of(alice).post(f"{URL}{watch.pk}/trigger/")

    assert response.status_code == 202
    run = WatchRun.objects.get(pk=response.data["id"])
    assert run.watch == watch and run.status == "pending" and run.trigger == "manual"
    assert response.data["status_url"].endswith(f"/api/adspark/watch-runs/{run.pk}/")
    assert response["Location"] == response.data["status_url"]
    assert len(callbacks) == 1  # the task is enqueued after commit


def test_the_status_url_finds_the_watch_run_for_its_owner_only(make_watch, alice, bob) -> None:
    watch = make_watch(owner=alice)
    response = client_of(alice).post(f"{URL}{watch.pk}/trigger/")
    status_url = response.data["status_url"]

    mine = client_of(alice).get(status_url)

    assert mine.status_code == 200
    assert (mine.data["id"], mine.data["watch"], mine.data["status"]) == (
        response.data["id"],
        watch.pk,
        "pending",
    )
    assert mine.data["status_url"] == status_url
    assert client_of(bob).get(status_url).status_code == 404
    assert client_of(UserFactory(username="dave", is_staff=True)).get(status_url).status_code == 404
    # the task endpoint keeps answering for the same run, by task id
    by_task = client_of(alice).get(f"/api/tasks/{response.data['task_id']}/")
    assert by_task.status_code == 200
    assert (by_task.data["job_type"], by_task.data["job_id"]) == ("watchrun", response.data["id"])


def test_trigger_all_runs_the_callers_active_watches_and_all_users_only_for_staff(
    make_watch, alice, bob
) -> None:
    mine = [make_watch(owner=alice), make_watch(owner=alice)]
    make_watch(owner=alice, is_active=False)
    make_watch(owner=bob)

    response = client_of(alice).post(f"{URL}trigger_all/", {}, format="json")
    forbidden = client_of(alice).post(f"{URL}trigger_all/", {"all_users": True}, format="json")
    staff = UserFactory(username="carol", is_staff=True)
    everyone = client_of(staff).post(f"{URL}trigger_all/", {"all_users": True}, format="json")

    assert response.status_code == 202
    assert sorted(run["watch"] for run in response.data["runs"]) == sorted(w.pk for w in mine)
    assert forbidden.status_code == 403
    # alice's two watches still have their pending runs: only bob's watch gets one
    assert everyone.status_code == 202 and everyone.data["count"] == 1


def test_runs_and_new_creatives_of_a_watch(serpapi, make_watch, alice) -> None:
    # Given alice's watch ran twice: a baseline, then one that found one new creative
    watch = make_watch(owner=alice)
    client = client_of(alice)
    for _ in range(2):
        run_id = client.post(f"{URL}{watch.pk}/trigger/").data["id"]
        watch_run(watch_run_id=run_id, task_id=WatchRun.objects.get(pk=run_id).celery_task_id)
    fresh = CreativeFactory()
    WatchCreative.objects.create(
        watch=watch,
        ad_creative_id=fresh.ad_creative_id,
        first_seen_by_watch=fresh.created_at,
        first_run_id=run_id,
    )

    # When she lists its runs and new creatives
    runs = client.get(f"{URL}{watch.pk}/runs/")
    new = client.get(f"{URL}{watch.pk}/new-creatives/")
    with_baseline = client.get(f"{URL}{watch.pk}/new-creatives/?include_baseline=true")
    of_run = client.get(f"{URL}{watch.pk}/new-creatives/?run={run_id}")

    # Then the runs are newest first, and new creatives leave out the baseline unless asked
    assert runs.status_code == 200
    assert [r["is_baseline"] for r in runs.data["results"]] == [False, True]
    assert [c["ad_creative_id"] for c in new.data["results"]] == [fresh.ad_creative_id]
    assert new.data["results"][0]["watch_run"] == run_id
    assert with_baseline.data["count"] == 41
    assert of_run.data["count"] == 1
    assert client.get(f"{URL}{watch.pk}/new-creatives/?run=abc").status_code == 400
