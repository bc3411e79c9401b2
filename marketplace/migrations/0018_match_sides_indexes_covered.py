"""Matches: no index of their own on `seeker_id` and `provider_id`: `match_once_per_seeker_provider` and
`match_provider_status_created` start with them. A status change moves every index of the row.

Only the index goes: Django's AlterField would drop and re-add the foreign key on PostgreSQL (a
full check of the table under lock) and rebuild the table on SQLite. `IF EXISTS` and the same
index name on both databases (Django names it from the table and column).
"""

import django.db.models.deletion
from django.db import migrations, models

from imatch.db import indexes_dropped


# (table, column, Django's name of the index of its own)
COVERED = [
    ("matches", "provider_id", "matches_provider_id_c468c97e"),
    ("matches", "seeker_id", "matches_seeker_id_111f2a7f"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("marketplace", "0017_user_leaderboard_opt_in"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="match",
                    name="provider",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="matches",
                        to="marketplace.provider",
                    ),
                ),
                migrations.AlterField(
                    model_name="match",
                    name="seeker",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="matches",
                        to="marketplace.seeker",
                    ),
                ),
            ],
            database_operations=indexes_dropped(COVERED),
        ),
    ]
