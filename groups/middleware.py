from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.shortcuts import redirect
from django.utils import translation
from django.utils.translation import gettext as _

from core.errors import json_error

from .selectors import user_language
from .sessions import device_was_ended, session_outlived, session_touch
from .two_factor import session_is_verified, two_factor_required


class UserLanguageMiddleware:
    """Speak the user's preferred language unless they chose another in this browser."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            language = user_language(
                user=user, chosen=request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
            )
            if language != request.LANGUAGE_CODE:
                translation.activate(language)
                request.LANGUAGE_CODE = language
        return self.get_response(request)


class SessionLifetimeMiddleware:
    """Ends a session past its absolute lifetime, whatever the activity; notes the last visit."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            if session_outlived(dict(request.session.items())):
                logout(request)
                messages.info(request, _("Your session reached its maximum length: log in again."))
                return redirect(settings.LOGIN_URL)
            if request.session.session_key:
                session_touch(session_key=request.session.session_key)
        return self.get_response(request)


class TwoFactorRequiredMiddleware:
    """Coordinators and staff must use a second factor before anything else.

    A signed-in user who must, and whose session is not verified, is sent to the
    enrolment page (pages) or refused (the session-authenticated API). Token API
    clients are machine accounts and are not concerned.
    """

    ALWAYS_ALLOWED = (
        "/account/two-factor/",
        "/logout/",
        "/login/",
        "/language/",
        "/static/",
        "/health/",
        "/sw.js",
    )

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not request.path.startswith(self.ALWAYS_ALLOWED)
            and not session_is_verified(request.session)
            and two_factor_required(user)
        ):
            if request.path.startswith("/api/"):
                return json_error(403, "two_factor_required", _("Set up two-factor login first."))
            messages.warning(
                request, _("Your role requires two-factor login: set it up to continue.")
            )
            return redirect("account_two_factor")
        return self.get_response(request)


DEVICE_ENDED_COOKIE = "cencomm_device_ended"


def _wiping_page(response) -> bool:
    """A page that renders the outbox, which wipes the device (templates/_outbox.html)."""
    return response.status_code == 200 and response.get("Content-Type", "").startswith("text/html")


class DeviceEndedMiddleware:
    """A device whose session was ended from elsewhere wipes its outbox and kept pages
    the next time it comes online.

    Its next request still carries the dead session's cookie: when that session was
    ended from elsewhere, ``request.device_ended`` is set, and the first page rendered
    for it (the login page the request is sent to) tells ``static/js/outbox.js`` to
    wipe the device. A cookie carries the fact over the redirect to that page.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        signed_in = request.user.is_authenticated
        key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
        ended_now = not signed_in and device_was_ended(session_key=key)
        carried = request.COOKIES.get(DEVICE_ENDED_COOKIE) == "1"
        request.device_ended = not signed_in and (ended_now or carried)
        response = self.get_response(request)
        if request.device_ended and not _wiping_page(response):
            response.set_cookie(
                DEVICE_ENDED_COOKIE,
                "1",
                max_age=24 * 3600,
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        elif carried:
            response.delete_cookie(DEVICE_ENDED_COOKIE, samesite="Lax")
        return response
