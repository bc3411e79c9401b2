"""Questions, answers, votes: no index of their own on a foreign key that a longer index begins with (see marketplace 0019).
Only the indexes go (no foreign key re-check on PostgreSQL, no table rebuild on SQLite); the
names are Django's, the same on both databases.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from imatch.db import indexes_dropped


# (table, column, Django's name of the index of its own)
COVERED = [
    ("community_answers", "provider_id", "community_answers_provider_id_9d40815f"),
    ("community_answers", "question_id", "community_answers_question_id_dfe71368"),
    ("community_questions", "asker_id", "community_questions_asker_id_91f61dca"),
    ("community_questions", "category_id", "community_questions_category_id_a369573e"),
    ("community_votes", "answer_id", "community_votes_answer_id_46aeb0a7"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("categories", "0008_specialty_category_index_covered"),
        ("community", "0001_community_answers"),
        ("marketplace", "0019_covered_foreign_key_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="answer",
                    name="provider",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="answers",
                        to="marketplace.provider",
                    ),
                ),
                migrations.AlterField(
                    model_name="answer",
                    name="question",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="answers",
                        to="community.question",
                    ),
                ),
                migrations.AlterField(
                    model_name="question",
                    name="asker",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="questions",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AlterField(
                    model_name="question",
                    name="category",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="questions",
                        to="categories.category",
                    ),
                ),
                migrations.AlterField(
                    model_name="vote",
                    name="answer",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="votes",
                        to="community.answer",
                    ),
                ),
            ],
            database_operations=indexes_dropped(COVERED),
        ),
    ]
