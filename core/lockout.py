"""The brute-force lockout: who is locked, and what a locked-out login gets.

Locking a username outright would let anyone lock any coordinator out by typing five
wrong passwords. Instead three rules, each counted over the last AXES_COOLOFF_TIME:

- a username from one address: AXES_FAILURE_LIMIT failures (the usual lockout; it
  stops one attacker guessing one account and touches nobody else's devices);
- an address, whatever the usernames: LOCKOUT_ADDRESS_FAILURE_LIMIT failures (one
  address trying many accounts locks only itself);
- a username from the addresses it has never logged in from: LOCKOUT_ACCOUNT_FAILURE_LIMIT
  failures from anywhere (guessing spread over many addresses is slowed, while the
  addresses the user has logged in from before keep working).

docs/security.md gives the reasons.
"""

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_failure_limit
from axes.models import AccessAttempt, AccessLog
from django.conf import settings
from django.db.models import Sum
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from .errors import json_error

PAIR = "pair"
ADDRESS = "address"
ACCOUNT = "account"


def _failures(attempts) -> int:
    return attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0


def lockout_reason(request, credentials: dict | None = None) -> str | None:
    """Which rule locks this login attempt (PAIR, ADDRESS or ACCOUNT), or None."""
    username = get_client_username(request, credentials)
    address = request.axes_ip_address
    recent = AccessAttempt.objects.filter(attempt_time__gte=get_cool_off_threshold(request))
    if _failures(recent.filter(ip_address=address)) >= settings.LOCKOUT_ADDRESS_FAILURE_LIMIT:
        return ADDRESS
    if username is None:
        return None
    if _failures(recent.filter(username=username, ip_address=address)) >= get_failure_limit(
        request, credentials
    ):
        return PAIR
    if (
        _failures(recent.filter(username=username)) >= settings.LOCKOUT_ACCOUNT_FAILURE_LIMIT
        # AccessLog holds axes' record of every successful login (both factors done).
        and not AccessLog.objects.filter(username=username, ip_address=address).exists()
    ):
        return ACCOUNT
    return None


class LockoutHandler(AxesDatabaseHandler):
    """Axes' database handler, locking by the three rules above.

    Axes records failures per (username, address) pair (AXES_LOCKOUT_PARAMETERS), clears
    only that pair on a successful login, and compares get_failures with
    AXES_FAILURE_LIMIT: a request some rule locks counts as having reached it.
    """

    def get_failures(self, request, credentials: dict | None = None) -> int:
        reason = lockout_reason(request, credentials)
        # Read by lockout_response, to say which rule applies.
        request.cencomm_lockout_reason = reason
        if reason:
            return get_failure_limit(request, credentials)
        return super().get_failures(request, credentials)


def lockout_response(request, original_response=None, credentials=None) -> HttpResponse:
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    reason = getattr(request, "cencomm_lockout_reason", None) or PAIR
    if reason == ADDRESS:
        detail = _(
            "Too many failed attempts from your address: logging in from it is paused "
            "for %(minutes)d minutes."
        )
    elif reason == ACCOUNT:
        detail = _(
            "Too many failed attempts on this account from several places: logging in to it "
            "from an address it has not used before is paused for %(minutes)d minutes. "
            "Addresses it has logged in from before are not affected."
        )
    else:
        detail = _(
            "Too many failed attempts: logging in to this account from your address is "
            "paused for %(minutes)d minutes."
        )
    detail = detail % {"minutes": minutes}
    if request.path.startswith("/api/"):
        return json_error(429, "locked_out", detail)
    return render(request, "registration/locked_out.html", {"detail": detail}, status=429)
