"""Email verification (`users.email_verified_at`), and the first paid engagement recorded on the
wallets of both sides of every engagement whose commission was already paid (promotional POT
becomes redeemable with it)."""

from django.db import migrations, models


def record_paid_engagements(apps, schema_editor):
    Engagement = apps.get_model("marketplace", "Engagement")
    Wallet = apps.get_model("currency", "Wallet")
    first_paid: dict[int, object] = {}
    rows = Engagement.objects.filter(billing_status="paid").values_list(
        "seeker__user_id", "provider__user_id", "paid_at", "updated_at"
    )
    for seeker_user_id, provider_user_id, paid_at, updated_at in rows.iterator():
        at = paid_at or updated_at
        for user_id in (seeker_user_id, provider_user_id):
            if user_id not in first_paid or at < first_paid[user_id]:
                first_paid[user_id] = at
    if not first_paid:
        return
    Wallet.objects.bulk_create([Wallet(user_id=user_id) for user_id in first_paid], ignore_conflicts=True)
    for user_id, at in first_paid.items():
        Wallet.objects.filter(user_id=user_id, paid_engagement_at__isnull=True).update(paid_engagement_at=at)


class Migration(migrations.Migration):

    dependencies = [
        ('marketplace', '0005_cache_table'),
        ('currency', '0005_promotional_pot_and_debt'),
    ]

    operations = [
        migrations.AddField(
            model_name='user',
            name='email_verified_at',
            field=models.DateTimeField(blank=True, help_text='When the person opened the verification link we emailed them.', null=True),
        ),
        migrations.RunPython(record_paid_engagements, migrations.RunPython.noop),
    ]
