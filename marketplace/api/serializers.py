"""API shapes of people and profiles; validation of types and sizes only (rules live in services)."""

from django.contrib.auth import authenticate
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiExample, extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from categories.models import Category
from imatch.api_rows import TEN_THOUSANDTHS, api_datetime, api_decimal, current_zone
from imatch.db import page_values
from marketplace import selectors
from marketplace.errors import LoginLocked
from marketplace.models import (
    AccountStatusChange,
    Engagement,
    Match,
    Provider,
    Rating,
    Referral,
    Seeker,
    User,
    amount_due_usd,
    contact_shared,
    pending_bonus_pot,
)

MONEY = {"max_digits": 12, "decimal_places": 2, "min_value": 0, "allow_null": True, "required": False}


class SpecialtySlugsField(serializers.ListField):
    """Specialties are written and read as their slugs within the profile's category."""

    child = serializers.SlugField(max_length=64)

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 50)
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_representation(self, data):
        return [specialty.slug for specialty in data.all()]


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "Sign up",
            value={"email": "dana@example.com", "password": "a-long-passphrase", "name": "Dana Reyes"},
            request_only=True,
        )
    ]
)
class RegisterSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=128, write_only=True, style={"input_type": "password"})
    name = serializers.CharField(max_length=150)
    referral_code = serializers.CharField(max_length=16, required=False, allow_blank=True, write_only=True)


class RegisteredUserSerializer(serializers.ModelSerializer):
    """The new account and the API token issued with it (context `token`)."""

    token = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["id", "email", "name", "referral_code", "token"]

    def get_token(self, user: User) -> str:
        return self.context["token"]


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "Log in", value={"email": "dana@example.com", "password": "a-long-passphrase"}, request_only=True
        )
    ]
)
class TokenRequestSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=128, write_only=True, style={"input_type": "password"})

    def validate(self, attrs):
        request = self.context["request"]
        user = authenticate(request, username=attrs["email"], password=attrs["password"])
        if user is None:
            # django-axes flags the request once this email reached its failure limit; the
            # answer is the same whether or not an account uses the email.
            if getattr(request, "axes_locked_out", False):
                raise LoginLocked()
            raise serializers.ValidationError("Unable to log in with these credentials.", code="authorization")
        attrs["user"] = user
        return attrs


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()


@extend_schema_serializer(
    examples=[OpenApiExample("The emailed token", value={"token": "eyJ1c2VyIjo3fQ:1tVx3a:Zm9v"}, request_only=True)]
)
class EmailVerifySerializer(serializers.Serializer):
    token = serializers.CharField(max_length=500, help_text="The token of the link emailed at sign-up.")


class EmailVerifiedSerializer(serializers.Serializer):
    email = serializers.EmailField(source="user.email")
    email_verified_at = serializers.DateTimeField(source="user.email_verified_at")
    newly_verified = serializers.BooleanField(source="newly")


class ProfileSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    category = serializers.CharField(source="category.name")
    category_display_name = serializers.CharField(source="category.display_name")


@extend_schema_field({"type": ["string", "null"], "format": "uri", "readOnly": True})
class PhotoUrlField(serializers.Field):
    """The absolute URL of a person's profile photo (`source`: the user's `photo`); null without one."""

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        kwargs.setdefault("help_text", "The profile photo's URL; null: show the person's initials.")
        super().__init__(**kwargs)

    def to_representation(self, photo):
        if not photo:
            return None
        request = self.context.get("request")
        return request.build_absolute_uri(photo.url) if request else photo.url


class MeSerializer(serializers.ModelSerializer):
    seekers = ProfileSummarySerializer(many=True, read_only=True)
    providers = ProfileSummarySerializer(many=True, read_only=True)
    photo_url = PhotoUrlField(source="photo")

    class Meta:
        model = User
        fields = [
            "id",
            "email",
            "name",
            "account_type",
            "referral_code",
            "email_verified_at",
            "is_staff",
            "time_zone",
            "leaderboard_name_shown",
            "photo_url",
            "seekers",
            "providers",
        ]
        read_only_fields = fields
        extra_kwargs = {"time_zone": {"help_text": "The IANA time zone dates and times are shown in."}}

    leaderboard_name_shown = serializers.BooleanField(
        read_only=True,
        help_text="Whether leaderboards show you by name (false: as Anonymous). Unless you chose, "
        "true for providers and false for seekers.",
    )


