"""Two-factor login with TOTP (django-otp) and one-time recovery codes.

Required for staff and for anyone who coordinates a group (and so for the admin
site, which only staff reach); optional for members and observers unless
TWO_FACTOR_REQUIRED_FOR_ALL is set. API tokens are for machine-to-machine
clients and are issued only after the same checks (see groups/api.py).

The rule holds for every credential at the moment it is used, not only when it was
made: a session that skipped the second factor, or a token issued without one, stops
working for a user who has since been promoted to a role that requires it.
"""

from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.db import transaction
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token

from core.audit import Action, audit_record

from .access import manages_any_group
from .models import TokenIssue

RECOVERY_CODES = 10
PENDING = "_cencomm_2fa_pending"


def two_factor_required(user) -> bool:
    if not user.is_authenticated:
        return False
    if settings.TWO_FACTOR_REQUIRED_FOR_ALL or user.is_staff or user.is_superuser:
        return True
    return manages_any_group(user=user)


def credential_meets_two_factor(*, user, second_factor: bool) -> bool:
    """Whether a credential (a session, a token) may act for ``user`` now."""
    return second_factor or not two_factor_required(user)


def token_has_second_factor(token: Token) -> bool:
    return TokenIssue.objects.filter(token=token, second_factor=True).exists()


def token_meets_two_factor(token: Token) -> bool:
    return credential_meets_two_factor(
        user=token.user, second_factor=token_has_second_factor(token)
    )


@transaction.atomic
def token_issue(*, user, second_factor: bool) -> Token:
    """The user's API token, recording how it was issued.

    A token issued without a second factor is replaced, never upgraded, when the
    user proves one: whoever holds the old key keeps none of the new rights.
    """
    token = Token.objects.select_for_update().filter(user=user).first()
    if token is not None and (not second_factor or token_has_second_factor(token)):
        return token
    if token is not None:
        token.delete()
    token = Token.objects.create(user=user)
    TokenIssue.objects.create(token=token, second_factor=second_factor)
    return token


def totp_device(user, *, confirmed: bool | None = True) -> TOTPDevice | None:
    devices = TOTPDevice.objects.filter(user=user)
    if confirmed is not None:
        devices = devices.filter(confirmed=confirmed)
    return devices.order_by("-id").first()


def two_factor_enabled(user) -> bool:
    return totp_device(user) is not None


def session_is_verified(session) -> bool:
    return bool(session.get(DEVICE_ID_SESSION_KEY))


@transaction.atomic
def enrolment_start(*, user) -> TOTPDevice:
    """An unconfirmed device whose secret the user scans; confirmed by the first good code."""
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)


@transaction.atomic
def enrolment_confirm(*, user, token: str) -> list[str] | None:
    """Confirm the pending device with a code; returns fresh recovery codes, or None."""
    device = totp_device(user, confirmed=False)
    if device is None or not device.verify_token(_clean(token)):
        return None
    TOTPDevice.objects.filter(user=user, confirmed=True).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    audit_record(
        actor=user, action=Action.TWO_FACTOR, target=user.username, data={"change": "enabled"}
    )
    return recovery_codes_renew(user=user)


@transaction.atomic
def recovery_codes_renew(*, user) -> list[str]:
    device, _created = StaticDevice.objects.get_or_create(user=user, name="Recovery codes")
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


@transaction.atomic
def two_factor_disable(*, user) -> bool:
    if two_factor_required(user):
        return False
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    audit_record(
        actor=user, action=Action.TWO_FACTOR, target=user.username, data={"change": "disabled"}
    )
    return True


def _clean(token: str) -> str:
    return "".join(str(token or "").split())[:16]


def verify_second_factor(*, user, token: str, request=None):
    """The device that accepts ``token`` (an app code or a recovery code), or None.

    A wrong code counts as a failed login, so the brute-force lockout covers this
    step too.
    """
    token = _clean(token)
    device = totp_device(user)
    if device is not None and token.isascii() and token.isdigit() and device.verify_token(token):
        return device
    recovery = StaticDevice.objects.filter(user=user, confirmed=True).first()
    if recovery is not None and recovery.verify_token(token):
        return recovery
    user_login_failed.send(
        sender=__name__, credentials={"username": user.get_username()}, request=request
    )
    return None


def demo_device_ensure(*, user) -> TOTPDevice:
    """For the demo world only: a confirmed authenticator so that `demo_totp` can show codes."""
    device = totp_device(user)
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Demo authenticator", confirmed=True)
    return device


def current_code(device: TOTPDevice) -> str:
    from django_otp.oath import totp

    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):0{device.digits}d}"
