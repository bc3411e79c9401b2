"""Conversations API: the person's threads (matches they talk on), their messages, post, mark read.

A thread's id is its match's id. Only the two sides reach a thread: anyone else, staff
included, gets 404 (operators read threads in the admin).
"""

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from conversations import selectors, services
from conversations.api.serializers import (
    MessagePostSerializer,
    MessageSerializer,
    ThreadReadSerializer,
    ThreadSerializer,
    message_answer,
    posted_body,
)
from conversations.errors import ThreadClosed
from imatch.api import refuses
from imatch.converters import ID_PATTERN
from imatch.errors import ErrorCode as CommonCode
from marketplace.models import Match


@extend_schema_view(
    list=extend_schema(summary="List your conversations, latest activity first"),
    retrieve=extend_schema(summary="Get one of your conversations (id: the match's)"),
)
class ThreadViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The person's conversations, latest activity first, with unread counts; read, write, mark read."""

    serializer_class = ThreadSerializer
    queryset = Match.objects.none()  # for the schema; get_queryset() scopes to the person
    lookup_value_regex = ID_PATTERN

    def get_queryset(self) -> QuerySet[Match]:
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        return selectors.threads_of(user=self.request.user)

    def get_object(self) -> Match:
        selectors.thread_for_user(user=self.request.user, match_id=int(self.kwargs["pk"]))  # 404 for others
        return self.get_queryset().get(pk=int(self.kwargs["pk"]))

    @extend_schema(request=None, responses=MessageSerializer(many=True))
    @action(detail=True, methods=["get"], serializer_class=MessageSerializer)
    def messages(self, request: Request, pk: str) -> Response:
        """The thread's messages, oldest first (paginated).

        Reading them here does not mark them read: `POST …/read/` does.
        """
        match = selectors.thread_for_user(user=request.user, match_id=int(pk))
        page = self.paginate_queryset(selectors.messages_of(match=match))
        return self.get_paginated_response(MessageSerializer(page, many=True).data)

    @extend_schema(request=MessagePostSerializer, responses={201: MessageSerializer})
    @refuses(CommonCode.REQUIRED, CommonCode.TOO_LONG, ThreadClosed)
    @messages.mapping.post
    def post_message(self, request: Request, pk: str) -> Response:
        """Write to the other side (plain text)."""
        body = posted_body(request.data)  # MessagePostSerializer's, its refusals included
        message = services.message_post(match_id=int(pk), user=request.user, body=body)
        return Response(message_answer(message), status=status.HTTP_201_CREATED)  # MessageSerializer's

    @extend_schema(request=None, responses=ThreadReadSerializer)
    @action(detail=True, methods=["post"])
    def read(self, request: Request, pk: str) -> Response:
        """Mark the thread's messages to you read (and its new-message notifications)."""
        return Response({"marked_read": services.thread_mark_read(match_id=int(pk), user=request.user)})