@extend_schema_serializer(
    examples=[
        OpenApiExample("Chicago", value={"time_zone": "America/Chicago"}, request_only=True),
        OpenApiExample("Anonymous on leaderboards", value={"leaderboard_name_shown": False}, request_only=True),
    ]
)
class MeUpdateSerializer(serializers.Serializer):
    """Your settings: send one or both."""

    time_zone = serializers.CharField(
        max_length=64,
        required=False,
        help_text="An IANA time zone name (e.g. America/Chicago); dates and times are shown in it.",
    )
    leaderboard_name_shown = serializers.BooleanField(
        required=False,
        help_text="true: leaderboards show your name; false: they show you as Anonymous (still ranked). "
        "Shown at the boards' next update, within LEADERBOARD_CACHE_SECONDS (10 minutes).",
    )

    def validate(self, data: dict) -> dict:
        if not data:
            raise serializers.ValidationError(
                {"time_zone": ["Send time_zone, leaderboard_name_shown, or both."]}, code="required"
            )
        return data


class PhotoUploadSerializer(serializers.Serializer):
    photo = serializers.FileField(
        help_text="A JPEG, PNG or WebP image of at most 5 MB; it is re-encoded, resized and its metadata dropped."
    )


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "A seeker",
            value={
                "category": "financial_advisors",
                "specialties": ["retirement-planning"],
                "needs_description": "A plan to retire at 60 with a steady income.",
                "budget_min": "100.00",
                "budget_max": "300.00",
                "city": "Austin",
                "state": "TX",
                "radius_km": 25,
                "remote_ok": True,
            },
            request_only=True,
        )
    ]
)
class SeekerSerializer(serializers.ModelSerializer):
    category = serializers.SlugRelatedField(slug_field="name", queryset=Category.objects.all())
    specialties = SpecialtySlugsField()
    budget_min = serializers.DecimalField(**MONEY)
    budget_max = serializers.DecimalField(**MONEY)
    state = serializers.CharField(max_length=2, min_length=2, required=False, allow_blank=True)

    class Meta:
        model = Seeker
        fields = [
            "id",
            "user",
            "category",
            "specialties",
            "needs_description",
            "budget_min",
            "budget_max",
            "city",
            "state",
            "location",
            "radius_km",
            "remote_ok",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "user", "location", "created_at", "updated_at"]
        extra_kwargs = {"needs_description": {"max_length": 5000}}


class ProviderPublicSerializer(serializers.ModelSerializer):
    """A provider as the directory shows it; the owner and staff also see the private fields.

    `user`, `license_number` and `max_active_clients` are present only for the provider's
    owner and staff (so the schema never requires them here).
    """

    PRIVATE_FIELDS = ("license_number", "max_active_clients", "user")

    category = serializers.SlugRelatedField(slug_field="name", queryset=Category.objects.all())
    specialties = SpecialtySlugsField()
    pricing_min = serializers.DecimalField(**MONEY)
    pricing_max = serializers.DecimalField(**MONEY)
    years_experience = serializers.IntegerField(min_value=0, max_value=80, allow_null=True, required=False)
    max_active_clients = serializers.IntegerField(
        min_value=1, max_value=10000, required=False, help_text="Only the owner and staff see it."
    )
    state = serializers.CharField(max_length=2, min_length=2, required=False, allow_blank=True)
    name = serializers.CharField(source="user.name", read_only=True)
    photo_url = PhotoUrlField(source="user.photo")

    class Meta:
        model = Provider
        fields = [
            "id",
            "user",
            "name",
            "photo_url",
            "category",
            "business_name",
            "bio",
            "specialties",
            "years_experience",
            "certifications",
            "license_number",
            "license_verified",
            "pricing_min",
            "pricing_max",
            "city",
            "state",
            "location",
            "remote",
            "accepting_clients",
            "max_active_clients",
            "rating_avg",
            "rating_count",
            "created_at",
        ]
        read_only_fields = ["id", "user", "license_verified", "location", "rating_avg", "rating_count", "created_at"]
        extra_kwargs = {
            "bio": {"max_length": 5000},
            "certifications": {"max_length": 1000},
            "user": {"help_text": "The owner's user id; only the owner and staff see it."},
            "license_number": {"help_text": "Only the owner and staff see it."},
        }

    def to_representation(self, instance):
        data = super().to_representation(instance)
        viewer = getattr(self.context.get("request"), "user", None)
        if not (viewer and (viewer.is_staff or viewer.pk == instance.user_id)):
            for field in self.PRIVATE_FIELDS:
                data.pop(field, None)
        return data


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "A provider",
            value={
                "category": "financial_advisors",
                "business_name": "Reyes Planning",
                "bio": "Fee-only planner: retirement income for families.",
                "specialties": ["retirement-planning"],
                "years_experience": 12,
                "license_number": "CRD-123456",
                "pricing_min": "150.00",
                "pricing_max": "300.00",
                "city": "Austin",
                "state": "TX",
                "remote": True,
            },
            request_only=True,
        )
    ]
)
class ProviderSerializer(ProviderPublicSerializer):
    """A provider as its owner and staff see it (creating and editing): every field, private ones too."""

    PRIVATE_FIELDS = ()

    class Meta(ProviderPublicSerializer.Meta):
        pass


