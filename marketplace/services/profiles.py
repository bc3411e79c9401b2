"""Writes with business meaning on people and profiles.

Every function here is one use case: keyword-only arguments, one transaction, a
`DomainError` (with the field it concerns) on refusal, nothing written when refused.
"""

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from categories.errors import CategoryInactive
from categories.matching_weights import MAX_RADIUS_KM, MIN_RADIUS_KM
from categories.models import Category, Specialty
from currency.services import AwardRequest, experiment_assign, pot_award
from imatch.errors import DomainError, PermissionDenied
from imatch.errors import ErrorCode as CommonCode
from imatch.person_cache import Scope, person_forget
from imatch.text import clean_text
from marketplace import emails, selectors
from marketplace.errors import DuplicateProfile, ErrorCode, InvalidTransition
from marketplace.gazetteer import geocode
from marketplace.models import AccountAction, AccountStatusChange, AccountType, Provider, Seeker, User, UserManager
from marketplace.selectors import referrer_for_code
from marketplace.services.account import time_zone_check
from marketplace.services.lists import lists_forget_around
from marketplace.services.matches import matches_close_for_deactivated
from marketplace.services.referrals import referral_activate, referral_record
from marketplace.services.verification import email_verification_send

# --- People ---------------------------------------------------------------------------


@transaction.atomic
def user_register(
    *, email: str, password: str | None, name: str, referral_code: str | None = None, time_zone: str = ""
) -> User:
    """Create a person's account; a valid referral code records who referred them.

    `password=None` makes an account without a usable password (the demo's people: they
    would set one with "Forgot your password?"); sign-up forms and the API always give one.
    `time_zone` is the browser's (sign-up pages send it); unknown or empty falls back to UTC.

    The email verification link is sent once the account is committed.
    """
    email = UserManager.normalize_email(email)
    name = clean_text(name)
    if not email:
        raise DomainError("Enter an email address.", field="email", code=CommonCode.REQUIRED)
    if not name:
        raise DomainError("Enter your name.", field="name", code=CommonCode.REQUIRED)
    if User.objects.filter(email=email).exists():
        raise DomainError("An account with this email already exists.", field="email", code=ErrorCode.EMAIL_TAKEN)
    referrer = None
    if referral_code and referral_code.strip():
        referrer = referrer_for_code(code=referral_code)
        if referrer is None:
            raise DomainError(
                "This referral code is not valid.", field="referral_code", code=ErrorCode.INVALID_REFERRAL
            )
    user = User(email=email, name=name, referred_by=referrer, time_zone=_time_zone_or_utc(time_zone))
    text_length_check(user, "name")
    if password is None:
        user.set_unusable_password()
    else:
        try:
            validate_password(password, user)
        except ValidationError as error:
            raise DomainError(" ".join(error.messages), field="password", code=ErrorCode.WEAK_PASSWORD) from error
        user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as error:  # a concurrent sign-up with the same email won the race
        raise DomainError(
            "An account with this email already exists.", field="email", code=ErrorCode.EMAIL_TAKEN
        ) from error
    if referrer is not None:
        referral_record(referred=user, referrer=referrer)
    experiment_assign(user=user)  # earning-rate experiments running now take the new person into an arm
    email_verification_send(user=user)
    return user


def _time_zone_or_utc(name: str) -> str:
    try:
        return time_zone_check(name)
    except DomainError:
        return "UTC"  # a browser that sends nothing (or nonsense) must not block a sign-up


ACCOUNT_REASON_MAX = 1000


def _account_change_check(*, user: User, operator: User, reason: str) -> str:
    """Refuse a deactivation or reactivation not made by an operator, or without a reason; the reason, trimmed."""
    if not (operator.is_staff and operator.is_active):
        raise PermissionDenied("Only operators deactivate or reactivate accounts.")
    if user.is_staff and not operator.is_superuser:
        raise PermissionDenied("Only a superuser deactivates or reactivates an operator's account.")
    reason = clean_text(reason)
    if not reason:
        raise DomainError("Say why (kept in the account's history).", field="reason", code=CommonCode.REQUIRED)
    if len(reason) > ACCOUNT_REASON_MAX:
        raise DomainError(
            f"Keep the reason under {ACCOUNT_REASON_MAX} characters.", field="reason", code=CommonCode.TOO_LONG
        )
    return reason


