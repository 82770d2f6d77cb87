"""Issue 14, items 10, 11 and 17: throttled sign-in, tokens that expire and can be revoked, the
session sign-in's landing page, and one ownership rule for ``/api/tasks/{id}/``."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from accounts.throttles import LoginIPThrottle, LoginUsernameThrottle
from tests.factories import FetchRunFactory, UserFactory

TOKEN_URL = "/api/auth/token/"
PASSWORD = "correct-horse-battery"  # UserFactory's


@pytest.fixture
def tight_login_rates(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sign-in rates small enough to reach in a test (the suite runs with 10000/minute)."""
    rates = {"login_user": "3/minute", "login_ip": "5/minute"}
    for throttle in (LoginUsernameThrottle, LoginIPThrottle):
        monkeypatch.setattr(throttle, "THROTTLE_RATES", rates)


def _unique(prefix: str) -> str:
    # Throttle counters live in the shared Redis cache: fresh names and addresses per test.
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _client_ip() -> str:
    return f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250 + 1}"


def _sign_in(client: APIClient, username: str, password: str, ip: str) -> object:
    return client.post(TOKEN_URL, {"username": username, "password": password}, REMOTE_ADDR=ip)


@pytest.mark.django_db
def test_it_throttles_guesses_at_one_account_from_many_addresses(tight_login_rates: None) -> None:
    # given an account and a guesser who changes address on every try
    user = UserFactory(username=_unique("carol"))
    client = APIClient()
    # when three wrong passwords come in for it
    for _ in range(3):
        assert _sign_in(client, user.username, "wrong-password", _client_ip()).status_code == 400
    # then the fourth attempt, even with the right password and the username's case changed, is 429
    refused = _sign_in(client, user.username.upper(), PASSWORD, _client_ip())
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 60
    assert "token" not in refused.json()


@pytest.mark.django_db
def test_it_throttles_one_address_trying_many_accounts(tight_login_rates: None) -> None:
    # given one address and five different usernames (each below its own limit)
    ip = _client_ip()
    client = APIClient()
    for _ in range(5):
        assert _sign_in(client, _unique("nobody"), "wrong-password", ip).status_code == 400
    # when it tries a sixth account, a real one with its right password
    user = UserFactory(username=_unique("dave"))
    refused = _sign_in(client, user.username, PASSWORD, ip)
    # then it is refused with Retry-After, while another address signs the same user in
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert _sign_in(client, user.username, PASSWORD, _client_ip()).status_code == 200


@pytest.mark.django_db
def test_it_issues_tokens_that_expire(settings) -> None:  # type: ignore[no-untyped-def]
    # given a signed-in user
    user = UserFactory(username=_unique("erin"))
    client = APIClient()
    answer = _sign_in(client, user.username, PASSWORD, _client_ip()).json()
    expiry = dt.datetime.fromisoformat(answer["expiry"])
    # then the token says when it ends: ADSPARK_TOKEN_TTL_HOURS (7 days by default) from now
    assert abs((expiry - timezone.now()) - dt.timedelta(hours=settings.TOKEN_TTL_HOURS)) < dt.timedelta(
        minutes=1
    )
    client.credentials(HTTP_AUTHORIZATION=f"Token {answer['token']}")
    assert client.get("/api/auth/me/").status_code == 200
    # and when that time has passed, the same token is refused with 401 and removed
    AuthToken.objects.filter(user=user).update(expiry=timezone.now() - dt.timedelta(seconds=1))
    assert client.get("/api/auth/me/").status_code == 401
    assert not AuthToken.objects.filter(user=user).exists()


@pytest.mark.django_db
def test_it_revokes_one_token_or_every_token_of_the_user() -> None:
    # given a user signed in on three devices
    user = UserFactory(username=_unique("frank"))
    devices = []
    for _ in range(3):
        token = _sign_in(APIClient(), user.username, PASSWORD, _client_ip()).json()["token"]
        device = APIClient()
        device.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        devices.append(device)
    # when the first signs out, only its token stops working
    assert devices[0].post("/api/auth/logout/").status_code == 204
    assert devices[0].get("/api/auth/me/").status_code == 401
    assert devices[1].get("/api/auth/me/").status_code == 200
    # when the second signs out everywhere, the third is signed out too
    assert devices[1].post("/api/auth/logout/all/").status_code == 204
    assert devices[2].get("/api/auth/me/").status_code == 401
    assert not AuthToken.objects.filter(user=user).exists()


@pytest.mark.django_db
def test_it_stores_only_a_digest_of_the_token() -> None:
    user = UserFactory(username=_unique("gina"))
    token = _sign_in(APIClient(), user.username, PASSWORD, _client_ip()).json()["token"]
    row = AuthToken.objects.get(user=user)
    assert token not in (row.digest, row.token_key) and row.token_key == token[: len(row.token_key)]


@pytest.mark.django_db
def test_registration_returns_an_expiring_token_too() -> None:
    response = APIClient().post(
        "/api/auth/register/",
        {"username": _unique("hank"), "password": "s3cure-enough-pass"},
        REMOTE_ADDR=_client_ip(),
    )
    assert response.status_code == 201
    assert response.json()["token"] and response.json()["expiry"]


@pytest.mark.django_db
def test_session_sign_in_without_next_lands_on_a_page_that_exists(client) -> None:  # type: ignore[no-untyped-def]
    # given a user signing in through DRF's session login form, with no ?next=
    user = UserFactory(username=_unique("ivy"))
    login_url = "/api/auth/session/login/"
    client.get(login_url)
    response = client.post(login_url, {"username": user.username, "password": PASSWORD})
    # then they are sent to the API docs (not Django's default /accounts/profile/), which answer 200
    assert response.status_code == 302
    assert response["Location"] == "/api/docs/"
    assert client.get(response["Location"]).status_code == 200


@pytest.mark.django_db
def test_staff_read_only_their_own_jobs_through_the_task_endpoint() -> None:
    # given bob's fetch run and a staff user, carol
    bob = UserFactory(username=_unique("bob"))
    carol = UserFactory(username=_unique("carol"), is_staff=True)
    FetchRunFactory(owner=bob, celery_task_id="task-of-bob-secret", error="bob's error")
    FetchRunFactory(owner=carol, celery_task_id="task-of-carol")
    staff = APIClient()
    staff.force_authenticate(carol)
    # then carol gets 404 on bob's job, as on bob's watches, variants and fetch runs, and sees her own
    assert staff.get("/api/tasks/task-of-bob-secret/").status_code == 404
    assert staff.get("/api/tasks/task-of-carol/").status_code == 200
    assert staff.get("/api/adspark/fetch-runs/").json()["count"] == 1
