"""What happens when a password changes: the API devices are logged out, the lockout lifted."""

from marketplace.models import User


class PasswordChangedHook:
    """A password "validator" that validates nothing: Django calls its `password_changed` hook.

    Django calls `password_changed` from `User.save()` after every `set_password()`: the
    reset page, the admin's password form, `manage.py changepassword`, any service. Hooking
    there means no way of changing a password can forget to:
    - revoke every API token of the person (a stolen token dies with the old password);
    - lift a login lockout on their email (whoever set a new password owns the account).
    """

    def validate(self, password: str, user: User | None = None) -> None:
        return None

    def password_changed(self, password: str, user: User | None = None) -> None:
        if user is None or user.pk is None:
            return
        # Imported here: validators are built while settings load, before the apps are ready.
        from axes.utils import reset as axes_reset

        from marketplace.services.tokens import api_tokens_revoke_all

        api_tokens_revoke_all(user=user)
        axes_reset(username=user.email.strip().lower())

    def get_help_text(self) -> str:
        return "A new password logs out every app and device using your API tokens and lifts a log-in lockout."