class LicenseVerificationSerializer(serializers.Serializer):
    """Staff verify or withdraw a provider's license: the provider's verification as it now stands."""

    id = serializers.IntegerField()
    business_name = serializers.CharField()
    category = serializers.CharField(source="category.name")
    license_number = serializers.CharField()
    license_verified = serializers.BooleanField()
    license_verified_at = serializers.DateTimeField(allow_null=True)
    license_verified_by = serializers.IntegerField(source="license_verified_by_id", allow_null=True)


# --- The core loop: matches, engagements, ratings ------------------------------------


class MatchProviderSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    business_name = serializers.CharField()
    name = serializers.CharField(source="user.name")
    location = serializers.CharField()
    remote = serializers.BooleanField()
    license_verified = serializers.BooleanField()
    rating_avg = serializers.DecimalField(max_digits=3, decimal_places=2)
    rating_count = serializers.IntegerField()


class MatchSeekerSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="user.name")
    needs_description = serializers.CharField()
    budget_min = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    budget_max = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    location = serializers.CharField()
    remote_ok = serializers.BooleanField()


class CategoryNameField(serializers.CharField):
    """The category's machine name: `category_key` where a list annotated it (no join), else `category.name`."""

    def __init__(self, **kwargs):
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, value) -> str:
        key = getattr(value, "category_key", None)
        return key if key is not None else value.category.name


class MatchSerializer(serializers.ModelSerializer):
    """A match as its two sides see it; `contact` is the other side's email once the provider accepted."""

    category = CategoryNameField()
    provider = MatchProviderSerializer()
    seeker = MatchSeekerSerializer()
    contact = serializers.SerializerMethodField()
    score = serializers.DecimalField(max_digits=5, decimal_places=4, help_text="0 to 1, from the matching engine.")
    reasons = serializers.ListField(
        child=serializers.CharField(), help_text="Plain-language reasons, most telling first."
    )
    breakdown = serializers.DictField(
        child=serializers.FloatField(min_value=0, max_value=1),
        help_text="Each scored factor (need_fit, budget_fit, location, quality, …) → its value in [0, 1].",
    )

    class Meta:
        model = Match
        fields = [
            "id",
            "category",
            "seeker",
            "provider",
            "status",
            "score",
            "rank",
            "reasons",
            "breakdown",
            "featured",
            "contact",
            "introduced_at",
            "responded_at",
            "decline_reason",
            "created_at",
        ]
        read_only_fields = fields

    def get_contact(self, match: Match) -> str | None:
        if not match.contact_shared:
            return None
        viewer = getattr(self.context.get("request"), "user", None)
        if viewer is not None and viewer.pk == match.provider.user_id:
            return match.seeker.user.email
        return match.provider.user.email


# The columns `match_rows` reads (`category_key`: `selectors.list_annotations`), in its order.
MATCH_ROW_COLUMNS = (
    "id",
    "category_key",
    "seeker_id",
    "seeker__user__name",
    "seeker__user__email",
    "seeker__needs_description",
    "seeker__budget_min",
    "seeker__budget_max",
    "seeker__location",
    "seeker__remote_ok",
    "provider_id",
    "provider__business_name",
    "provider__user_id",
    "provider__user__name",
    "provider__user__email",
    "provider__location",
    "provider__remote",
    "provider__license_verified",
    "provider__rating_avg",
    "provider__rating_count",
    "status",
    "score",
    "rank",
    "reasons",
    "breakdown",
    "featured",
    "introduced_at",
    "responded_at",
    "decline_reason",
    "created_at",
)


