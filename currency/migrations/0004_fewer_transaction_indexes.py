"""Fewer indexes on pot_transactions (each one costs every insert); uniqueness of the key as a named
constraint. SQLite rebuilds the table for these changes, which drops its triggers: put them back."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def reinstall_triggers(apps, schema_editor):
    from currency import triggers

    triggers.install(schema_editor.connection)


class Migration(migrations.Migration):

    dependencies = [
        ('currency', '0003_seed_rules_and_options'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # Going back, the table is rebuilt again: the triggers return when this (first) step is undone.
        migrations.RunPython(migrations.RunPython.noop, reinstall_triggers),
        migrations.AddConstraint(
            model_name='pottransaction',
            constraint=models.UniqueConstraint(fields=('idempotency_key',), name='pot_tx_one_row_per_cause'),
        ),
        migrations.AlterField(
            model_name='pottransaction',
            name='actor',
            field=models.ForeignKey(blank=True, db_index=False, help_text='Who did it: the user (spend, redeem), an operator (adjust, approvals); empty for the platform.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='pottransaction',
            name='category',
            field=models.SlugField(db_index=False, help_text='The reason, e.g. profile_creation, profile_boost.', max_length=64),
        ),
        migrations.AlterField(
            model_name='pottransaction',
            name='idempotency_key',
            field=models.CharField(help_text='The cause; unique: one row per cause.', max_length=200),
        ),
        migrations.AlterField(
            model_name='pottransaction',
            name='user',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='pot_transactions', to=settings.AUTH_USER_MODEL),
        ),
        migrations.RunPython(reinstall_triggers, migrations.RunPython.noop),
    ]
