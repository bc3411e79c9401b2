"""Referrals: who referred whom (one `Referral` row per referred person), how far they got, and
what the referrer earns for them, only for real business.

A referral is recorded when the account is created with a referrer's code (`referral_record`);
the person is *activated* at their first profile (`referral_activate`) and *engaged* at their
first confirmed engagement (`referrals_engage`). A code is never added to an existing account
(`referral_code_use` says why).

Both awards (`referral_profile_created`, `referral_first_engagement`; promotional POT) are
paid when the commission of the referred person's first paid engagement is paid, within
what is left of that engagement's POT budget (`marketplace.services.budget`), and reference
it: a referral is worth POT only once the referred person brought in a commission, so a farm
of throwaway accounts earns nothing. Each award is paid once per referred person (its cause);
one cut to 0 is not written, so the person's next paid engagement may pay it.

Nothing is paid for a referral
- while the referred person's email is unverified (`email_verify` releases it later);
- from the referrer's own address in disguise: both emails are the same once `+tags` and, at
  gmail.com/googlemail.com, dots are dropped (`email_canonical`);
- beyond `settings.REFERRAL_MONTHLY_LIMIT` referred people awarded to one referrer in a
  calendar month: such a referral is recorded as over the limit
  (`users.referral_over_limit_at`) and never pays.
"""

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from currency.models import PotTransaction, TransactionType
from currency.services import pot_award
from imatch.errors import DomainError
from imatch.person_cache import Scope, person_forget
from imatch.weeks import calendar_month_start
from marketplace.errors import ErrorCode
from marketplace.models import BonusStatus, Engagement, EngagementStatus, Referral, ReferralStatus, User
from marketplace.selectors import referrer_for_code
from marketplace.services.budget import engagement_pot_budget_left

REFERRAL_RULES = ("referral_profile_created", "referral_first_engagement")
# The `Referral` field that links each rule's award (the referrer's ledger row).
REFERRAL_AWARD_FIELDS = {
    "referral_profile_created": "activation_award",
    "referral_first_engagement": "engagement_award",
}
GMAIL_DOMAINS = ("gmail.com", "googlemail.com")


def referral_record(*, referred: User, referrer: User) -> Referral:
    """Record that `referrer` referred the person whose account was just created (in its transaction)."""
    person_forget([referrer.pk], Scope.GROWTH)  # their referral figures
    return Referral.objects.create(
        referrer=referrer, referred=referred, code=referrer.referral_code, signed_up_at=referred.date_joined
    )


def referral_code_use(*, user: User, code: str) -> None:
    """Refuse a referral code for an existing account, saying why: a referrer is recorded only at sign-up."""
    code = (code or "").strip().upper()
    if code and code == user.referral_code:
        raise DomainError(
            "This is your own referral link: share it with friends, they sign up with it.",
            code=ErrorCode.OWN_REFERRAL_CODE,
        )
    if referrer_for_code(code=code) is None:
        raise DomainError("This referral code is not one we know.", code=ErrorCode.INVALID_REFERRAL)
    if user.referred_by_id is not None:
        raise DomainError(
            "You joined with a friend's referral code already; a person has one referrer.",
            code=ErrorCode.ALREADY_REFERRED,
        )
    raise DomainError(
        "Referral codes count only when an account is created; yours already exists, so this one is not used.",
        code=ErrorCode.REFERRAL_AFTER_SIGNUP,
    )


def referral_activate(*, user: User) -> None:
    """The referred person created their first profile: their referral is activated (once)."""
    if Referral.objects.filter(referred=user, status=ReferralStatus.SIGNED_UP).update(
        status=ReferralStatus.ACTIVATED, activated_at=timezone.now()
    ):
        person_forget([user.referred_by_id], Scope.GROWTH)  # the referrer's referral figures


def referrals_engage(*, engagement: Engagement) -> None:
    """The engagement was confirmed: the referrals of either side not engaged yet are engaged now (once)."""
    people = [engagement.seeker.user_id, engagement.provider.user_id]
    now = timezone.now()
    engaging = Referral.objects.filter(referred_id__in=people, status=ReferralStatus.ACTIVATED)
    person_forget(engaging.values_list("referrer_id", flat=True), Scope.GROWTH)  # their referral figures
    engaging.update(status=ReferralStatus.ENGAGED, engaged_at=now)


def referral_cause(rule_key: str, referred_user_id: int) -> str:
    """The cause of a referral award: one per rule and referred person."""
    return f"{rule_key}:user:{referred_user_id}"


