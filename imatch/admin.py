"""Admin bases shared by the apps."""

from django.contrib import admin
from django.http import HttpRequest


class ReadOnlyAdmin(admin.ModelAdmin):
    """An admin where nobody adds, changes or deletes rows, superusers included.

    The rows are written only by the services: operators read them here and act through
    the admin actions a subclass lists (each one calls a service). A subclass that lists
    none offers no bulk action at all, not even the site-wide ones.
    """

    actions = None

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
