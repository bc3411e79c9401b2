"""Matches: the index on `declined_by` covers only declined matches (`match_declined_by`, partial).

Every other match has it empty; a full index took an entry for each of them at every status change
(a change of an indexed column writes every index of the row). Only the index changes (no foreign
key re-check on PostgreSQL, no table rebuild on SQLite); the old name is Django's, the same on
both databases.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from imatch.db import indexes_dropped


class Migration(migrations.Migration):
    dependencies = [
        ("categories", "0008_specialty_category_index_covered"),
        ("marketplace", "0019_covered_foreign_key_indexes"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="match",
                    name="declined_by",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            database_operations=indexes_dropped([("matches", "declined_by_id", "matches_declined_by_id_6335fba2")]),
        ),
        migrations.AddIndex(
            model_name="match",
            index=models.Index(
                condition=models.Q(("declined_by__isnull", False)), fields=["declined_by"], name="match_declined_by"
            ),
        ),
    ]
