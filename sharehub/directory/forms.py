from __future__ import annotations

from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from sharehub.directory.backends import UNAVAILABLE_ATTR


class SignInForm(AuthenticationForm):
    """Django's sign-in form, which says so when the directory could not be asked rather than calling the
    password wrong."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "directory_unavailable": _(
            "The directory could not be reached, so your password could not be checked. Try again in a few "
            "minutes; if it goes on, tell your IT department."
        ),
    }

    def get_invalid_login_error(self):
        if getattr(self.request, UNAVAILABLE_ATTR, False):
            return ValidationError(self.error_messages["directory_unavailable"], code="directory_unavailable")
        return super().get_invalid_login_error()
