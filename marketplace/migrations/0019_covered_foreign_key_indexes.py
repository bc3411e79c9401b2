"""Engagements, providers, ratings, referrals, seekers: no index of their own on a foreign key that a
longer index begins with (see 0018: matches). Only the indexes go (no foreign key re-check on
PostgreSQL, no table rebuild on SQLite); the names are Django's, the same on both databases.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from imatch.db import indexes_dropped


# (table, column, Django's name of the index of its own)
COVERED = [
    ("engagements", "category_id", "engagements_category_id_cbbcae95"),
    ("engagements", "provider_id", "engagements_provider_id_97c1d785"),
    ("providers", "category_id", "providers_category_id_f7189bf8"),
    ("providers", "user_id", "providers_user_id_e1e493a7"),
    ("ratings", "engagement_id", "ratings_engagement_id_ea7913ba"),
    ("referrals", "referrer_id", "referrals_referrer_id_9511d264"),
    ("seekers", "user_id", "seekers_user_id_fe347dfc"),
]


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
            database_operations=indexes_dropped(COVERED),
        ),
    ]
