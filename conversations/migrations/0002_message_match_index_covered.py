"""Messages: no index of their own on `match_id`: `message_thread_time` starts with it.

Only the index goes: Django's AlterField would drop and re-add the foreign key on PostgreSQL (a
full check of the table under lock) and rebuild the table on SQLite. `IF EXISTS` and the same
index name on both databases (Django names it from the table and column).
"""

import django.db.models.deletion
from django.db import migrations, models

from imatch.db import indexes_dropped


class Migration(migrations.Migration):
    dependencies = [
        ("conversations", "0001_messages"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="message",
                    name="match",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="messages",
                        to="marketplace.match",
                    ),
                ),
            ],
            database_operations=indexes_dropped([("messages", "match_id", "messages_match_id_c625d959")]),
        ),
    ]
