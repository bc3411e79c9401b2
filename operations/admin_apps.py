"""Django's admin app, with the I MATCH operations console as its site (INSTALLED_APPS names it).

A module of its own: Django refuses an `apps.py` that declares two default app configs.
"""

from django.contrib.admin.apps import AdminConfig


class OperationsAdminConfig(AdminConfig):
    """The admin, whose site is `OperationsAdminSite` (work queue and KPIs on the index)."""

    default_site = "operations.sites.OperationsAdminSite"
