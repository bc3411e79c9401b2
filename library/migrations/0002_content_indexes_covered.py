"""Articles, their views and unlocks: no index of their own on a foreign key that a longer index
begins with (see marketplace 0019).
Only the indexes go (no foreign key re-check on PostgreSQL, no table rebuild on SQLite); the
names are Django's, the same on both databases.
"""

import django.db.models.deletion
from django.db import migrations, models

from imatch.db import indexes_dropped


# (table, column, Django's name of the index of its own)
COVERED = [
    ("content", "author_id", "content_author_id_94ea0b31"),
    ("content", "category_id", "content_category_id_e73e4fc3"),
    ("content_unlocks", "article_id", "content_unlocks_article_id_a90434ef"),
    ("content_views", "article_id", "content_views_article_id_42e408c4"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("categories", "0008_specialty_category_index_covered"),
        ("library", "0001_content_library"),
        ("marketplace", "0019_covered_foreign_key_indexes"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="article",
                    name="author",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="articles",
                        to="marketplace.provider",
                    ),
                ),
                migrations.AlterField(
                    model_name="article",
                    name="category",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="articles",
                        to="categories.category",
                    ),
                ),
                migrations.AlterField(
                    model_name="articleunlock",
                    name="article",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="unlocks",
                        to="library.article",
                    ),
                ),
                migrations.AlterField(
                    model_name="articleview",
                    name="article",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="library.article",
                    ),
                ),
            ],
            database_operations=indexes_dropped(COVERED),
        ),
    ]
