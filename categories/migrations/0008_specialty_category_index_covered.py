"""Specialties: no index of their own on the category, which `specialty_unique_slug_per_category`
begins with (see marketplace 0019).
Only the indexes go (no foreign key re-check on PostgreSQL, no table rebuild on SQLite); the
names are Django's, the same on both databases.
"""

import django.db.models.deletion
from django.db import migrations, models

from imatch.db import indexes_dropped


# (table, column, Django's name of the index of its own)
COVERED = [
    ("specialties", "category_id", "specialties_category_id_a84a12c3"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("categories", "0007_pro_commission_rate"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="specialty",
                    name="category",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="specialties",
                        to="categories.category",
                    ),
                ),
            ],
            database_operations=indexes_dropped(COVERED),
        ),
    ]
