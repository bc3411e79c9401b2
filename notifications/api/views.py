"""Notifications API: the person's own only (others' are 404, also for staff)."""

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from imatch.converters import ID_PATTERN
from notifications import selectors, services
from notifications.api.serializers import NotificationSerializer, ReadAllSerializer
from notifications.models import Notification


class NotificationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The person's notifications, newest first; mark one or all read."""

    serializer_class = NotificationSerializer
    queryset = Notification.objects.none()  # for the schema; get_queryset() scopes to the person
    lookup_value_regex = ID_PATTERN
    filterset_fields = ["kind"]

    def get_queryset(self) -> QuerySet[Notification]:
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        return selectors.notifications_of(user=self.request.user)

    @extend_schema(request=None, responses=NotificationSerializer)
    @action(detail=True, methods=["post"])
    def read(self, request: Request, pk: str) -> Response:
        """Mark one of your notifications read."""
        notification = services.notification_mark_read(user=request.user, notification_id=int(pk))
        return Response(NotificationSerializer(notification).data)

    @extend_schema(request=None, responses=ReadAllSerializer)
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request: Request) -> Response:
        """Mark all your notifications read."""
        return Response({"marked_read": services.notifications_mark_all_read(user=request.user)})
