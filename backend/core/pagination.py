"""Page-number pagination with a client-chosen page size (``?page=2&page_size=100``)."""

from rest_framework import pagination


class PageNumberPagination(pagination.PageNumberPagination):
    """DRF page-number pagination; ``page_size`` is capped at 200 rows."""

    page_size_query_param = "page_size"
    max_page_size = 200