def match_rows(matches: QuerySet[Match], *, viewer: User) -> list[dict]:
    """What `MatchSerializer(many=True)` gives `viewer` for these matches (`match_list_for`), from
    one values query: the list's rows without DRF's per-field work (`imatch.api_rows`)."""
    return match_rows_from(match_values(matches), viewer=viewer)


def match_values(matches: QuerySet[Match]) -> list[tuple]:
    """The rows' columns as stored (`MATCH_ROW_COLUMNS`): what a kept page of the list keeps."""
    return page_values(matches, MATCH_ROW_COLUMNS, annotations=selectors.list_annotations)


def match_rows_from(values: list[tuple], *, viewer: User) -> list[dict]:
    """The list's rows from `match_values`, written now in the request's time zone."""
    zone = current_zone()
    rows = []
    for (
        pk,
        category,
        seeker_id,
        seeker_name,
        seeker_email,
        needs,
        budget_min,
        budget_max,
        seeker_location,
        remote_ok,
        provider_id,
        business_name,
        provider_user_id,
        provider_name,
        provider_email,
        provider_location,
        remote,
        license_verified,
        rating_avg,
        rating_count,
        status,
        score,
        rank,
        reasons,
        breakdown,
        featured,
        introduced_at,
        responded_at,
        decline_reason,
        created_at,
    ) in values:
        contact = None
        if contact_shared(status):
            contact = seeker_email if viewer.pk == provider_user_id else provider_email
        rows.append(
            {
                "id": pk,
                "category": category,
                "seeker": {
                    "id": seeker_id,
                    "name": seeker_name,
                    "needs_description": needs,
                    "budget_min": api_decimal(budget_min),
                    "budget_max": api_decimal(budget_max),
                    "location": seeker_location,
                    "remote_ok": remote_ok,
                },
                "provider": {
                    "id": provider_id,
                    "business_name": business_name,
                    "name": provider_name,
                    "location": provider_location,
                    "remote": remote,
                    "license_verified": license_verified,
                    "rating_avg": api_decimal(rating_avg),
                    "rating_count": rating_count,
                },
                "status": status,
                "score": api_decimal(score, TEN_THOUSANDTHS),
                "rank": rank,
                "reasons": [None if reason is None else str(reason) for reason in reasons],
                "breakdown": {str(key): None if value is None else float(value) for key, value in breakdown.items()},
                "featured": featured,
                "contact": contact,
                "introduced_at": api_datetime(introduced_at, zone),
                "responded_at": api_datetime(responded_at, zone),
                "decline_reason": decline_reason,
                "created_at": api_datetime(created_at, zone),
            }
        )
    return rows


def match_row(match: Match, *, viewer: User) -> dict:
    """What `MatchSerializer` gives `viewer` for a match loaded with both sides, their users and
    its category (`marketplace.services.matches._locked`), without DRF's per-field work."""
    seeker, provider = match.seeker, match.provider
    values = (
        match.pk,
        match.category.name,
        seeker.pk,
        seeker.user.name,
        seeker.user.email,
        seeker.needs_description,
        seeker.budget_min,
        seeker.budget_max,
        seeker.location,
        seeker.remote_ok,
        provider.pk,
        provider.business_name,
        provider.user_id,
        provider.user.name,
        provider.user.email,
        provider.location,
        provider.remote,
        provider.license_verified,
        provider.rating_avg,
        provider.rating_count,
        match.status,
        match.score,
        match.rank,
        match.reasons,
        match.breakdown,
        match.featured,
        match.introduced_at,
        match.responded_at,
        match.decline_reason,
        match.created_at,
    )
    return match_rows_from([values], viewer=viewer)[0]


class MatchRunSerializer(serializers.Serializer):
    matches = MatchSerializer(many=True)


@extend_schema_serializer(
    examples=[OpenApiExample("With a reason", value={"reason": "Spam reports from three seekers."}, request_only=True)]
)
class AccountChangeRequestSerializer(serializers.Serializer):
    reason = serializers.CharField(
        max_length=1000, allow_blank=True, help_text="Why (kept in the account's history; not shown to the person)."
    )


class AccountStatusChangeSerializer(serializers.ModelSerializer):
    class Meta:
        model = AccountStatusChange
        fields = ["action", "reason", "operator", "created_at"]


class AccountSerializer(serializers.ModelSerializer):
    """A person's account as operators see it: whether it is active, and who changed that, when and why."""

    status_changes = AccountStatusChangeSerializer(many=True, read_only=True)

    class Meta:
        model = User
        fields = ["id", "email", "name", "is_active", "status_changes"]