def _account_set_active(*, user: User, operator: User, active: bool, reason: str) -> User:
    """Switch the account on or off, record who, when and why, and make every worker's matching see it.

    Matching caches each category's providers per process and refreshes them by their
    `updated_at` (marketplace/candidates.py): the user's active flag is part of a
    candidate, so their providers' `updated_at` moves in this same transaction.
    """
    now = timezone.now()
    user.is_active = active
    user.save(update_fields=["is_active"])
    Provider.objects.filter(user=user).update(updated_at=now)
    AccountStatusChange.objects.create(
        user=user,
        operator=operator,
        action=AccountAction.REACTIVATED if active else AccountAction.DEACTIVATED,
        reason=reason,
        created_at=now,
    )
    selectors.directory_changed()  # their providers leave (or rejoin) the directory and its counts
    return user


@transaction.atomic
def user_deactivate(*, user: User, operator: User, reason: str) -> User:
    """An operator deactivates a person's account: gone from the marketplace in every worker at once.

    The person can no longer log in nor use an API token; their providers are neither
    listed nor matched; their seekers get no matches. Their suggested matches and open
    introductions are declined, and seekers who lose a provider that way get the next one.
    """
    reason = _account_change_check(user=user, operator=operator, reason=reason)
    if user.pk == operator.pk:
        raise DomainError("You cannot deactivate your own account.", code=ErrorCode.SELF_DEACTIVATION)
    user = User.objects.select_for_update().get(pk=user.pk)
    if not user.is_active:
        raise InvalidTransition("This account is already deactivated.")
    _account_set_active(user=user, operator=operator, active=False, reason=reason)
    matches_close_for_deactivated(user=user, operator=operator)
    return user


@transaction.atomic
def user_reactivate(*, user: User, operator: User, reason: str) -> User:
    """An operator reactivates a deactivated account: the person logs in, is listed and matched again.

    Matches declined at the deactivation stay declined (those pairs are not matched again).
    """
    reason = _account_change_check(user=user, operator=operator, reason=reason)
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.is_active:
        raise InvalidTransition("This account is already active.")
    return _account_set_active(user=user, operator=operator, active=True, reason=reason)


def _account_type_refresh(*, user: User) -> None:
    """Keep `users.account_type` true to the roles the person holds."""
    account_type = AccountType.for_roles(
        is_seeker=Seeker.objects.filter(user=user).exists(),
        is_provider=Provider.objects.filter(user=user).exists(),
    )
    if user.account_type != account_type:
        user.account_type = account_type
        User.objects.filter(pk=user.pk).update(account_type=account_type)
        person_forget([user.pk], Scope.ACCOUNT)  # an update sends no signal (marketplace.signals)


# --- Shared checks --------------------------------------------------------------------


def category_open_check(*, category: Category) -> None:
    """Refuse a new profile in a category that is not launched (`CategoryInactive`)."""
    if not category.active:
        raise CategoryInactive(f"{category.display_name} is not open for new profiles.", field="category")


def _resolve_specialties(category: Category, slugs: Iterable[str]) -> list[Specialty]:
    """The category's specialties for these slugs; any slug not of this category is refused."""
    wanted = list(dict.fromkeys(slugs))
    found = {s.slug: s for s in Specialty.objects.filter(category=category, slug__in=wanted)}
    unknown = [slug for slug in wanted if slug not in found]
    if unknown:
        raise DomainError(
            f"Not a specialty of {category.display_name}: {', '.join(unknown)}.",
            field="specialties",
            code=ErrorCode.UNKNOWN_SPECIALTY,
        )
    return [found[slug] for slug in wanted]


def seeker_needs_check(*, specialties: Iterable[Specialty], needs_description: str) -> None:
    """Refuse a seeker who names no specialty and describes no need: nobody could be matched to them."""
    if not needs_description.strip() and not list(specialties):
        raise DomainError(
            "Tell us what you need: pick a specialty or describe it.",
            field="needs_description",
            code=CommonCode.REQUIRED,
        )


def _check_range(low: Decimal | None, high: Decimal | None, *, low_field: str, high_field: str) -> None:
    for value, field in ((low, low_field), (high, high_field)):
        if value is not None and value < 0:
            raise DomainError("Must be zero or more.", field=field, code=ErrorCode.NEGATIVE)
    if low is not None and high is not None and low > high:
        raise DomainError(
            "The minimum must not be more than the maximum.", field=high_field, code=ErrorCode.RANGE_REVERSED
        )


