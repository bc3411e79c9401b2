"""Engagements, providers, ratings, referrals, seekers: no index of their own on a foreign key that a
longer index begins with (see 0018: matches). Only the indexes go (no foreign key re-check on
PostgreSQL, no table rebuild on SQLite); the names are Django's, the same on both databases.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("categories", "0007_pro_commission_rate"),
        ("marketplace", "0018_match_sides_indexes_covered"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="engagement",
                    name="category",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="engagements",
                        to="categories.category",
                    ),
                ),
                migrations.AlterField(
                    model_name="engagement",
                    name="provider",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="engagements",
                        to="marketplace.provider",
                    ),
                ),
                migrations.AlterField(
                    model_name="provider",
                    name="category",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="providers",
                        to="categories.category",
                    ),
                ),
                migrations.AlterField(
                    model_name="provider",
                    name="user",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="providers",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AlterField(
                    model_name="rating",
                    name="engagement",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="ratings",
                        to="marketplace.engagement",
                    ),
                ),
                migrations.AlterField(
                    model_name="referral",
                    name="referrer",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="referrals_made",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AlterField(
                    model_name="seeker",
                    name="user",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="seekers",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    "DROP INDEX IF EXISTS engagements_category_id_cbbcae95",
                    reverse_sql="CREATE INDEX IF NOT EXISTS engagements_category_id_cbbcae95 ON engagements (category_id)",
                ),
                migrations.RunSQL(
                    "DROP INDEX IF EXISTS engagements_provider_id_97c1d785",
                    reverse_sql="CREATE INDEX IF NOT EXISTS engagements_provider_id_97c1d785 ON engagements (provider_id)",
                ),
                migrations.RunSQL(
                    "DROP INDEX IF EXISTS providers_category_id_f7189bf8",
                    reverse_sql="CREATE INDEX IF NOT EXISTS providers_category_id_f7189bf8 ON providers (category_id)",
                ),
                migrations.RunSQL(
                    "DROP INDEX IF EXISTS providers_user_id_e1e493a7",
                    reverse_sql="CREATE INDEX IF NOT EXISTS providers_user_id_e1e493a7 ON providers (user_id)",
                ),
                migrations.RunSQL(
                    "DROP INDEX IF EXISTS ratings_engagement_id_ea7913ba",
                    reverse_sql="CREATE INDEX IF NOT EXISTS ratings_engagement_id_ea7913ba ON ratings (engagement_id)",
                ),
                migrations.RunSQL(
                    "DROP INDEX IF EXISTS referrals_referrer_id_9511d264",
                    reverse_sql="CREATE INDEX IF NOT EXISTS referrals_referrer_id_9511d264 ON referrals (referrer_id)",
                ),
                migrations.RunSQL(
                    "DROP INDEX IF EXISTS seekers_user_id_fe347dfc",
                    reverse_sql="CREATE INDEX IF NOT EXISTS seekers_user_id_fe347dfc ON seekers (user_id)",
                ),
            ],
        ),
    ]
