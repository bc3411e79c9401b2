"""API views for people and profiles: parse, check access, call one service, render."""

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.authtoken.models import Token
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from imatch.errors import NotFound
from marketplace import selectors
from marketplace.api.serializers import (
    MeSerializer,
    ProviderSerializer,
    RegisteredUserSerializer,
    RegisterSerializer,
    SeekerSerializer,
    TokenRequestSerializer,
    TokenSerializer,
)
from marketplace.filters import ProviderDirectoryFilter
from marketplace.models import Provider, Seeker
from marketplace.services import profiles

# Ids in URLs: digits only, short enough for a 64-bit column (longer ones are simply 404).
ID_PATTERN = "[0-9]{1,18}"


class RegisterView(APIView):
    """Create an account; answers with the new user's API token."""

    permission_classes = [permissions.AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"

    @extend_schema(request=RegisterSerializer, responses={201: RegisteredUserSerializer})
    def post(self, request: Request) -> Response:
        serializer = RegisterSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = profiles.user_register(**serializer.validated_data)
        Token.objects.create(user=user)
        return Response(RegisteredUserSerializer(user).data, status=status.HTTP_201_CREATED)


class TokenView(APIView):
    """Exchange an email and password for the user's API token."""

    permission_classes = [permissions.AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"

    @extend_schema(request=TokenRequestSerializer, responses=TokenSerializer)
    def post(self, request: Request) -> Response:
        serializer = TokenRequestSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        token, _ = Token.objects.get_or_create(user=serializer.validated_data["user"])
        return Response({"token": token.key})


class MeView(APIView):
    """The logged-in person and their profiles."""

    @extend_schema(responses=MeSerializer)
    def get(self, request: Request) -> Response:
        return Response(MeSerializer(selectors.user_with_profiles(user=request.user)).data)


class SeekerViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """The user's seeker profiles (staff: everyone's)."""

    serializer_class = SeekerSerializer
    queryset = Seeker.objects.none()  # for the schema; get_queryset() scopes to the user
    lookup_value_regex = ID_PATTERN
    filterset_fields = ["category__name"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[Seeker]:
        return selectors.seekers_of_user(user=self.request.user)

    def get_object(self) -> Seeker:
        return selectors.seeker_for_user(user=self.request.user, seeker_id=int(self.kwargs["pk"]))

    def perform_create(self, serializer: SeekerSerializer) -> None:
        serializer.instance = profiles.seeker_create(user=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer: SeekerSerializer) -> None:
        serializer.instance = profiles.seeker_update(seeker=serializer.instance, changes=serializer.validated_data)


class ProviderViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """The public provider directory; providers create and edit their own profiles.

    `?mine=1` lists the caller's own provider profiles, listed or not.
    """

    serializer_class = ProviderSerializer
    queryset = Provider.objects.none()  # for the schema; get_queryset() picks the visible ones
    lookup_value_regex = ID_PATTERN
    filterset_class = ProviderDirectoryFilter
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_permissions(self):
        if self.action in ("list", "retrieve"):
            return [permissions.AllowAny()]
        return super().get_permissions()

    def get_queryset(self) -> QuerySet[Provider]:
        user = self.request.user
        if self.action == "list" and user.is_authenticated and self.request.query_params.get("mine") in ("1", "true"):
            return selectors.providers_of_user(user=user).filter(user=user)
        if self.action == "list":
            return selectors.provider_directory()
        return selectors.providers_visible_to(user=user)

    def get_object(self) -> Provider:
        provider_id = int(self.kwargs["pk"])
        if self.action == "retrieve":
            provider = self.get_queryset().filter(pk=provider_id).first()
            if provider is None:
                raise NotFound("No such provider.")
            return provider
        return selectors.provider_for_user(user=self.request.user, provider_id=provider_id)

    def perform_create(self, serializer: ProviderSerializer) -> None:
        serializer.instance = profiles.provider_create(user=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer: ProviderSerializer) -> None:
        serializer.instance = profiles.provider_update(provider=serializer.instance, changes=serializer.validated_data)
