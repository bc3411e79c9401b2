"""POT experiments' arms and assignments: no index of their own on a foreign key that a longer index
begins with (see marketplace 0019).
Only the indexes go (no foreign key re-check on PostgreSQL, no table rebuild on SQLite); the
names are Django's, the same on both databases.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from imatch.db import indexes_dropped


# (table, column, Django's name of the index of its own)
COVERED = [
    ("pot_experiment_arms", "experiment_id", "pot_experiment_arms_experiment_id_21902d27"),
    ("pot_experiment_assignments", "experiment_id", "pot_experiment_assignments_experiment_id_27649b37"),
    ("pot_experiment_assignments", "user_id", "pot_experiment_assignments_user_id_bd95c3f6"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("currency", "0015_streak_bonus_rules"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="experimentarm",
                    name="experiment",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="arms",
                        to="currency.experiment",
                    ),
                ),
                migrations.AlterField(
                    model_name="experimentassignment",
                    name="experiment",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="assignments",
                        to="currency.experiment",
                    ),
                ),
                migrations.AlterField(
                    model_name="experimentassignment",
                    name="user",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="experiment_assignments",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            database_operations=indexes_dropped(COVERED),
        ),
    ]