@extend_schema_serializer(
    examples=[
        OpenApiExample("With a reason", value={"reason": "Not taking new clients this month."}, request_only=True)
    ]
)
class DeclineSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")


@extend_schema_serializer(
    examples=[OpenApiExample("The deal value", value={"deal_value_usd": "1200.00"}, request_only=True)]
)
class EngagementReportSerializer(serializers.Serializer):
    deal_value_usd = serializers.DecimalField(max_digits=12, decimal_places=2)


@extend_schema_serializer(
    examples=[OpenApiExample("With a reason", value={"reason": "We agreed not to go ahead."}, request_only=True)]
)
class EngagementCancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")


@extend_schema_serializer(
    examples=[OpenApiExample("With a reason", value={"reason": "The work was done and paid."}, request_only=True)]
)
class EngagementDisputeSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=1000, help_text="Why the engagement should stand; an operator reads it.")


class EngagementSerializer(serializers.ModelSerializer):
    """An engagement as its sides see it.

    `status`: reported → confirmed (or under_review above the category's threshold, until an
    operator approves) → completed; after confirmation a cancel is a request
    (cancel_requested) the other side agrees to or disputes (disputed: an operator decides).
    `bonus_status`: pending until the commission is paid, then paid (none if cancelled first);
    `provider_bonus_pot` / `seeker_bonus_pot` are planned while pending, final once paid.
    """

    category = CategoryNameField()
    seeker = serializers.IntegerField(source="seeker_id")
    seeker_name = serializers.CharField(source="seeker.user.name")
    provider = serializers.IntegerField(source="provider_id")
    provider_business_name = serializers.CharField(source="provider.business_name")
    match = serializers.IntegerField(source="match_id")
    reported_by = serializers.IntegerField(source="reported_by_id")
    amount_due_usd = serializers.DecimalField(max_digits=12, decimal_places=2)
    cancel_requested_by = serializers.IntegerField(source="cancel_requested_by_id", allow_null=True)
    pending_bonus_pot = serializers.IntegerField(help_text="Both sides' bonuses waiting for the commission payment.")

    class Meta:
        model = Engagement
        fields = [
            "id",
            "match",
            "category",
            "category_name",
            "seeker",
            "seeker_name",
            "provider",
            "provider_business_name",
            "status",
            "deal_value_usd",
            "commission_rate",
            "commission_usd",
            "commission_credit_usd",
            "amount_due_usd",
            "billing_status",
            "bonus_status",
            "provider_bonus_pot",
            "seeker_bonus_pot",
            "pending_bonus_pot",
            "reported_by",
            "confirmed_at",
            "reviewed_at",
            "completed_at",
            "cancel_requested_by",
            "cancel_requested_at",
            "cancel_reason",
            "dispute_reason",
            "cancelled_at",
            "created_at",
        ]
        read_only_fields = fields


# The columns `engagement_rows` reads (`category_key`: `selectors.list_annotations`), in its order.
ENGAGEMENT_ROW_COLUMNS = (
    "id",
    "match_id",
    "category_key",
    "category_name",
    "seeker_id",
    "seeker__user__name",
    "provider_id",
    "provider__business_name",
    "status",
    "deal_value_usd",
    "commission_rate",
    "commission_usd",
    "commission_credit_usd",
    "billing_status",
    "bonus_status",
    "provider_bonus_pot",
    "seeker_bonus_pot",
    "reported_by_id",
    "confirmed_at",
    "reviewed_at",
    "completed_at",
    "cancel_requested_by_id",
    "cancel_requested_at",
    "cancel_reason",
    "dispute_reason",
    "cancelled_at",
    "created_at",
)


def engagement_rows(engagements: QuerySet[Engagement]) -> list[dict]:
    """What `EngagementSerializer(many=True)` gives for these engagements (`engagement_list_for`),
    from one values query: the list's rows without DRF's per-field work (`imatch.api_rows`)."""
    return engagement_rows_from(engagement_values(engagements))


def engagement_values(engagements: QuerySet[Engagement]) -> list[tuple]:
    """The rows' columns as stored (`ENGAGEMENT_ROW_COLUMNS`): what a kept page of the list keeps."""
    return page_values(engagements, ENGAGEMENT_ROW_COLUMNS, annotations=selectors.list_annotations)


