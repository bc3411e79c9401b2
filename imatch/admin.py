"""Admin bases shared by the apps."""

from django import forms
from django.contrib import admin
from django.db import models
from django.http import HttpRequest

from imatch.errors import DomainError
from imatch.web import add_domain_error


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


class ServiceForm(forms.ModelForm):
    """An admin form that writes through a service and shows the service's refusals next to their field.

    Django's admin shows errors only from a form's validation, and runs the whole change
    view in one transaction. So once the fields are valid, the service runs in place of
    the model's own validation (`_post_clean`: the service holds the rules, and the
    model's checks would run on a half-built row): a refusal writes nothing and is shown
    next to its field; success leaves the saved object for `save()`, which the admin
    calls next. Subclasses write `save_through_service()`; their admin is a
    `ServiceFormAdmin`, which saves nothing itself.
    """

    def save_through_service(self) -> models.Model:
        raise NotImplementedError

    def _post_clean(self) -> None:
        if self._errors:
            return
        try:
            self.saved = self.save_through_service()
        except DomainError as error:
            add_domain_error(self, error)

    def save(self, commit: bool = True) -> models.Model:
        return self.saved

    def save_m2m(self) -> None:
        """Many-to-many fields (specialties) are the service's too."""


class ServiceFormAdmin(admin.ModelAdmin):
    """An admin whose add and change pages save through a `ServiceForm` (the service already saved)."""

    def save_model(self, request: HttpRequest, obj: models.Model, form: ServiceForm, change: bool) -> None:
        pass


def counted(count: int, singular: str, plural: str | None = None) -> str:
    """ "1 provider", "2 providers", "2 categories": for admin messages ("Verified 1 provider.")."""
    return f"{count} {singular if count == 1 else plural or singular + 's'}"
