from django.apps import AppConfig


class OperationsConfig(AppConfig):
    """The operators' insight: the admin console, the weekly report, SQL views, experiment results."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "operations"
    verbose_name = "Operations"
