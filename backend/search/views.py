"""Search API: ``GET /api/search/``, history, fetch-from-search (202) and save-as-watch."""

from __future__ import annotations

from typing import Any, cast

from django.db import transaction
from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from AdSpark.filters import CreativeFilter
from AdSpark.queries import FetchParamsError
from AdSpark.serializers import FetchRunSerializer
from AdSpark.watches import watch_create
from AdSpark.watches.serializers import WatchSerializer
from core.filters import FilterBackend
from core.pagination import PageNumberPagination

from . import selectors, services
from .serializers import (
    MAX_Q_LENGTH,
    SaveAsWatchRequestSerializer,
    SearchAdvertiserSerializer,
    SearchCreativeSerializer,
    SearchFetchRequestSerializer,
    SearchHistoryEntrySerializer,
    SearchResponseSerializer,
)

# Advertisers shown above the creative results (the creatives list is the paginated part).
ADVERTISERS_SHOWN = 10
FILTER_NAMES = (
    "advertiser_id",
    "creative_format",
    "region",
    "platform",
    "shown_after",
    "shown_before",
    "target_domain",
)


def _renamed(field_errors: Any) -> dict[str, list[str]]:
    """Field errors of a query built from a search, named as the search request names them
    (the text and advertiser ids both come from ``q``)."""
    rename = {"text": "q", "advertiser_ids": "q", "non_field_errors": "q"}
    errors: dict[str, list[str]] = {}
    for key, messages in field_errors.items():
        errors.setdefault(rename.get(key, key), []).extend(str(m) for m in messages)
    return errors


class SearchView(generics.GenericAPIView):
    """``GET /api/search/?q=…`` over advertisers (name, id) and creatives (id, target domain,
    ad copy), ranked; the creative filters of ``/api/adspark/creatives/`` apply; paginated.

    The first page of a search is recorded in the caller's history. An empty result means the
    client may offer ``POST /api/search/fetch/`` with the same ``q`` and filters.
    """

    serializer_class = SearchCreativeSerializer
    filter_backends = [FilterBackend]
    filterset_class = CreativeFilter

    def get_queryset(self) -> QuerySet[Any]:
        return selectors.creative_search(q=self.request.query_params.get("q", ""))

    @extend_schema(
        parameters=[
            OpenApiParameter("q", OpenApiTypes.STR, required=True, description="The words to search for.")
        ],
        responses={200: SearchResponseSerializer, 400: OpenApiResponse(description="Field errors")},
    )
    def get(self, request: Request) -> Response:
        # PostgreSQL text cannot hold NUL: refuse it in any parameter (q and filters are stored
        # in the search history) instead of answering 500.
        nul = sorted(name for name, value in request.query_params.items() if "\x00" in value)
        if nul:
            raise serializers.ValidationError({name: ["Must not contain NUL characters."] for name in nul})
        q = " ".join(request.query_params.get("q", "").split())
        if not selectors.search_terms(q):
            raise serializers.ValidationError(
                {"q": ["Enter a word, name, domain or advertiser id to search for."]}
            )
        if len(q) > MAX_Q_LENGTH:
            raise serializers.ValidationError({"q": [f"At most {MAX_Q_LENGTH} characters."]})
        creatives = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(creatives)
        assert self.paginator is not None and page is not None
        paginator = cast(PageNumberPagination, self.paginator)
        assert paginator.page is not None
        advertisers = selectors.advertiser_search(q=q)
        if request.query_params.get("advertiser_id"):
            advertisers = advertisers.filter(advertiser_id=request.query_params["advertiser_id"])
        count = paginator.page.paginator.count
        if paginator.page.number == 1:
            filters = {
                name: request.query_params[name] for name in FILTER_NAMES if request.query_params.get(name)
            }
            services.search_history_record(user=request.user, q=q, filters=filters, result_count=count)
        context = self.get_serializer_context()
        return Response(
            {
                "q": q,
                "engine": "full_text" if selectors.uses_full_text() else "fallback",
                "count": count,
                "next": paginator.get_next_link(),
                "previous": paginator.get_previous_link(),
                "results": SearchCreativeSerializer(page, many=True, context=context).data,
                "advertisers": SearchAdvertiserSerializer(
                    advertisers[:ADVERTISERS_SHOWN], many=True, context=context
                ).data,
                "advertiser_count": advertisers.count(),
            }
        )


class SearchHistoryView(generics.ListAPIView):
    """``GET /api/search/history/``: the caller's searches, newest first (paginated)."""

    serializer_class = SearchHistoryEntrySerializer
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[Any]:
        return selectors.search_history_list(user=self.request.user)


class SearchHistoryDetailView(generics.DestroyAPIView):
    """``DELETE /api/search/history/{id}/``: forget one search (another user's is a 404)."""

    serializer_class = SearchHistoryEntrySerializer
    not_found_message = "This search is not in your history."

    def get_queryset(self) -> QuerySet[Any]:
        return selectors.search_history_list(user=self.request.user)


class SearchHistoryClearView(APIView):
    """``POST /api/search/history/clear/``: forget all of the caller's searches."""

    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request) -> Response:
        selectors.search_history_list(user=request.user).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class SearchFetchView(APIView):
    """``POST /api/search/fetch/``: fetch a search from SerpApi → ``202`` with the FetchRun.

    For a search that found nothing locally: ``q`` of advertiser ids becomes an advertiser
    query, anything else a text query; ``region``, ``platform`` and ``format`` carry over.
    Throttled like ``/api/adspark/fetch/`` (scope ``fetch``).
    """

    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "fetch"

    @extend_schema(
        request=SearchFetchRequestSerializer,
        responses={202: FetchRunSerializer, 400: OpenApiResponse(description="Field errors")},
    )
    def post(self, request: Request) -> Response:
        body = SearchFetchRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            run = services.search_fetch_start(
                user=request.user,
                q=body.validated_data["q"],
                filters=body.filters(),
                max_pages=body.validated_data.get("max_pages"),
            )
        except FetchParamsError as exc:
            raise serializers.ValidationError(_renamed(exc.errors)) from exc
        data = FetchRunSerializer(run, context={"request": request}).data
        return Response(data, status=status.HTTP_202_ACCEPTED, headers={"Location": data["status_url"]})


class SaveAsWatchView(APIView):
    """``POST /api/search/save-as-watch/``: create a watch that re-runs this search → ``201``.

    The watch's query is the search's (advertiser ids or text, region, platform, format);
    optional ``name`` (default ``Search: …``), ``interval_minutes`` and notification settings
    are validated exactly as ``POST /api/adspark/watches/`` validates them (400 with field
    errors; errors about the query text are reported on ``q``).
    """

    @extend_schema(
        request=SaveAsWatchRequestSerializer,
        responses={201: WatchSerializer, 400: OpenApiResponse(description="Field errors")},
    )
    def post(self, request: Request) -> Response:
        body = SaveAsWatchRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = services.search_watch_data(
            q=body.validated_data["q"],
            filters=body.filters(),
            name=body.validated_data.get("name", ""),
            **body.watch_fields(),
        )
        watch_body = WatchSerializer(data=data, context={"request": request})
        if not watch_body.is_valid():
            raise serializers.ValidationError(_renamed(watch_body.errors))
        fields = dict(watch_body.validated_data)
        with transaction.atomic():
            watch = watch_create(owner=request.user, query=fields.pop("query"), **fields)
        return Response(
            WatchSerializer(watch, context={"request": request}).data, status=status.HTTP_201_CREATED
        )
