"""pot_transactions is append-only: UPDATE and DELETE fail in the database (see currency.triggers)."""

from django.db import migrations


def install(apps, schema_editor):
    from currency import triggers

    triggers.install(schema_editor.connection)


def uninstall(apps, schema_editor):
    from currency import triggers

    triggers.uninstall(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("currency", "0001_ledger")]

    operations = [migrations.RunPython(install, uninstall)]