def referral_profile_created_cause(referred_user_id: int) -> str:
    return referral_cause("referral_profile_created", referred_user_id)


def referral_first_engagement_cause(referred_user_id: int) -> str:
    return referral_cause("referral_first_engagement", referred_user_id)


def email_canonical(email: str) -> str:
    """The mailbox an address reaches: lower case, no `+tag`, and no dots at Gmail (one domain for both)."""
    local, _, domain = (email or "").strip().lower().rpartition("@")
    local = local.split("+", 1)[0]
    if domain in GMAIL_DOMAINS:
        local, domain = local.replace(".", ""), GMAIL_DOMAINS[0]
    return f"{local}@{domain}"


def _referral_award_keys(referred_user_id: int) -> list[str]:
    return [f"award:{referral_cause(rule, referred_user_id)}" for rule in REFERRAL_RULES]


def referrals_awarded_this_month(*, referrer: User) -> set[int]:
    """The referred people whose referral awards the referrer earned this calendar month."""
    keys = PotTransaction.objects.filter(
        Q(idempotency_key__startswith="award:referral_profile_created:user:")
        | Q(idempotency_key__startswith="award:referral_first_engagement:user:"),
        user=referrer,
        transaction_type=TransactionType.EARN,
        created_at__gte=calendar_month_start(),
    ).values_list("idempotency_key", flat=True)
    return {int(key.rsplit(":", 1)[1]) for key in keys}


def _referral_within_limit(*, person: User, referrer: User) -> bool:
    """Whether the referral may pay; the first award beyond the referrer's monthly limit records it as over."""
    if person.referral_over_limit_at is not None:
        return False
    if PotTransaction.objects.filter(idempotency_key__in=_referral_award_keys(person.pk)).exists():
        return True  # already counted, in the month of its first award
    awarded = referrals_awarded_this_month(referrer=referrer)
    if len(awarded) < settings.REFERRAL_MONTHLY_LIMIT:
        return True
    person.referral_over_limit_at = timezone.now()
    User.objects.filter(pk=person.pk).update(referral_over_limit_at=person.referral_over_limit_at)
    person_forget([person.pk], Scope.ACCOUNT)  # an update sends no signal (marketplace.signals)
    return False


def referral_awards_pay(*, person: User, engagement: Engagement) -> int:
    """Pay whoever referred `person` for this paid engagement of theirs, within its budget left; the POT paid.

    Runs under the engagement's lock (`engagement_mark_paid`, `email_verify`). The profile
    award comes first, then the first-engagement award.
    """
    if person.referred_by_id is None or person.email_verified_at is None:
        return 0  # an unverified person's referral awards wait: `email_verify` releases them
    referrer = User.objects.select_for_update().get(pk=person.referred_by_id)  # serializes the monthly count
    if email_canonical(referrer.email) == email_canonical(person.email):
        return 0
    if not _referral_within_limit(person=person, referrer=referrer):
        return 0
    paid = 0
    for rule_key in REFERRAL_RULES:
        row = pot_award(
            user=referrer,
            rule_key=rule_key,
            cause=referral_cause(rule_key, person.pk),
            reference_type="engagement",
            reference_id=engagement.pk,
            max_amount=engagement_pot_budget_left(engagement=engagement),
        )
        if row is not None:
            Referral.objects.filter(referred=person).update(**{REFERRAL_AWARD_FIELDS[rule_key]: row})
            person_forget([referrer.pk], Scope.GROWTH)
            paid += row.amount
    return paid


def referral_awards_release(*, person: User) -> None:
    """Pay the referral awards that waited for `person` to verify their email.

    Due from the person's paid engagements (bonuses paid, not cancelled), oldest first, each
    within what is left of its budget: the moment `referral_awards_pay` would have paid them.
    """
    if person.referred_by_id is None:
        return
    paid_engagements = (
        Engagement.objects.select_for_update(of=("self",))
        .filter(Q(seeker__user=person) | Q(provider__user=person), bonus_status=BonusStatus.PAID)
        .exclude(status=EngagementStatus.CANCELLED)
        .order_by("id")
    )
    for engagement in paid_engagements:
        referral_awards_pay(person=person, engagement=engagement)
        if PotTransaction.objects.filter(idempotency_key__in=_referral_award_keys(person.pk)).count() == len(
            REFERRAL_RULES
        ):
            return
