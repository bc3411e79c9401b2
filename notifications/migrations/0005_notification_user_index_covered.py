"""Notifications: no index of their own on `user_id`: `notification_user_newest` starts with it.

Only the index goes: Django's AlterField would drop and re-add the foreign key on PostgreSQL (a
full check of the table under lock) and rebuild the table on SQLite. `IF EXISTS` and the same
index name on both databases (Django names it from the table and column).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from imatch.db import indexes_dropped


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0004_article_review"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="notification",
                    name="user",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="notifications",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            database_operations=indexes_dropped([("notifications", "user_id", "notifications_user_id_468e288d")]),
        ),
    ]