def text_length_check(instance: User | Seeker | Provider, *fields: str) -> None:
    """Refuse text longer than its column: NFC can lengthen text the form or serializer already measured."""
    for field in fields:
        max_length = type(instance)._meta.get_field(field).max_length
        if max_length and len(getattr(instance, field)) > max_length:
            raise DomainError(f"Keep this under {max_length} characters.", field=field, code=CommonCode.TOO_LONG)


def _apply_location(profile: Seeker | Provider) -> None:
    profile.city = clean_text(profile.city)
    profile.state = clean_text(profile.state).upper()
    profile.location = profile.format_location(profile.city, profile.state)
    place = geocode(profile.city, profile.state)  # None: the gazetteer does not know it (the engine falls back)
    profile.latitude, profile.longitude = place if place is not None else (None, None)
    if isinstance(profile, Seeker) and profile.radius_km is not None:
        radius_check(profile.radius_km)
    text_length_check(profile, "city", "state", *(("business_name",) if isinstance(profile, Provider) else ()))


def _save_new_profile(profile: Seeker | Provider, specialties: list[Specialty], role: str) -> None:
    """Insert the profile (refusing a second one of the role) and set its specialties."""
    duplicate = DuplicateProfile(
        f"You already have a {role} profile in {profile.category.display_name}.", field="category"
    )
    if type(profile).objects.filter(user=profile.user, category=profile.category).exists():
        raise duplicate
    try:
        with transaction.atomic():
            profile.save()
    except IntegrityError as error:  # two requests raced past the check above
        raise duplicate from error
    profile.specialties.set(specialties)
    _account_type_refresh(user=profile.user)
    referral_activate(user=profile.user)


def profile_creation_cause(*, role: str, user_id: int) -> str:
    """The cause of a person's profile-creation POT for a role ('seeker' or 'provider').

    One award per person and role, whichever way the profile came (sign-up or legacy import).
    """
    return f"profile_creation:{role}:user:{user_id}"


def profile_creation_award(*, role: str, user_id: int, profile_id: int | None) -> AwardRequest:
    """A person's profile-creation POT for a role, as `pot_award_many` takes it (the legacy import's batches)."""
    return AwardRequest(
        user_id=user_id,
        rule_key=f"profile_creation_{role}",
        cause=profile_creation_cause(role=role, user_id=user_id),
        reference_type=role,
        reference_id=profile_id,
    )


def _award_profile_creation(profile: Seeker | Provider, role: str) -> None:
    """POT for a new profile (once per person and role). Runs in the profile's transaction: both or neither.

    A referrer earns nothing here: referral awards wait for the referred person's first paid
    engagement (`marketplace.services.referrals`)."""
    user = profile.user
    pot_award(
        user=user,
        rule_key=f"profile_creation_{role}",
        cause=profile_creation_cause(role=role, user_id=user.pk),
        reference_type=role,
        reference_id=profile.pk,
    )


# Names and free text, stored through `clean_text` (the city too, in `_apply_location`).
FREE_TEXT_FIELDS = {"needs_description", "business_name", "bio", "certifications", "city"}


def _apply_changes(profile: Seeker | Provider, changes: dict[str, Any], allowed: set[str]) -> list[Specialty] | None:
    unknown = set(changes) - allowed - {"specialties"}
    if unknown:
        field = sorted(unknown)[0]
        raise DomainError(f"{field} cannot be changed once the profile exists.", field=field, code=ErrorCode.READ_ONLY)
    specialties = None
    if "specialties" in changes:
        specialties = _resolve_specialties(profile.category, changes["specialties"])
    for field, value in changes.items():
        if field != "specialties":
            setattr(profile, field, clean_text(value) if field in FREE_TEXT_FIELDS else value)
    return specialties


# --- Seekers --------------------------------------------------------------------------

SEEKER_EDITABLE = {"needs_description", "budget_min", "budget_max", "city", "state", "remote_ok", "radius_km"}


def radius_check(radius_km: object) -> None:
    """A seeker's "within N km": a whole number of km between MIN_RADIUS_KM and MAX_RADIUS_KM."""
    if isinstance(radius_km, bool) or not isinstance(radius_km, int) or not MIN_RADIUS_KM <= radius_km <= MAX_RADIUS_KM:
        raise DomainError(
            f"Enter a distance between {MIN_RADIUS_KM} and {MAX_RADIUS_KM} km, or leave it empty.",
            field="radius_km",
            code=CommonCode.INVALID,
        )


