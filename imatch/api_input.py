"""The API's input guards: paging with bounded `limit` and `offset`, a JSON parser with limits;
and its content negotiation, with the usual request's answer found without parsing `Accept`.

All are DRF defaults (settings.REST_FRAMEWORK), so every list and every JSON body is
covered; what they refuse is a 400 in the API's error format (imatch.api.exception_handler).
"""

import hashlib
import json
import re
from collections.abc import Callable
from datetime import datetime

from django.utils import timezone
from rest_framework import exceptions, negotiation, pagination, parsers, renderers
from rest_framework.request import Request
from rest_framework.response import Response

from imatch.errors import ErrorCode
from imatch.person_cache import person_answer, person_answer_keys

_DIGITS = re.compile(r"[0-9]+")


class BoundedLimitOffsetPagination(pagination.LimitOffsetPagination):
    """`?limit=&offset=` paging where a bad value is a 400, never a silent fallback or a 500.

    `limit` is a whole number from 1; above `max_limit` it is clamped to `max_limit`, as DRF
    does. `offset` is a whole number from 0. Either one beyond `MAX_VALUE` (deeper paging
    means a filter is needed), negative, fractional or not a number is a 400 `invalid`
    naming the parameter. An empty value counts as absent (as an empty form field would).
    """

    max_limit = 100
    MAX_VALUE = 1_000_000

    def paginate_queryset(self, queryset, request, view=None) -> list | None:
        return self.paginate_rows(queryset, request, rows=list)

    def paginate_rows(self, queryset, request, *, rows: Callable) -> list | None:
        """The page as `rows(the page's queryset)` gives it (`list`: instances; a list's own
        row builder: plain dicts), with the total counted only when the page does not show it.

        The page is read first: a page shorter than `limit` (and not past the end) is the
        end of the list, so the total is `offset` plus its length, without a `COUNT(*)`. A
        person's matches, engagements and most lists fit in one page.
        """
        self.request = request
        self.limit = self.get_limit(request)
        if self.limit is None:
            return None
        self.offset = self.get_offset(request)
        page = rows(queryset[self.offset : self.offset + self.limit])
        if len(page) < self.limit and (page or not self.offset):
            self.count = self.offset + len(page)
        else:
            self.count = self.get_count(queryset)
        if self.count > self.limit and self.template is not None:
            self.display_page_controls = True
        return page

    def _parameter(self, request, name: str, *, minimum: int) -> int | None:
        raw = request.query_params.get(name, "")
        if raw == "":
            return None
        value = int(raw) if _DIGITS.fullmatch(raw) and len(raw) <= len(str(self.MAX_VALUE)) else None
        if value is None or not minimum <= value <= self.MAX_VALUE:
            raise exceptions.ValidationError(
                {name: [f"Must be a whole number from {minimum} to {self.MAX_VALUE:,}."]}, code=ErrorCode.INVALID
            )
        return value

    def get_limit(self, request) -> int | None:
        limit = self._parameter(request, self.limit_query_param, minimum=1)
        return self.default_limit if limit is None else min(limit, self.max_limit)

    def get_offset(self, request) -> int:
        return self._parameter(request, self.offset_query_param, minimum=0) or 0

    def get_paginated_response_schema(self, schema: dict) -> dict:
        """DRF's page schema in OpenAPI 3.1 terms: `next` and `previous` are a URL or null."""
        page = super().get_paginated_response_schema(schema)
        for link in ("next", "previous"):
            page["properties"][link] = {
                "type": ["string", "null"],
                "format": "uri",
                "description": f"The {link} page's URL; null at the {'end' if link == 'next' else 'start'}.",
            }
        return page

    def get_schema_operation_parameters(self, view) -> list[dict]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.limit_query_param:
                parameter["schema"].update({"minimum": 1, "maximum": self.MAX_VALUE})
                parameter["description"] += f" At most {self.max_limit} are returned."
            elif parameter["name"] == self.offset_query_param:
                parameter["schema"].update({"minimum": 0, "maximum": self.MAX_VALUE})
        return parameters


class RowsListMixin:
    """A list view (with `ListModelMixin`) whose page is `list_rows(the page's queryset)`: plain
    dicts built from one values query, equal to what its serializer gives (`imatch.api_rows`).

    Without a query parameter other than paging, the filter set is not built: it would filter
    nothing, and building its form cost ~0.4 ms per list. A handler without a docstring: the
    schema describes the list with the view's.
    """

    def list_rows(self, page) -> list[dict]:
        raise NotImplementedError

    def list(self, request: Request, *args, **kwargs) -> Response:
        queryset = self.get_queryset()
        paging = (self.paginator.limit_query_param, self.paginator.offset_query_param)
        if any(name not in paging for name in request.query_params):
            queryset = self.filter_queryset(queryset)
        return self.get_paginated_response(self.paginator.paginate_rows(queryset, request, rows=self.list_rows))


