"""Create the database cache's table (throttles and lockouts when REDIS_URL is not set).

`manage.py createcachetable` does the same and is idempotent; running it from a migration means
`manage.py migrate` alone leaves a working site, whatever the cache settings of the day.
"""

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [
        ("marketplace", "0004_account_status_changes"),
    ]

    operations = [
        migrations.RunPython(create_cache_table, migrations.RunPython.noop),
    ]
