"""Issue 14, items 10, 11 and 17: throttled sign-in, tokens that expire and can be revoked, the
session sign-in's landing page, and one ownership rule for ``/api/tasks/{id}/``; token
authentication in one query, and the hourly purge of expired tokens."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.utils import timezone
from knox.models import AuthToken
from knox.settings import CONSTANTS
from knox.signals import token_expired
from rest_framework.settings import api_settings
from rest_framework.test import APIClient, APIRequestFactory

from accounts.authentication import TokenAuthentication
from accounts.services import tokens_expired_purge
from accounts.throttles import LoginIPThrottle, LoginUsernameThrottle
from backend.celery import app
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


def _tokens(user: object, count: int, *, expired: bool = False) -> list[str]:
    """Issue ``count`` tokens to ``user`` (7-day TTL); ``expired`` ones ended a minute ago."""
    tokens = []
    for _ in range(count):
        row, token = AuthToken.objects.create(user=user)
        if expired:
            AuthToken.objects.filter(pk=row.pk).update(expiry=timezone.now() - dt.timedelta(minutes=1))
        tokens.append(token)
    return tokens


@pytest.mark.django_db
def test_it_authenticates_a_token_in_one_query_whatever_other_tokens_the_user_has(
    django_assert_num_queries,  # type: ignore[no-untyped-def]
) -> None:
    # given alice signed in on 20 other devices, 5 of those tokens expired, and a fresh token
    alice = UserFactory(username=_unique("alice"))
    _tokens(alice, 15)
    _tokens(alice, 5, expired=True)
    (token,) = _tokens(alice, 1)
    request = APIRequestFactory().get("/api/auth/me/", HTTP_AUTHORIZATION=f"Token {token}")
    # when the API's first authentication class reads it
    assert api_settings.DEFAULT_AUTHENTICATION_CLASSES[0] is TokenAuthentication
    with django_assert_num_queries(1):
        user, auth_token = TokenAuthentication().authenticate(request)  # type: ignore[misc]
    # then it is alice with her token row, as knox answers, and no other token was touched
    assert user == alice and isinstance(auth_token, AuthToken) and auth_token.user_id == alice.pk
    assert token.startswith(auth_token.token_key)
    assert AuthToken.objects.filter(user=alice).count() == 21
    assert AuthToken.objects.filter(user=alice, expiry__lt=timezone.now()).count() == 5
    # and a whole API request with it is answered, still leaving the expired 5 to the purge
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/auth/me/").status_code == 200
    assert AuthToken.objects.filter(user=alice, expiry__lt=timezone.now()).count() == 5


@pytest.mark.django_db
def test_it_refuses_and_deletes_an_expired_token_that_is_presented() -> None:
    # given bob's expired token next to a valid one
    bob = UserFactory(username=_unique("bob"))
    (expired,) = _tokens(bob, 1, expired=True)
    (valid,) = _tokens(bob, 1)
    expired_signals: list[dict[str, object]] = []

    def _record(sender: object, **kwargs: object) -> None:
        expired_signals.append(kwargs)

    token_expired.connect(_record, weak=False)
    try:
        # when he calls the API with the expired one
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {expired}")
        response = client.get("/api/auth/me/")
    finally:
        token_expired.disconnect(_record)
    # then it is knox's 401, the row is gone and knox's signal said so; the valid token stays
    assert response.status_code == 401
    assert response.json()["detail"] == "Invalid token."
    assert not AuthToken.objects.filter(token_key=expired[: CONSTANTS.TOKEN_KEY_LENGTH]).exists()
    assert [(s["username"], s["source"]) for s in expired_signals] == [(bob.username, "auth_token")]
    assert AuthToken.objects.filter(user=bob).count() == 1
    client.credentials(HTTP_AUTHORIZATION=f"Token {valid}")
    assert client.get("/api/auth/me/").status_code == 200


@pytest.mark.django_db
def test_it_purges_exactly_the_expired_tokens_of_every_user(
    django_assert_num_queries,  # type: ignore[no-untyped-def]
) -> None:
    # given alice and bob with expired, valid and never-expiring tokens
    alice, bob = UserFactory(username=_unique("alice")), UserFactory(username=_unique("bob"))
    _tokens(alice, 3, expired=True)
    _tokens(bob, 2, expired=True)
    _tokens(alice, 2)
    _tokens(bob, 1)
    for user in (alice, bob):
        AuthToken.objects.create(user=user, expiry=None)
    # when the purge runs
    with django_assert_num_queries(1):
        deleted = tokens_expired_purge()
    # then the five expired tokens went in one DELETE, and the others are kept
    assert deleted == 5
    assert not AuthToken.objects.filter(expiry__lt=timezone.now()).exists()
    assert AuthToken.objects.filter(user=alice).count() == 3
    assert AuthToken.objects.filter(user=bob).count() == 2
    assert AuthToken.objects.filter(expiry=None).count() == 2
    # and a purge as of eight days from now takes the 7-day tokens too, never those without expiry
    assert tokens_expired_purge(now=timezone.now() + dt.timedelta(days=8)) == 3
    assert tokens_expired_purge() == 0
    assert AuthToken.objects.count() == AuthToken.objects.filter(expiry=None).count() == 2


@pytest.mark.django_db
def test_it_runs_the_purge_hourly_on_the_maintenance_queue() -> None:
    from django_celery_beat.models import PeriodicTask

    from core.maintenance import periodic_tasks_ensure

    name = "accounts.tasks.purge_expired_tokens_task"
    app.loader.import_default_modules()
    assert name in app.tasks
    assert app.amqp.router.route({}, name)["queue"].name == "maintenance"
    periodic_tasks_ensure()
    entry = PeriodicTask.objects.get(name="Purge expired API tokens")
    assert entry.task == name and entry.enabled and entry.expire_seconds == 3600
    assert (entry.crontab.minute, entry.crontab.hour) == ("15", "*")
    # and the task itself deletes expired tokens
    carol = UserFactory(username=_unique("carol"))
    _tokens(carol, 2, expired=True)
    assert app.tasks[name].apply().get() == 2


def test_no_view_authenticates_with_knoxs_own_class() -> None:
    # knox's LogoutView and LogoutAllView name knox's class themselves (not the settings)
    import knox.auth
    from django.urls import URLPattern, URLResolver, get_resolver

    def views(patterns: list[object]) -> list[type]:
        found: list[type] = []
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                found += views(pattern.url_patterns)
            elif isinstance(pattern, URLPattern) and hasattr(pattern.callback, "cls"):
                found.append(pattern.callback.cls)
        return found

    api_views = [
        view for view in views(get_resolver().url_patterns) if hasattr(view, "authentication_classes")
    ]
    assert any(view.__name__ == "LogoutAllView" for view in api_views)
    knox_users = [
        view.__name__
        for view in api_views
        if any(cls is knox.auth.TokenAuthentication for cls in view.authentication_classes)
    ]
    assert knox_users == []