class KeptListMixin(RowsListMixin):
    """A `RowsListMixin` list whose pages of the person asking are kept under `kept_scopes`
    (`imatch.person_cache`); staff's lists of everyone are read live.

    What is kept is the page's stored columns (`list_values`), its total and its links; the key is
    `kept_name` and the whole URL, hashed (filters, paging and host); `kept_variant()` (what else
    the rows depend on) is checked with the scopes. The throttle reads the keys ahead
    (`kept_keys`, imatch.throttling). The rows are written from the columns on each request
    (`rows_from`), so the time zone and states that move with time are never frozen. The
    services that change what the rows show forget the scopes. `kept_access_check` runs first,
    so a refusal never comes from the cache.

    `kept_written`: the rows depend on nothing but the stored columns, the person (the cache is
    theirs) and the time zone, so they are kept written, as the JSON of `results`, per time zone
    (`KeptPageResponse`): a hit neither writes the rows nor encodes them again. Rows that also
    depend on the moment (a purchase's state) say until when what was written stays true
    (`kept_written_until`); the page is written again from then on.
    """

    kept_scopes: tuple = ()
    kept_name = ""
    kept_written = False

    def list_values(self, page) -> list[tuple]:
        raise NotImplementedError

    def rows_from(self, values: list[tuple]) -> list[dict]:
        raise NotImplementedError

    def kept_variant(self) -> str:
        return ""

    def kept_written_until(self, values: list[tuple], now: datetime) -> datetime | None:
        """`kept_written`: the first moment after `now` at which rows written at `now` from `values`
        stop being true (None: never)."""
        return None

    def kept_access_check(self, request: Request) -> None:
        """Refuse what the list refuses (e.g. someone else's `?user=`) before the cache is read."""

    def kept_keys(self, request: Request, user_id: int) -> list[str]:
        """The cache keys `list` reads for the person `user_id` asking, for the throttle to read ahead
        (named before the user is read: a staff member's, read live, are read ahead for nothing)."""
        if getattr(self, "action", "list") != "list":  # a viewset's other actions
            return []
        return person_answer_keys(user_id=user_id, scopes=self.kept_scopes, name=self._kept_name(request))

    def _kept_name(self, request: Request) -> tuple[str, str]:
        # Worked out once per request (the throttle's `kept_keys` and `list` both need it); a
        # view instance serves one request.
        name = getattr(self, "_kept_name_of_request", None)
        if name is None:
            name = (self.kept_name, hashlib.sha256(request.build_absolute_uri().encode()).hexdigest())
            if self.kept_written:  # the rows are kept written in the request's time zone
                name += (timezone.get_current_timezone_name(),)
            self._kept_name_of_request = name
        return name

    def list(self, request: Request, *args, **kwargs) -> Response:
        if request.user.is_staff:
            return super().list(request, *args, **kwargs)
        self.kept_access_check(request)
        count, next_link, previous_link, values = person_answer(
            user_id=request.user.pk,
            scopes=self.kept_scopes,
            name=self._kept_name(request),
            variant=self.kept_variant(),
            build=lambda: self._page_kept(request),
            fresh_until=_written_until if self.kept_written else None,
        )
        if self.kept_written:
            return KeptPageResponse(count, next_link, previous_link, values[0])
        return Response(
            {"count": count, "next": next_link, "previous": previous_link, "results": self.rows_from(values)}
        )

    def _page_kept(self, request: Request) -> "tuple[int, str | None, str | None, list[tuple] | tuple]":
        """What `RowsListMixin.list` reads, before the rows are written: (total, next, previous, columns);
        `kept_written`: the rows written instead, (their JSON, until when it is true)."""
        queryset = self.get_queryset()
        paging = (self.paginator.limit_query_param, self.paginator.offset_query_param)
        if any(name not in paging for name in request.query_params):
            queryset = self.filter_queryset(queryset)
        values = self.paginator.paginate_rows(queryset, request, rows=self.list_values)
        if self.kept_written:  # the moment first: a row written after it is true at least until then
            now = timezone.now()
            values = (_RESULTS_RENDERER.render(self.rows_from(values)), self.kept_written_until(values, now))
        return self.paginator.count, self.paginator.get_next_link(), self.paginator.get_previous_link(), values


_RESULTS_RENDERER = renderers.JSONRenderer()


def _written_until(page: tuple) -> datetime | None:
    return page[3][1]


