"""django-filter filter sets for the creatives and advertisers lists."""

from __future__ import annotations

import re

import django_filters
from django.db.models import QuerySet

from core.filters import FilterSet, UTCDateTimeFilter

from .models import Advertiser, Creative, CreativeFormat
from .queries import PLATFORMS
from .regions import UnknownRegionError, normalize_region
from .selectors import creatives_in_json_list

_HEX = re.compile(r"[0-9a-f]{1,64}")


class CreativeFilter(FilterSet):
    """``?advertiser_id=AR…&creative_format=text&region=US&platform=SEARCH&shown_after=…&shown_before=…``.

    The format filter is ``creative_format`` (SerpApi's name): DRF reserves ``?format=`` for
    choosing a renderer.

    ``shown_after`` / ``shown_before`` select creatives whose shown period
    (first_shown … last_shown) overlaps the range; dates or ISO-8601 datetimes.
    """

    advertiser_id = django_filters.CharFilter(field_name="advertiser_id")
    creative_format = django_filters.ChoiceFilter(field_name="format", choices=CreativeFormat.choices)
    region = django_filters.CharFilter(method="filter_region")
    platform = django_filters.ChoiceFilter(choices=[(p, p) for p in PLATFORMS], method="filter_platform")
    shown_after = UTCDateTimeFilter(field_name="last_shown", lookup_expr="gte")
    shown_before = UTCDateTimeFilter(field_name="first_shown", lookup_expr="lte")
    target_domain = django_filters.CharFilter(field_name="target_domain", lookup_expr="iexact")
    visual_hash = django_filters.CharFilter(
        method="filter_visual_hash",
        help_text="A perceptual hash (hex) from `visual_hash`: the creatives that look the same.",
    )

    class Meta:
        model = Creative
        fields = ["advertiser_id", "creative_format", "region", "platform", "target_domain", "visual_hash"]

    def filter_visual_hash(self, queryset: QuerySet[Creative], name: str, value: str) -> QuerySet[Creative]:
        value = value.strip().lower()
        if not _HEX.fullmatch(value):
            from rest_framework.exceptions import ValidationError

            raise ValidationError({"visual_hash": ["Enter a visual hash: 1 to 64 hexadecimal digits."]})
        return queryset.filter(archive__visual_hash=value)

    def filter_region(self, queryset: QuerySet[Creative], name: str, value: str) -> QuerySet[Creative]:
        try:
            code = normalize_region(value)
        except UnknownRegionError as exc:
            from rest_framework.exceptions import ValidationError

            raise ValidationError({"region": [str(exc)]}) from exc
        return creatives_in_json_list(queryset, "regions", code)

    def filter_platform(self, queryset: QuerySet[Creative], name: str, value: str) -> QuerySet[Creative]:
        return creatives_in_json_list(queryset, "platforms", value)


class AdvertiserFilter(FilterSet):
    name = django_filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = Advertiser
        fields = ["name"]
