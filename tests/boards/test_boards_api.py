"""Boards (swipe files) through the API: alice saves creatives to her boards with notes, in
bulk too, shares a board by link and revokes it; bob sees none of it."""

from __future__ import annotations

import pytest
from boards.models import Board, BoardItem
from rest_framework.test import APIClient

from tests.factories import AdvertiserFactory, CreativeFactory

pytestmark = pytest.mark.django_db

UNKNOWN_CREATIVE = "CR99999999999999999999"


@pytest.fixture
def bob_client(bob) -> APIClient:  # type: ignore[no-untyped-def]
    client = APIClient()
    client.force_authenticate(bob)
    return client


def _board(client: APIClient, name: str = "Summer ideas", **fields: object) -> dict:
    response = client.post("/api/adspark/boards/", {"name": name, **fields}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_it_creates_a_board_and_lists_it_with_counts_and_covers(alice_client: APIClient) -> None:
    # Given alice's new board
    board = _board(alice_client, description="Ads to copy")
    assert board["item_count"] == 0 and board["share_url"] is None and board["cover_thumbnails"] == []
    # When she saves five image creatives on it
    creatives = CreativeFactory.create_batch(5, format="image")
    for creative in creatives:
        response = alice_client.post(
            f"/api/adspark/boards/{board['id']}/items/",
            {"creative_id": creative.ad_creative_id},
            format="json",
        )
        assert response.status_code == 201
    # Then her list shows it with five items and four covers, the newest first
    listed = alice_client.get("/api/adspark/boards/").json()["results"]
    assert [b["name"] for b in listed] == ["Summer ideas"]
    assert listed[0]["item_count"] == 5
    assert listed[0]["cover_thumbnails"] == [c.image_url for c in reversed(creatives)][:4]


def test_it_refuses_a_second_board_with_the_same_name(alice_client: APIClient) -> None:
    _board(alice_client)
    response = alice_client.post("/api/adspark/boards/", {"name": "Summer ideas"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"name": ["You already have a board with this name."]}


def test_it_saves_a_creative_once_and_answers_200_with_the_existing_item(alice_client: APIClient) -> None:
    board = _board(alice_client)
    creative = CreativeFactory()
    url = f"/api/adspark/boards/{board['id']}/items/"
    first = alice_client.post(
        url, {"creative_id": creative.ad_creative_id, "note": "Bold headline"}, format="json"
    )
    again = alice_client.post(url, {"creative_id": creative.ad_creative_id, "note": "other"}, format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"] and again.json()["note"] == "Bold headline"
    assert first.json()["creative"]["ad_creative_id"] == creative.ad_creative_id
    assert BoardItem.objects.count() == 1


def test_it_edits_and_removes_a_note_and_an_item(alice_client: APIClient) -> None:
    board = _board(alice_client)
    creative = CreativeFactory()
    item = alice_client.post(
        f"/api/adspark/boards/{board['id']}/items/", {"creative_id": creative.ad_creative_id}, format="json"
    ).json()
    url = f"/api/adspark/boards/{board['id']}/items/{item['id']}/"
    patched = alice_client.patch(url, {"note": "Use the\nblue"}, format="json")
    assert patched.status_code == 200 and patched.json()["note"] == "Use the\nblue"
    assert alice_client.delete(url).status_code == 204
    assert alice_client.get(f"/api/adspark/boards/{board['id']}/items/").json()["count"] == 0
    assert alice_client.delete(url).json() == {"detail": "This creative is not on this board."}


def test_it_refuses_an_unknown_or_malformed_creative_with_user_words(alice_client: APIClient) -> None:
    board = _board(alice_client)
    url = f"/api/adspark/boards/{board['id']}/items/"
    unknown = alice_client.post(url, {"creative_id": UNKNOWN_CREATIVE}, format="json")
    malformed = alice_client.post(url, {"creative_id": "nope"}, format="json")
    assert unknown.status_code == malformed.status_code == 400
    assert unknown.json() == {"creative_id": ["This creative is not stored."]}
    assert malformed.json() == {"creative_id": ["A creative ID is CR followed by 20 digits."]}


def test_it_saves_creatives_in_bulk_and_counts_those_already_saved(alice_client: APIClient) -> None:
    board = _board(alice_client)
    creatives = [c.ad_creative_id for c in CreativeFactory.create_batch(4)]
    url = f"/api/adspark/boards/{board['id']}/items/bulk/"
    first = alice_client.post(url, {"creative_ids": creatives[:2], "note": "Q3"}, format="json")
    second = alice_client.post(url, {"creative_ids": creatives}, format="json")
    assert first.json() == {"added": 2, "already_saved": 0}
    assert second.json() == {"added": 2, "already_saved": 2}
    notes = dict(BoardItem.objects.values_list("creative_id", "note"))
    assert notes == {creatives[0]: "Q3", creatives[1]: "Q3", creatives[2]: "", creatives[3]: ""}


def test_it_saves_nothing_in_bulk_when_some_ids_are_unknown_and_lists_them(alice_client: APIClient) -> None:
    board = _board(alice_client)
    known = CreativeFactory().ad_creative_id
    response = alice_client.post(
        f"/api/adspark/boards/{board['id']}/items/bulk/",
        {"creative_ids": [known, UNKNOWN_CREATIVE]},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {"creative_ids": [f"These creatives are not stored: {UNKNOWN_CREATIVE}."]}
    assert BoardItem.objects.count() == 0


def test_it_refuses_more_than_500_creatives_at_a_time(alice_client: APIClient) -> None:
    board = _board(alice_client)
    ids = [f"CR{n:020d}" for n in range(501)]
    response = alice_client.post(
        f"/api/adspark/boards/{board['id']}/items/bulk/", {"creative_ids": ids}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"creative_ids": ["At most 500 creatives at a time."]}


def test_it_tells_which_of_my_boards_hold_a_creative(alice_client: APIClient, bob_client: APIClient) -> None:
    creative = CreativeFactory()
    ideas, keep = _board(alice_client, "Ideas"), _board(alice_client, "Keep")
    _board(alice_client, "Other")
    bobs = _board(bob_client, "Bob's")
    for board, client in ((ideas, alice_client), (keep, alice_client), (bobs, bob_client)):
        client.post(
            f"/api/adspark/boards/{board['id']}/items/",
            {"creative_id": creative.ad_creative_id},
            format="json",
        )
    holding = alice_client.get(f"/api/adspark/creatives/{creative.ad_creative_id}/boards/").json()
    assert [(b["id"], b["name"]) for b in holding] == [(ideas["id"], "Ideas"), (keep["id"], "Keep")]
    assert all(BoardItem.objects.get(pk=b["item_id"]).board_id == b["id"] for b in holding)
    assert alice_client.get(f"/api/adspark/creatives/{UNKNOWN_CREATIVE}/boards/").json() == []


def test_it_hides_alice_s_board_from_bob_with_a_404_without_model_names(
    alice_client: APIClient, bob_client: APIClient
) -> None:
    board = _board(alice_client)
    creative = CreativeFactory()
    for method, path, body in (
        ("get", "", None),
        ("patch", "", {"name": "mine"}),
        ("delete", "", None),
        ("get", "items/", None),
        ("post", "items/", {"creative_id": creative.ad_creative_id}),
        ("post", "items/bulk/", {"creative_ids": [creative.ad_creative_id]}),
        ("post", "share/", None),
        ("get", "export/", None),
    ):
        response = getattr(bob_client, method)(
            f"/api/adspark/boards/{board['id']}/{path}", body, format="json"
        )
        assert response.status_code == 404, (method, path)
        assert response.json() == {"detail": "This board does not exist or is not yours."}
    assert Board.objects.get(pk=board["id"]).name == "Summer ideas" and BoardItem.objects.count() == 0


def test_it_shares_a_board_read_only_by_link_and_revokes_it(
    alice, alice_client: APIClient, api_client: APIClient, settings
) -> None:  # type: ignore[no-untyped-def]
    # Given alice's board with one saved creative and a note
    settings.APP_BASE_URL = "https://app.example.com"
    alice.first_name, alice.last_name = "Alice", "Liddell"
    alice.save()
    board = _board(alice_client, description="For the agency")
    creative = CreativeFactory(advertiser=AdvertiserFactory(name="Tesla, Inc."))
    alice_client.post(
        f"/api/adspark/boards/{board['id']}/items/",
        {"creative_id": creative.ad_creative_id, "note": "Look"},
        format="json",
    )
    # When she shares it
    shared = alice_client.post(f"/api/adspark/boards/{board['id']}/share/")
    assert shared.status_code == 200
    share_url = shared.json()["share_url"]
    assert share_url.startswith("https://app.example.com/shared/")
    token = share_url.rsplit("/", 1)[1]
    assert len(token) >= 32
    # Then anyone with the link reads it without signing in
    public = api_client.get(f"/api/adspark/shared-boards/{token}/")
    assert public.status_code == 200
    body = public.json()
    assert (body["name"], body["description"], body["owner_display"], body["count"]) == (
        "Summer ideas",
        "For the agency",
        "Alice Liddell",
        1,
    )
    assert body["items"][0]["note"] == "Look"
    assert body["items"][0]["creative"]["advertiser_name"] == "Tesla, Inc."
    assert "id" not in body and "owner" not in body
    # and sharing again keeps the same link
    assert alice_client.post(f"/api/adspark/boards/{board['id']}/share/").json()["share_url"] == share_url
    # When she revokes it, the link stops working
    assert alice_client.delete(f"/api/adspark/boards/{board['id']}/share/").status_code == 204
    gone = api_client.get(f"/api/adspark/shared-boards/{token}/")
    assert gone.status_code == 404
    assert gone.json() == {"detail": "This shared board does not exist or is no longer shared."}
    assert alice_client.get(f"/api/adspark/boards/{board['id']}/").json()["share_url"] is None


def test_it_refuses_to_write_through_a_shared_link(alice_client: APIClient, api_client: APIClient) -> None:
    board = _board(alice_client)
    token = (
        alice_client.post(f"/api/adspark/boards/{board['id']}/share/").json()["share_url"].rsplit("/", 1)[1]
    )
    assert api_client.post(f"/api/adspark/shared-boards/{token}/", {}, format="json").status_code == 405
    assert api_client.delete(f"/api/adspark/shared-boards/{token}/").status_code == 405


def test_it_renames_and_deletes_a_board_but_keeps_the_creatives(alice_client: APIClient) -> None:
    board = _board(alice_client)
    creative = CreativeFactory()
    alice_client.post(
        f"/api/adspark/boards/{board['id']}/items/", {"creative_id": creative.ad_creative_id}, format="json"
    )
    renamed = alice_client.patch(f"/api/adspark/boards/{board['id']}/", {"name": "Winter"}, format="json")
    assert (
        renamed.status_code == 200
        and renamed.json()["name"] == "Winter"
        and renamed.json()["item_count"] == 1
    )
    assert alice_client.delete(f"/api/adspark/boards/{board['id']}/").status_code == 204
    assert not BoardItem.objects.exists()
    assert type(creative).objects.filter(pk=creative.pk).exists()


def test_it_returns_every_field_error_of_a_board_at_once(alice_client: APIClient) -> None:
    response = alice_client.post(
        "/api/adspark/boards/", {"name": "", "description": "x" * 2001}, format="json"
    )
    assert response.status_code == 400
    assert set(response.json()) == {"name", "description"}


def test_it_keeps_saved_creatives_from_the_cleanup_of_old_creatives(alice_client: APIClient) -> None:
    import datetime as dt

    from AdSpark.cleanup import creatives_cleanup_old
    from AdSpark.models import Creative

    old = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    saved, unsaved = CreativeFactory(last_shown=old), CreativeFactory(last_shown=old)
    Creative.objects.update(updated_at=old)
    board = _board(alice_client)
    alice_client.post(
        f"/api/adspark/boards/{board['id']}/items/", {"creative_id": saved.ad_creative_id}, format="json"
    )
    creatives_cleanup_old(days_old=30)
    assert list(Creative.objects.values_list("pk", flat=True)) == [saved.pk]
    assert not Creative.objects.filter(pk=unsaved.pk).exists()