def _compact_json_renderer(response: Response) -> renderers.JSONRenderer | None:
    """The response's renderer when it writes compact JSON as DRF's plain `JSONRenderer` (what an API
    client gets), else None (the browsable API, `; indent=`, a content type set by the view)."""
    renderer = getattr(response, "accepted_renderer", None)
    context = getattr(response, "renderer_context", None)
    if (
        type(renderer) is renderers.JSONRenderer
        and response.content_type is None
        and context is not None
        and renderer.get_indent(getattr(response, "accepted_media_type", None), context) is None
    ):
        context["response"] = response
        response["Content-Type"] = renderer.media_type
        return renderer
    return None


def written(data) -> "tuple[object, bytes]":
    """`data` with the JSON that DRF's `JSONRenderer` writes for it without indent, for `WrittenResponse`."""
    return data, _RESULTS_RENDERER.render(data)


class WrittenResponse(Response):
    """An answer kept together with its JSON (`written`): DRF's plain `JSONRenderer` sends those bytes
    as they are (no encoding per request); any other renderer renders `data` as usual."""

    def __init__(self, kept: "tuple[object, bytes]"):
        data, self._written = kept
        super().__init__(data)

    @property
    def rendered_content(self):
        if _compact_json_renderer(self) is not None:
            return self._written
        return super().rendered_content


class KeptPageResponse(Response):
    """A page of a `kept_written` list: `{"count", "next", "previous", "results"}` whose `results`
    are already the JSON that DRF's `JSONRenderer` writes for them (`results_json`).

    Rendered by DRF's own `JSONRenderer` without indent (what an API client gets), the body is
    the page's head rendered as usual with the kept `results` put in as they are: the same bytes
    as rendering the whole page (compact JSON is written part by part). Any other renderer (the
    browsable API, `; indent=`) renders `data`, the rows read back from that JSON, on first use.
    """

    def __init__(self, count: int, next_link: str | None, previous_link: str | None, results_json: bytes):
        self._head = {"count": count, "next": next_link, "previous": previous_link}
        self._results_json = results_json
        self._data = None
        super().__init__(None)

    @property
    def data(self) -> dict:
        if self._data is None:
            self._data = {**self._head, "results": json.loads(self._results_json)}
        return self._data

    @data.setter
    def data(self, value) -> None:
        self._data = value

    @property
    def rendered_content(self):
        renderer = _compact_json_renderer(self) if self._data is None else None
        if renderer is not None:
            head = renderer.render(self._head, self.accepted_media_type, self.renderer_context)
            return head[:-1] + b',"results":' + self._results_json + b"}"
        return super().rendered_content


class JSONFirstNegotiation(negotiation.DefaultContentNegotiation):
    """DRF's content negotiation, answering the usual API request without parsing its `Accept` header.

    A request with no `Accept` header, `*/*` or exactly `application/json`, and no `?format=` or
    format suffix, is answered by the first renderer when that is the JSON renderer, with the
    media type `application/json`: what DRF's loop answers for it (the first renderer matches
    the first, only media type), without parsing the header into media types (~2 % of a kept
    API read). Anything else (other types, parameters, `q` values, an empty header: 406) goes
    through DRF's negotiation.
    """

    USUAL_ACCEPT = frozenset({"*/*", "application/json"})

    def select_renderer(self, request, renderers, format_suffix=None):
        if (
            not format_suffix
            and renderers
            and renderers[0].media_type == "application/json"
            and request.META.get("HTTP_ACCEPT", "*/*") in self.USUAL_ACCEPT
            and not request.query_params.get(self.settings.URL_FORMAT_OVERRIDE)
        ):
            return renderers[0], "application/json"
        return super().select_renderer(request, renderers, format_suffix)


class BoundedJSONParser(parsers.JSONParser):
    """DRF's JSON parser, refusing JSON nested deeper than `max_depth` and strings with NUL.

    Deep nesting would otherwise end in a RecursionError (a 500) somewhere between the
    parser and the serializer; a NUL character cannot be stored in PostgreSQL text.
    """

    max_depth = 32

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as error:
            raise self._too_deep() from error
        self._check(data)
        return data

    def _too_deep(self) -> exceptions.ParseError:
        return exceptions.ParseError(
            f"JSON nested more than {self.max_depth} levels deep is not accepted.", code=ErrorCode.TOO_DEEP
        )

    def _check(self, data) -> None:
        """Walk the parsed value without recursion: refuse deep nesting and NUL in any key or string."""
        pending: list[tuple[object, int, str]] = [(data, 1, "")]
        while pending:
            value, depth, where = pending.pop()
            if isinstance(value, str):
                if "\x00" in value:
                    raise exceptions.ParseError(
                        f"{where or 'The body'} contains a NUL character.", code=ErrorCode.NUL_CHARACTER
                    )
                continue
            if not isinstance(value, dict | list):
                continue
            if depth > self.max_depth:
                raise self._too_deep()
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                name = f"{where}.{key}" if where else str(key)
                pending.append((str(key), depth, name))
                pending.append((item, depth + 1, name))
