"""API views for people and profiles: parse, check access, call one service, render."""

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from categories.errors import CategoryInactive
from categories.selectors import catalog_version
from imatch.api import refuses
from imatch.api_input import BoundedLimitOffsetPagination, KeptListMixin, WrittenResponse, written
from imatch.authentication import TokenAuthentication
from imatch.converters import ID_PATTERN
from imatch.errors import ErrorCode as CommonCode
from imatch.errors import NotFound
from imatch.person_cache import Scope
from marketplace import selectors
from marketplace.api.filters import EngagementFilter, MatchFilter, RatingFilter, SeekerFilter
from marketplace.api.serializers import (
    AccountChangeRequestSerializer,
    AccountSerializer,
    DeclineSerializer,
    EmailVerifiedSerializer,
    EmailVerifySerializer,
    EngagementCancelSerializer,
    EngagementDisputeSerializer,
    EngagementReportSerializer,
    EngagementSerializer,
    LicenseVerificationSerializer,
    MatchRunSerializer,
    MatchSerializer,
    MeSerializer,
    MeUpdateSerializer,
    PhotoUploadSerializer,
    ProviderPublicSerializer,
    ProviderSerializer,
    RatingSerializer,
    ReferralSerializer,
    RegisteredUserSerializer,
    RegisterSerializer,
    SeekerSerializer,
    TokenRequestSerializer,
    TokenSerializer,
    engagement_rows,
    engagement_rows_from,
    engagement_values,
    match_row,
    match_rows,
    match_rows_from,
    match_values,
)
from marketplace.errors import (
    AccountInactive,
    AlreadyRated,
    DuplicateProfile,
    ErrorCode,
    InvalidTransition,
    LoginLocked,
    ProviderUnavailable,
    VerificationLinkExpired,
    VerificationLinkInvalid,
    WrongSide,
)
from marketplace.filters import ProviderDirectoryFilter, ReferralFilter
from marketplace.models import Engagement, Match, Provider, Rating, Referral, Seeker, User, match_live_q
from marketplace.services import account, engagements, matches, profiles, ratings, tokens, verification

PROFILE_REFUSALS = (
    CategoryInactive,
    DuplicateProfile,
    CommonCode.REQUIRED,
    ErrorCode.UNKNOWN_SPECIALTY,
    ErrorCode.NEGATIVE,
    ErrorCode.RANGE_REVERSED,
)
PROFILE_UPDATE_REFUSALS = (*PROFILE_REFUSALS, ErrorCode.READ_ONLY)


