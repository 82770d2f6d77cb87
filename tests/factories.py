"""factory_boy factories for the rows tests need (a small cast: alice, bob, …)."""

from __future__ import annotations

import datetime as dt

import factory
from django.contrib.auth import get_user_model

from AdSpark.models import Advertiser, Creative, FetchRun


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("correct-horse-battery")


class AdvertiserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Advertiser
        django_get_or_create = ("advertiser_id",)

    advertiser_id = factory.Sequence(lambda n: f"AR{n:020d}")
    name = factory.Sequence(lambda n: f"Advertiser {n}")


class CreativeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Creative

    ad_creative_id = factory.Sequence(lambda n: f"CR{n:020d}")
    advertiser = factory.SubFactory(AdvertiserFactory)
    format = "text"
    image_url = factory.LazyAttribute(
        lambda c: f"https://tpc.googlesyndication.com/archive/simgad/{c.ad_creative_id[2:]}"
    )
    first_shown = factory.LazyFunction(lambda: dt.datetime(2025, 1, 1, tzinfo=dt.UTC))
    last_shown = factory.LazyFunction(lambda: dt.datetime(2025, 6, 1, tzinfo=dt.UTC))
    regions = factory.LazyFunction(lambda: ["2840"])


class FetchRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FetchRun

    params = factory.LazyFunction(
        lambda: {"advertiser_ids": ["AR17828074650563772417"], "region": "2840", "num": 100, "max_pages": 1}
    )
