"""Reads on people and profiles, with their related rows loaded up front."""

from django.db.models import Prefetch, Q, QuerySet

from imatch.errors import NotFound
from marketplace.models import Provider, Seeker, User

LISTED = Q(category__active=True) & (Q(category__requires_license=False) | Q(license_verified=True))


def provider_directory() -> QuerySet[Provider]:
    """Providers anyone may see: active category, and verified where a license is required."""
    return (
        Provider.objects.filter(LISTED)
        .select_related("user", "category")
        .prefetch_related("specialties")
        .order_by("-rating_avg", "-rating_count", "id")
    )


def provider_public_get(*, provider_id: int) -> Provider:
    """One listed provider, or NotFound (also for unlisted ones: never say they exist)."""
    provider = provider_directory().filter(pk=provider_id).first()
    if provider is None:
        raise NotFound("No such provider.")
    return provider


def seekers_of_user(*, user: User) -> QuerySet[Seeker]:
    """The seeker profiles a user may see: their own; staff see all."""
    seekers = Seeker.objects.select_related("user", "category").prefetch_related("specialties")
    return seekers.order_by("id") if user.is_staff else seekers.filter(user=user).order_by("id")


def providers_of_user(*, user: User) -> QuerySet[Provider]:
    """The provider profiles a user may manage: their own; staff see all."""
    providers = Provider.objects.select_related("user", "category").prefetch_related("specialties")
    return providers.order_by("id") if user.is_staff else providers.filter(user=user).order_by("id")


def seeker_for_user(*, user: User, seeker_id: int) -> Seeker:
    """A seeker profile the user owns (staff: any), else NotFound."""
    seeker = seekers_of_user(user=user).filter(pk=seeker_id).first()
    if seeker is None:
        raise NotFound("No such seeker profile.")
    return seeker


def provider_for_user(*, user: User, provider_id: int) -> Provider:
    """A provider profile the user owns (staff: any), else NotFound."""
    provider = providers_of_user(user=user).filter(pk=provider_id).first()
    if provider is None:
        raise NotFound("No such provider profile.")
    return provider


def providers_visible_to(*, user: User) -> QuerySet[Provider]:
    """Listed providers plus the user's own (staff: all) — what GET /providers/{id}/ may show."""
    if user.is_authenticated and user.is_staff:
        return providers_of_user(user=user)
    visible = LISTED | Q(user=user) if user.is_authenticated else LISTED
    return Provider.objects.filter(visible).select_related("user", "category").prefetch_related("specialties")


def user_with_profiles(*, user: User) -> User:
    """The user with their seeker and provider profiles (and categories) loaded."""
    return User.objects.prefetch_related(
        Prefetch("seekers", queryset=Seeker.objects.select_related("category").order_by("id")),
        Prefetch("providers", queryset=Provider.objects.select_related("category").order_by("id")),
    ).get(pk=user.pk)
