"""API token authentication that applies the two-factor rule when the token is used."""

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from .two_factor import token_meets_two_factor


class TwoFactorRequired(exceptions.PermissionDenied):
    default_detail = _(
        "Your role requires two-factor login: this token was issued without a second "
        "factor. Get a new token with your code."
    )
    default_code = "two_factor_required"


class TwoFactorTokenAuthentication(TokenAuthentication):
    """``Authorization: Token <key>``, refused for a user whose role now needs a second
    factor when the token was issued without one (for example before a promotion)."""

    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        if not token_meets_two_factor(token):
            raise TwoFactorRequired()
        return user, token