def geocode_profiles(*, only_missing: bool = True) -> dict[str, int]:
    """Coordinates for profiles that have a city and state: one update per distinct place, not per row."""
    located: dict[str, int] = {}
    for model in (Seeker, Provider):
        rows = model.objects.exclude(city="").exclude(state="")
        if only_missing:
            rows = rows.filter(latitude__isnull=True)
        count = 0
        for city, state in list(rows.values_list("city", "state").distinct()):
            place = geocode(city, state)
            if place is not None:
                count += rows.filter(city=city, state=state).update(
                    latitude=place[0], longitude=place[1], updated_at=timezone.now()
                )  # updated_at: matching indexes pick the change up
        located[model._meta.model_name] = count
    return located


@transaction.atomic
def seeker_create(
    *,
    user: User,
    category: Category,
    specialties: Iterable[str] = (),
    needs_description: str = "",
    budget_min: Decimal | None = None,
    budget_max: Decimal | None = None,
    city: str = "",
    state: str = "",
    remote_ok: bool = True,
    radius_km: int | None = None,
) -> Seeker:
    """Create the user's seeker profile in an active category."""
    needs_description = clean_text(needs_description)
    category_open_check(category=category)
    resolved = _resolve_specialties(category, specialties)
    seeker_needs_check(specialties=resolved, needs_description=needs_description)
    _check_range(budget_min, budget_max, low_field="budget_min", high_field="budget_max")
    seeker = Seeker(
        user=user,
        category=category,
        needs_description=needs_description,
        budget_min=budget_min,
        budget_max=budget_max,
        city=city,
        state=state,
        remote_ok=remote_ok,
        radius_km=radius_km,
    )
    _apply_location(seeker)
    _save_new_profile(seeker, resolved, "seeker")
    _award_profile_creation(seeker, "seeker")
    return seeker


@transaction.atomic
def seeker_update(*, seeker: Seeker, changes: dict[str, Any]) -> Seeker:
    """Change a seeker's needs, budget or location (the category is fixed)."""
    seeker = Seeker.objects.select_for_update().select_related("category", "user").get(pk=seeker.pk)
    specialties = _apply_changes(seeker, changes, SEEKER_EDITABLE)
    seeker_needs_check(
        specialties=specialties if specialties is not None else seeker.specialties.all(),
        needs_description=seeker.needs_description,
    )
    _check_range(seeker.budget_min, seeker.budget_max, low_field="budget_min", high_field="budget_max")
    _apply_location(seeker)
    seeker.save()
    lists_forget_around(seeker_ids=[seeker.pk])  # needs, budget and place show in the matches lists
    if specialties is not None:
        seeker.specialties.set(specialties)
    return seeker


# --- Providers ------------------------------------------------------------------------

PROVIDER_EDITABLE = {
    "business_name",
    "bio",
    "years_experience",
    "certifications",
    "license_number",
    "pricing_min",
    "pricing_max",
    "city",
    "state",
    "remote",
    "accepting_clients",
    "max_active_clients",
}


@transaction.atomic
def provider_create(
    *,
    user: User,
    category: Category,
    business_name: str,
    specialties: Iterable[str] = (),
    bio: str = "",
    years_experience: int | None = None,
    certifications: str = "",
    license_number: str = "",
    pricing_min: Decimal | None = None,
    pricing_max: Decimal | None = None,
    city: str = "",
    state: str = "",
    remote: bool = False,
    accepting_clients: bool = True,
    max_active_clients: int = 10,
) -> Provider:
    """Create the user's provider profile in an active category."""
    business_name, bio, certifications = clean_text(business_name), clean_text(bio), clean_text(certifications)
    category_open_check(category=category)
    if not business_name:
        raise DomainError("Enter a business name.", field="business_name", code=CommonCode.REQUIRED)
    resolved = _resolve_specialties(category, specialties)
    _check_range(pricing_min, pricing_max, low_field="pricing_min", high_field="pricing_max")
    provider = Provider(
        user=user,
        category=category,
        business_name=business_name,
        bio=bio,
        years_experience=years_experience,
        certifications=certifications,
        license_number=license_number.strip(),
        pricing_min=pricing_min,
        pricing_max=pricing_max,
        city=city,
        state=state,
        remote=remote,
        accepting_clients=accepting_clients,
        max_active_clients=max_active_clients,
    )
    _apply_location(provider)
    _save_new_profile(provider, resolved, "provider")
    _award_profile_creation(provider, "provider")
    selectors.directory_changed()
    return provider


