"""One `referrals` row for every person who signed up with a referral code before the table existed.

Activated at their first profile, engaged at their first engagement confirmed (and not since
cancelled), and linked to the referral awards already in the ledger (found by their cause).
"""

from django.db import migrations
from django.db.models import Min, Q

ENGAGED_STATUSES = ("confirmed", "cancel_requested", "disputed", "completed")
AWARD_KEYS = {
    "activation_award_id": "award:referral_profile_created:user:{}",
    "engagement_award_id": "award:referral_first_engagement:user:{}",
}


def _first_by_user(rows) -> dict[int, object]:
    return {user_id: first for user_id, first in rows if first is not None}


def referrals_create(apps, schema_editor):
    User = apps.get_model("marketplace", "User")
    Seeker = apps.get_model("marketplace", "Seeker")
    Provider = apps.get_model("marketplace", "Provider")
    Engagement = apps.get_model("marketplace", "Engagement")
    Referral = apps.get_model("marketplace", "Referral")
    PotTransaction = apps.get_model("currency", "PotTransaction")

    people = list(
        User.objects.filter(referred_by__isnull=False)
        .values("id", "referred_by_id", "referred_by__referral_code", "date_joined")
        .order_by("id")
    )
    if not people:
        return
    first_profile: dict[int, object] = {}
    for model in (Seeker, Provider):
        for user_id, first in model.objects.values("user_id").annotate(first=Min("created_at")).values_list(
            "user_id", "first"
        ):
            if user_id not in first_profile or first < first_profile[user_id]:
                first_profile[user_id] = first
    confirmed = Engagement.objects.filter(status__in=ENGAGED_STATUSES, confirmed_at__isnull=False)
    first_engagement: dict[int, object] = {}
    for side in ("seeker__user_id", "provider__user_id"):
        rows = confirmed.values(side).annotate(first=Min("confirmed_at")).values_list(side, "first")
        for user_id, first in _first_by_user(rows).items():
            if user_id not in first_engagement or first < first_engagement[user_id]:
                first_engagement[user_id] = first
    keys = {template.format(person["id"]) for person in people for template in AWARD_KEYS.values()}
    awards = dict(
        PotTransaction.objects.filter(Q(idempotency_key__in=keys), transaction_type="earn").values_list(
            "idempotency_key", "id"
        )
    )
    rows = []
    for person in people:
        user_id = person["id"]
        engaged_at = first_engagement.get(user_id)
        activated_at = first_profile.get(user_id) or engaged_at
        status = "engaged" if engaged_at else "activated" if activated_at else "signed_up"
        links = {field: awards.get(template.format(user_id)) for field, template in AWARD_KEYS.items()}
        rows.append(
            Referral(
                referrer_id=person["referred_by_id"],
                referred_id=user_id,
                code=person["referred_by__referral_code"],
                status=status,
                signed_up_at=person["date_joined"],
                activated_at=activated_at,
                engaged_at=engaged_at,
                **links,
            )
        )
    Referral.objects.bulk_create(rows, batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [
        ("marketplace", "0012_referrals"),
    ]

    operations = [
        migrations.RunPython(referrals_create, migrations.RunPython.noop),
    ]
