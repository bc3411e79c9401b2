"""The outbox of background tasks (notifications.outbox): a row per task due to be sent to the broker."""

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('notifications', '0005_notification_user_index_covered'),
    ]

    operations = [
        migrations.CreateModel(
            name='OutboxTask',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('task', models.CharField(help_text="The Celery task's name (marketplace.introduction_emails).", max_length=200)),
                ('kwargs', models.JSONField(default=dict, help_text="The task's keyword arguments.")),
                ('queued_at', models.DateTimeField(default=django.utils.timezone.now)),
            ],
            options={
                'verbose_name': 'task in the outbox',
                'verbose_name_plural': 'tasks in the outbox',
                'db_table': 'task_outbox',
                'ordering': ['id'],
            },
        ),
    ]