@transaction.atomic
def provider_update(*, provider: Provider, changes: dict[str, Any]) -> Provider:
    """Change a provider's profile; a new license number needs verifying again."""
    provider = Provider.objects.select_for_update().select_related("category", "user").get(pk=provider.pk)
    old_license = provider.license_number
    specialties = _apply_changes(provider, changes, PROVIDER_EDITABLE)
    if not provider.business_name.strip():
        raise DomainError("Enter a business name.", field="business_name", code=CommonCode.REQUIRED)
    _check_range(provider.pricing_min, provider.pricing_max, low_field="pricing_min", high_field="pricing_max")
    if provider.license_number != old_license:
        provider.license_verified = False
        provider.license_verified_at = None
        provider.license_verified_by = None
    _apply_location(provider)
    provider.save()
    lists_forget_around(provider_ids=[provider.pk])  # business, place and licence show in the matches lists
    if specialties is not None:
        provider.specialties.set(specialties)
    selectors.directory_changed()  # location, prices and specialties are directory filters
    return provider


@transaction.atomic
def provider_verify_license(*, provider: Provider, operator: User) -> Provider:
    """An operator confirms the provider's license; they become listed and matchable."""
    if not operator.is_staff:
        raise PermissionDenied("Only operators verify licenses.")
    provider = Provider.objects.select_for_update(of=("self",)).select_related("user", "category").get(pk=provider.pk)
    if not provider.license_number:
        raise DomainError("The provider has not given a license number.", field="license_number")
    newly = not provider.license_verified
    provider.license_verified = True
    provider.license_verified_at = timezone.now()
    provider.license_verified_by = operator
    provider.save(update_fields=["license_verified", "license_verified_at", "license_verified_by", "updated_at"])
    lists_forget_around(provider_ids=[provider.pk])  # the licence shows in the matches lists
    selectors.directory_changed()
    if newly:
        emails.license_verified(provider)
    return provider


@transaction.atomic
def provider_unverify_license(*, provider: Provider, operator: User) -> Provider:
    """An operator withdraws the license verification: where the category requires a license,
    the provider is no longer listed nor matched until verified again."""
    if not operator.is_staff:
        raise PermissionDenied("Only operators verify licenses.")
    provider = Provider.objects.select_for_update().get(pk=provider.pk)
    provider.license_verified = False
    provider.license_verified_at = None
    provider.license_verified_by = None
    provider.save(update_fields=["license_verified", "license_verified_at", "license_verified_by", "updated_at"])
    lists_forget_around(provider_ids=[provider.pk])  # the licence shows in the matches lists
    selectors.directory_changed()  # unlisted where the category requires a license
    return provider


# --- Phase 1 advisors: the provisional verification ends at the license deadline --------


def providers_provisional_lapse(*, now: datetime | None = None) -> int:
    """End the provisional verification of Phase 1 advisors past their deadline; how many lost their listing.

    Those not verified by then stop being listed and matched (the listing rule reads
    `license_provisional`) and are emailed once why and how to come back; for verified ones
    it only ends quietly. Each provider in its own transaction; saving moves `updated_at`,
    so every worker's cached matching pool drops them at its next request.
    """
    now = now or timezone.now()
    due = Provider.objects.filter(license_provisional=True, provisional_until__lte=now).order_by("id")
    lapsed = 0
    for provider_id in list(due.values_list("id", flat=True)):
        lapsed += _provider_provisional_lapse(provider_id=provider_id, now=now)
    return lapsed


@transaction.atomic
def _provider_provisional_lapse(*, provider_id: int, now: datetime) -> bool:
    provider = Provider.objects.select_for_update(of=("self",)).select_related("user", "category").get(pk=provider_id)
    if not provider.license_provisional or provider.provisional_until > now:  # a concurrent run ended it
        return False
    provider.license_provisional = False
    provider.provisional_lapsed_at = None if provider.license_verified else now
    provider.save(update_fields=["license_provisional", "provisional_lapsed_at", "updated_at"])
    selectors.directory_changed()
    if provider.license_verified:
        return False
    emails.provisional_lapsed(provider)
    return True