class RegisterView(APIView):
    """Create an account; answers with the new user's API token."""

    permission_classes = [permissions.AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"

    @extend_schema(summary="Create an account", request=RegisterSerializer, responses={201: RegisteredUserSerializer})
    @refuses(CommonCode.REQUIRED, ErrorCode.EMAIL_TAKEN, ErrorCode.INVALID_REFERRAL, ErrorCode.WEAK_PASSWORD)
    def post(self, request: Request) -> Response:
        serializer = RegisterSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = profiles.user_register(**serializer.validated_data)
        token = tokens.api_token_issue(user=user)
        body = RegisteredUserSerializer(user, context={"token": token}).data
        return Response(body, status=status.HTTP_201_CREATED)


class TokenView(APIView):
    """Exchange an email and password for a new API token for this device (valid `API_TOKEN_TTL_DAYS`).

    Failed attempts count towards the email's lockout (django-axes) and the client's throttle.
    """

    permission_classes = [permissions.AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"

    @extend_schema(summary="Log in: get an API token", request=TokenRequestSerializer, responses=TokenSerializer)
    @refuses(LoginLocked)
    def post(self, request: Request) -> Response:
        serializer = TokenRequestSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        return Response({"token": tokens.api_token_issue(user=serializer.validated_data["user"])})


class LogoutView(APIView):
    """Revoke the API token this request carries; the person's other devices stay logged in."""

    authentication_classes = [TokenAuthentication]  # a session has no token to revoke

    @extend_schema(summary="Log out: revoke this API token", request=None, responses={204: None})
    def post(self, request: Request) -> Response:
        tokens.api_token_revoke(token=request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    """The logged-in person and their profiles."""

    @extend_schema(summary="Get the logged-in person", responses=MeSerializer)
    def get(self, request: Request) -> Response:
        return Response(self._me(request, request.user))

    @extend_schema(
        summary="Change your settings: time zone, name on leaderboards",
        description="`time_zone`: dates and times (pages and emails) are shown in it; an IANA name such as "
        "America/Chicago. `leaderboard_name_shown`: whether leaderboards show your name or Anonymous; the "
        "boards show the change at their next update, within 10 minutes. Both are checked before either is saved.",
        request=MeUpdateSerializer,
        responses=MeSerializer,
    )
    @refuses(CommonCode.REQUIRED, ErrorCode.UNKNOWN_TIME_ZONE)
    def patch(self, request: Request) -> Response:
        serializer = MeUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        user = account.user_settings_update(
            user=request.user,
            time_zone=data.get("time_zone"),
            leaderboard_opt_in=data.get("leaderboard_name_shown"),
        )
        return Response(self._me(request, user))

    @staticmethod
    def _me(request: Request, user: User) -> dict:
        """The person as the service left them (a write answers with what it saved, not the request's copy)."""
        return MeSerializer(selectors.user_with_profiles(user=user), context={"request": request}).data


class MePhotoView(APIView):
    """Your profile photo: the same checks and re-encoding as the web form (`marketplace.services.account`)."""

    @extend_schema(
        summary="Upload your profile photo",
        description="multipart/form-data with a `photo` file: JPEG, PNG or WebP, at most 5 MB. It is resized "
        "and re-encoded as a JPEG without metadata; the original is not kept. Replaces any previous photo.",
        request=PhotoUploadSerializer,
        responses=MeSerializer,
    )
    @refuses(CommonCode.REQUIRED, ErrorCode.PHOTO_TOO_LARGE, ErrorCode.PHOTO_UNREADABLE)
    def post(self, request: Request) -> Response:
        serializer = PhotoUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = account.user_photo_set(user=request.user, upload=serializer.validated_data["photo"])
        return Response(MeView._me(request, user))

    @extend_schema(summary="Remove your profile photo", request=None, responses={204: None})
    def delete(self, request: Request) -> Response:
        account.user_photo_remove(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class EmailVerifyView(APIView):
    """Verify the email address with the token of the link emailed at sign-up (what the link's page does)."""

    permission_classes = [permissions.AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"

    @extend_schema(summary="Verify an email address", request=EmailVerifySerializer, responses=EmailVerifiedSerializer)
    @refuses(VerificationLinkExpired, VerificationLinkInvalid)
    def post(self, request: Request) -> Response:
        serializer = EmailVerifySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = verification.email_verify(token=serializer.validated_data["token"])
        return Response(EmailVerifiedSerializer(result).data)


class EmailVerificationResendView(APIView):
    """Email the logged-in person a new verification link."""

    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"

    @extend_schema(summary="Send a new email verification link", request=None, responses={202: None})
    @refuses(ErrorCode.ALREADY_VERIFIED)
    def post(self, request: Request) -> Response:
        verification.email_verification_resend(user=request.user)
        return Response(status=status.HTTP_202_ACCEPTED)


class SeekerViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """The user's seeker profiles (staff: everyone's)."""

    serializer_class = SeekerSerializer
    refusals = {"create": PROFILE_REFUSALS, "partial_update": PROFILE_UPDATE_REFUSALS}
    queryset = Seeker.objects.none()  # for the schema; get_queryset() scopes to the user
    lookup_value_regex = ID_PATTERN
    filterset_class = SeekerFilter
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[Seeker]:
        return selectors.seekers_visible_to(user=self.request.user)

    def get_object(self) -> Seeker:
        return selectors.seeker_for_user(user=self.request.user, seeker_id=int(self.kwargs["pk"]))

    def perform_create(self, serializer: SeekerSerializer) -> None:
        serializer.instance = profiles.seeker_create(user=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer: SeekerSerializer) -> None:
        serializer.instance = profiles.seeker_update(seeker=serializer.instance, changes=serializer.validated_data)


class DirectoryPagination(BoundedLimitOffsetPagination):
    """The directory's paging, with its total from the shared cache (`provider_directory_count`)."""

    def get_count(self, queryset) -> int:
        return selectors.provider_directory_count(queryset)


MINE_PARAMETER = OpenApiParameter(
    "mine",
    OpenApiTypes.BOOL,
    description="List the caller's own provider profiles (listed or not) instead of the directory; "
    "they carry the private fields. Needs a logged-in caller (ignored otherwise).",
)


@extend_schema_view(list=extend_schema(parameters=[MINE_PARAMETER]))
class ProviderViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """The public provider directory; providers create and edit their own profiles.

    Reading (the directory, one provider) answers `ProviderPublic`: `user`, `license_number`
    and `max_active_clients` only for the owner and staff. `?mine=1` lists the caller's own
    provider profiles, listed or not. Staff verify a license, or withdraw the verification.
    """

    serializer_class = ProviderSerializer
    pagination_class = DirectoryPagination
    refusals = {"create": PROFILE_REFUSALS, "partial_update": PROFILE_UPDATE_REFUSALS}
    queryset = Provider.objects.none()  # for the schema; get_queryset() picks the visible ones
    lookup_value_regex = ID_PATTERN
    filterset_class = ProviderDirectoryFilter
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_permissions(self):
        if self.action in ("list", "retrieve"):
            return [permissions.AllowAny()]
        if self.action in ("verify_license", "unverify_license"):
            return [permissions.IsAdminUser()]
        return super().get_permissions()

    def get_serializer_class(self):
        return ProviderPublicSerializer if self.action in ("list", "retrieve") else ProviderSerializer

    def list(self, request: Request, *args, **kwargs) -> Response:
        return self._public(request, lambda: super(ProviderViewSet, self).list(request, *args, **kwargs))

    def retrieve(self, request: Request, *args, **kwargs) -> Response:
        return self._public(request, lambda: super(ProviderViewSet, self).retrieve(request, *args, **kwargs))

    def _public(self, request: Request, answer) -> Response:
        """Anonymous callers get the directory as this process last built (and wrote) it for this URL.

        What anyone may see changes only through services that call `directory_changed`
        (`catalog_memo`: a new catalogue version drops every kept answer at once). Logged-in
        callers are answered afresh (owners and staff see private fields).
        """
        if request.user.is_authenticated:
            return answer()
        key = ("api:providers", request.scheme, request.get_host(), request.get_full_path())
        return WrittenResponse(selectors.directory_memo(key, lambda: written(answer().data)))

    def get_queryset(self) -> QuerySet[Provider]:
        user = self.request.user
        if self.action == "list" and user.is_authenticated and self.request.query_params.get("mine") in ("1", "true"):
            return selectors.providers_owned_by(user=user)
        if self.action == "list":
            name = self.request.query_params.get("category", "").strip()
            category = selectors.directory_category(name=name) if name else None
            if name and category is None:
                return Provider.objects.none()
            return selectors.provider_directory(category=category)
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

    @extend_schema(request=None, responses=LicenseVerificationSerializer)
    @refuses(CommonCode.INVALID)
    @action(detail=True, methods=["post"], url_path="verify-license")
    def verify_license(self, request: Request, pk: str) -> Response:
        """Verify a provider's license.

        What the admin's "Verify the license" action does: the provider is then listed and
        matched in categories that require a license. Refused (`invalid`, on `license_number`)
        while the provider has given no license number. Verifying again renews the date.
        """
        profiles.provider_verify_license(provider=self.get_object(), operator=request.user)
        provider = selectors.provider_for_user(user=request.user, provider_id=int(pk))
        return Response(LicenseVerificationSerializer(provider).data)

    @extend_schema(request=None, responses=LicenseVerificationSerializer)
    @action(detail=True, methods=["post"], url_path="unverify-license")
    def unverify_license(self, request: Request, pk: str) -> Response:
        """Withdraw a provider's license verification.

        What the admin's "Withdraw the license verification" action does: in categories that
        require a license the provider stops being listed and matched until verified again.
        """
        profiles.provider_unverify_license(provider=self.get_object(), operator=request.user)
        provider = selectors.provider_for_user(user=request.user, provider_id=int(pk))
        return Response(LicenseVerificationSerializer(provider).data)


class AccountViewSet(viewsets.GenericViewSet):
    """Operators deactivate and reactivate people's accounts (staff only).

    A deactivated person cannot log in nor use their API token, is not listed, matched
    nor given matches, and their open introductions are closed; reactivating undoes the
    first three. Each change is recorded with who, when and why (`status_changes`).
    """

    permission_classes = [permissions.IsAdminUser]
    serializer_class = AccountSerializer
    queryset = User.objects.none()  # for the schema; get_object() looks the account up for the operator
    lookup_value_regex = ID_PATTERN

    def get_object(self) -> User:
        return selectors.account_for_operator(operator=self.request.user, user_id=int(self.kwargs["pk"]))

    def _change(self, request: Request, service) -> Response:
        account = self.get_object()
        serializer = AccountChangeRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        service(user=account, operator=request.user, reason=serializer.validated_data["reason"])
        return Response(AccountSerializer(self.get_object()).data)

    @extend_schema(request=AccountChangeRequestSerializer, responses=AccountSerializer)
    @refuses(InvalidTransition, ErrorCode.SELF_DEACTIVATION, CommonCode.REQUIRED, CommonCode.TOO_LONG)
    @action(detail=True, methods=["post"])
    def deactivate(self, request: Request, pk: str) -> Response:
        """Deactivate a person's account."""
        return self._change(request, profiles.user_deactivate)

    @extend_schema(request=AccountChangeRequestSerializer, responses=AccountSerializer)
    @refuses(InvalidTransition, CommonCode.REQUIRED, CommonCode.TOO_LONG)
    @action(detail=True, methods=["post"])
    def reactivate(self, request: Request, pk: str) -> Response:
        """Reactivate a person's account."""
        return self._change(request, profiles.user_reactivate)


# --- The core loop: matching, matches, engagements, ratings ---------------------------


class SeekerMatchView(APIView):
    """Run matching for one of the user's seeker profiles; answers with its live matches."""

    @extend_schema(
        summary="Run matching for a seeker profile",
        request=None,
        responses={
            201: OpenApiResponse(MatchRunSerializer, description="New matches were found; all live ones are listed."),
            200: OpenApiResponse(MatchRunSerializer, description="Nothing new; the live matches are listed."),
        },
    )
    @refuses(CategoryInactive, AccountInactive)
    def post(self, request: Request, seeker_id: int) -> Response:
        seeker = selectors.seeker_for_user(user=request.user, seeker_id=seeker_id)
        new = matches.match_run_for_seeker(seeker=seeker)
        live = (
            selectors.matches_visible_to(user=request.user)
            .filter(match_live_q(), seeker=seeker)
            .order_by("-score", "id")
        )
        data = MatchRunSerializer({"matches": live}, context={"request": request}).data
        return Response(data, status=status.HTTP_201_CREATED if new else status.HTTP_200_OK)


class CategoryVersionedList(KeptListMixin):
    """Kept lists of matches and engagements (`Scope.MATCHES`, forgotten by `marketplace.services.lists`);
    the categories' version is in the key, as rows show a category's name and `?category=` filters by it."""

    kept_scopes = (Scope.MATCHES,)
    # Their rows are written from the stored columns, the person and the time zone alone.
    kept_written = True

    def kept_variant(self) -> str:
        return catalog_version()


class MatchViewSet(CategoryVersionedList, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Matches of the user (as seeker; as provider once introduced). Staff see all.

    Actions: introduce (seeker), accept (provider), decline (either, optional reason),
    engagement (either side of an accepted match, with the deal value).
    """

    serializer_class = MatchSerializer
    queryset = Match.objects.none()  # for the schema; get_queryset() scopes to the user
    lookup_value_regex = ID_PATTERN
    filterset_class = MatchFilter

    def get_queryset(self) -> QuerySet[Match]:
        return selectors.match_list_for(user=self.request.user)

    def list_rows(self, page: QuerySet[Match]) -> list[dict]:
        return match_rows(page, viewer=self.request.user)

    kept_name = "matches"

    def list_values(self, page: QuerySet[Match]) -> list[tuple]:
        return match_values(page)

    def rows_from(self, values: list[tuple]) -> list[dict]:
        return match_rows_from(values, viewer=self.request.user)

    def get_object(self) -> Match:
        return selectors.match_for_user(user=self.request.user, match_id=int(self.kwargs["pk"]))

    def _answer(self, match: Match) -> Response:
        """The match as the service left it: locked and saved with both sides and the category
        loaded (`marketplace.services.matches._locked`), so it is not read a third time; written
        from its values as `MatchSerializer` would (its fields were rebuilt on every call)."""
        return Response(match_row(match, viewer=self.request.user))

    @extend_schema(request=None, responses=MatchSerializer)
    @refuses(InvalidTransition, WrongSide, ProviderUnavailable)
    @action(detail=True, methods=["post"])
    def introduce(self, request: Request, pk: str) -> Response:
        """Ask for an introduction to the matched provider (seeker)."""
        # The service reads the match once, locked, and answers 404 for someone else's.
        return self._answer(matches.match_introduce(match=int(pk), user=request.user))

    @extend_schema(request=None, responses=MatchSerializer)
    @refuses(InvalidTransition, WrongSide)
    @action(detail=True, methods=["post"])
    def accept(self, request: Request, pk: str) -> Response:
        """Accept an introduction (provider); each side then sees the other's email."""
        return self._answer(matches.match_accept(match=int(pk), user=request.user))

    @extend_schema(request=DeclineSerializer, responses=MatchSerializer)
    @refuses(InvalidTransition, WrongSide, CommonCode.TOO_LONG)
    @action(detail=True, methods=["post"])
    def decline(self, request: Request, pk: str) -> Response:
        """Decline a match or an introduction (either side)."""
        match = self.get_object()
        serializer = DeclineSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self._answer(matches.match_decline(match=match, user=request.user, **serializer.validated_data))

    @extend_schema(request=EngagementReportSerializer, responses={201: EngagementSerializer})
    @refuses(InvalidTransition, WrongSide, ErrorCode.NOT_POSITIVE, ErrorCode.TOO_PRECISE, ErrorCode.TOO_LARGE)
    @action(detail=True, methods=["post"])
    def engagement(self, request: Request, pk: str) -> Response:
        """Report the engagement agreed on an accepted match, with its deal value."""
        match = self.get_object()
        serializer = EngagementReportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        engagement = engagements.engagement_report(match=match, user=request.user, **serializer.validated_data)
        engagement = selectors.engagement_for_user(user=request.user, engagement_id=engagement.pk)
        return Response(EngagementSerializer(engagement).data, status=status.HTTP_201_CREATED)


class EngagementViewSet(
    CategoryVersionedList, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Engagements the user is a side of (staff: all). Actions: confirm, complete, cancel, dispute."""

    serializer_class = EngagementSerializer
    queryset = Engagement.objects.none()  # for the schema; get_queryset() scopes to the user
    lookup_value_regex = ID_PATTERN
    filterset_class = EngagementFilter

    def get_queryset(self) -> QuerySet[Engagement]:
        return selectors.engagement_list_for(user=self.request.user)

    def list_rows(self, page: QuerySet[Engagement]) -> list[dict]:
        return engagement_rows(page)

    kept_name = "engagements"

    def list_values(self, page: QuerySet[Engagement]) -> list[tuple]:
        return engagement_values(page)

    def rows_from(self, values: list[tuple]) -> list[dict]:
        return engagement_rows_from(values)

    def get_object(self) -> Engagement:
        return selectors.engagement_for_user(user=self.request.user, engagement_id=int(self.kwargs["pk"]))

    def _answer(self, engagement: Engagement) -> Response:
        engagement = selectors.engagement_for_user(user=self.request.user, engagement_id=engagement.pk)
        return Response(EngagementSerializer(engagement).data)

    @extend_schema(request=None, responses=EngagementSerializer)
    @refuses(InvalidTransition, WrongSide)
    @action(detail=True, methods=["post"])
    def confirm(self, request: Request, pk: str) -> Response:
        """Confirm an engagement the other side reported."""
        return self._answer(engagements.engagement_confirm(engagement=self.get_object(), user=request.user))

    @extend_schema(request=None, responses=EngagementSerializer)
    @refuses(InvalidTransition, WrongSide)
    @action(detail=True, methods=["post"])
    def complete(self, request: Request, pk: str) -> Response:
        """Mark a confirmed engagement as completed."""
        return self._answer(engagements.engagement_complete(engagement=self.get_object(), user=request.user))

    @extend_schema(
        request=EngagementCancelSerializer,
        responses=EngagementSerializer,
        description=(
            "Reported or under review: either side cancels at once. Confirmed: a side's cancel is a "
            "request (`reason` required) and the engagement becomes `cancel_requested`; the other "
            "side's cancel then agrees (cancelled) — or it disputes with `POST .../dispute/`. The side "
            "who asked cannot cancel alone (invalid_transition). Refused once invoiced or completed."
        ),
    )
    @refuses(InvalidTransition, WrongSide, CommonCode.TOO_LONG, CommonCode.REQUIRED)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str) -> Response:
        """Cancel an engagement, or ask to."""
        engagement = self.get_object()
        serializer = EngagementCancelSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self._answer(
            engagements.engagement_cancel(engagement=engagement, user=request.user, **serializer.validated_data)
        )

    @extend_schema(
        request=EngagementDisputeSerializer,
        responses=EngagementSerializer,
        description=(
            "The other side disagrees with a requested cancellation (with a reason): the engagement "
            "becomes `disputed` and an operator decides in the admin whether it is cancelled or stands."
        ),
    )
    @refuses(InvalidTransition, WrongSide, CommonCode.TOO_LONG, CommonCode.REQUIRED)
    @action(detail=True, methods=["post"])
    def dispute(self, request: Request, pk: str) -> Response:
        """Dispute a requested cancellation."""
        engagement = self.get_object()
        serializer = EngagementDisputeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self._answer(
            engagements.engagement_cancel_dispute(engagement=engagement, user=request.user, **serializer.validated_data)
        )


class RatingViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    """Ratings the user gave or received (staff: all); POST rates the other side of an engagement."""

    serializer_class = RatingSerializer
    refusals = {
        "create": (
            NotFound,
            InvalidTransition,
            WrongSide,
            AlreadyRated,
            ErrorCode.SELF_RATING,
            ErrorCode.INVALID_STARS,
            CommonCode.TOO_LONG,
        )
    }
    queryset = Rating.objects.none()  # for the schema; get_queryset() scopes to the user
    lookup_value_regex = ID_PATTERN
    filterset_class = RatingFilter

    def get_queryset(self) -> QuerySet[Rating]:
        return selectors.ratings_visible_to(user=self.request.user)

    def get_object(self) -> Rating:
        rating = self.get_queryset().filter(pk=int(self.kwargs["pk"])).first()
        if rating is None:
            raise NotFound("No such rating.")
        return rating

    def perform_create(self, serializer: RatingSerializer) -> None:
        data = serializer.validated_data
        engagement = selectors.engagement_for_user(user=self.request.user, engagement_id=data["engagement_id"])
        serializer.instance = ratings.rating_create(
            engagement=engagement, user=self.request.user, stars=data["stars"], review=data.get("review", "")
        )


class ReferralViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The people the user referred, newest first (staff: everyone's, filtered by referrer or status).

    `activation_award` and `engagement_award` are the ids of the referrer's ledger rows
    (`GET /api/v1/pot/transactions/`) that paid each step.
    """

    serializer_class = ReferralSerializer
    queryset = Referral.objects.none()  # for the schema; get_queryset() scopes to the user
    filterset_class = ReferralFilter

    def get_queryset(self) -> QuerySet[Referral]:
        return selectors.referrals_visible_to(user=self.request.user)