def engagement_rows_from(values: list[tuple]) -> list[dict]:
    """The list's rows from `engagement_values`, written now in the request's time zone."""
    zone = current_zone()
    rows = []
    for (
        pk,
        match_id,
        category,
        category_name,
        seeker_id,
        seeker_name,
        provider_id,
        business_name,
        status,
        deal_value,
        commission_rate,
        commission,
        commission_credit,
        billing_status,
        bonus_status,
        provider_bonus,
        seeker_bonus,
        reported_by_id,
        confirmed_at,
        reviewed_at,
        completed_at,
        cancel_requested_by_id,
        cancel_requested_at,
        cancel_reason,
        dispute_reason,
        cancelled_at,
        created_at,
    ) in values:
        rows.append(
            {
                "id": pk,
                "match": match_id,
                "category": category,
                "category_name": category_name,
                "seeker": seeker_id,
                "seeker_name": seeker_name,
                "provider": provider_id,
                "provider_business_name": business_name,
                "status": status,
                "deal_value_usd": api_decimal(deal_value),
                "commission_rate": api_decimal(commission_rate, TEN_THOUSANDTHS),
                "commission_usd": api_decimal(commission),
                "commission_credit_usd": api_decimal(commission_credit),
                "amount_due_usd": api_decimal(amount_due_usd(commission, commission_credit)),
                "billing_status": billing_status,
                "bonus_status": bonus_status,
                "provider_bonus_pot": provider_bonus,
                "seeker_bonus_pot": seeker_bonus,
                "pending_bonus_pot": pending_bonus_pot(bonus_status, provider_bonus, seeker_bonus),
                "reported_by": reported_by_id,
                "confirmed_at": api_datetime(confirmed_at, zone),
                "reviewed_at": api_datetime(reviewed_at, zone),
                "completed_at": api_datetime(completed_at, zone),
                "cancel_requested_by": cancel_requested_by_id,
                "cancel_requested_at": api_datetime(cancel_requested_at, zone),
                "cancel_reason": cancel_reason,
                "dispute_reason": dispute_reason,
                "cancelled_at": api_datetime(cancelled_at, zone),
                "created_at": api_datetime(created_at, zone),
            }
        )
    return rows


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": 5})
class StarsField(serializers.IntegerField):
    """1 to 5 stars; the rating service refuses any other number (`invalid_stars`)."""


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "Five stars",
            value={"engagement": 42, "stars": 5, "review": "Clear, patient and on time."},
            request_only=True,
        )
    ]
)
class RatingSerializer(serializers.ModelSerializer):
    """Create with {engagement, stars, review}; the rated side follows from who rates."""

    engagement = serializers.IntegerField(source="engagement_id", min_value=1, max_value=10**18 - 1)
    stars = StarsField(help_text="1 to 5.")
    review = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
    rater = serializers.IntegerField(source="rater_id", read_only=True)
    rated = serializers.IntegerField(source="rated_id", read_only=True)
    provider = serializers.IntegerField(source="provider_id", read_only=True)

    class Meta:
        model = Rating
        fields = ["id", "engagement", "rater", "rated", "rated_role", "provider", "stars", "review", "created_at"]
        read_only_fields = ["id", "rater", "rated", "rated_role", "provider", "created_at"]


class ReferralSerializer(serializers.ModelSerializer):
    """One person the referrer referred: how far they got and the POT each step earned the referrer."""

    referrer = serializers.IntegerField(source="referrer_id", read_only=True)
    referred = serializers.IntegerField(source="referred_id", read_only=True)
    referred_name = serializers.CharField(source="referred.name", read_only=True)
    activation_pot = serializers.IntegerField(
        read_only=True, help_text="POT the activation earned the referrer (paid once their first commission is paid)."
    )
    engagement_pot = serializers.IntegerField(
        read_only=True, help_text="POT the first engagement earned the referrer (paid with the same commission)."
    )
    activation_award = serializers.IntegerField(source="activation_award_id", read_only=True, allow_null=True)
    engagement_award = serializers.IntegerField(source="engagement_award_id", read_only=True, allow_null=True)

    class Meta:
        model = Referral
        fields = [
            "id",
            "referrer",
            "referred",
            "referred_name",
            "code",
            "status",
            "signed_up_at",
            "activated_at",
            "engaged_at",
            "activation_pot",
            "engagement_pot",
            "activation_award",
            "engagement_award",
        ]
        read_only_fields = fields
