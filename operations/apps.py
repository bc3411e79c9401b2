from django.apps import AppConfig
from django.db.models.signals import post_migrate, pre_migrate


class OperationsConfig(AppConfig):
    """The operators' insight: the admin console, the weekly report, SQL views, experiment results."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "operations"
    verbose_name = "Operations"

    def ready(self) -> None:
        from operations import sql_views

        pre_migrate.connect(sql_views.before_migrate, sender=self, dispatch_uid="operations-drop-views")
        post_migrate.connect(sql_views.after_migrate, sender=self, dispatch_uid="operations-create-views")
