"""Logging in (with a second factor when the account has one) and the account pages."""

import time

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth import login as auth_login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_otp import login as otp_login

from . import two_factor

User = get_user_model()
PENDING_SECONDS = 300


class CencommLoginView(LoginView):
    """Step one: the password. Accounts with two-factor go on to the code page."""

    redirect_authenticated_user = True

    def form_valid(self, form):
        user = form.get_user()
        if two_factor.two_factor_enabled(user):
            self.request.session[two_factor.PENDING] = {
                "user": user.pk,
                "backend": user.backend,
                "at": time.time(),
                "next": self.get_success_url(),
            }
            return redirect("login_verify")
        return super().form_valid(form)


def login_verify(request: HttpRequest) -> HttpResponse:
    """Step two: a code from the authenticator app, or a recovery code."""
    pending = request.session.get(two_factor.PENDING)
    if not pending or time.time() - pending["at"] > PENDING_SECONDS:
        request.session.pop(two_factor.PENDING, None)
        messages.error(request, _("Log in again: the code was not entered in time."))
        return redirect("login")
    user = User.objects.filter(pk=pending["user"], is_active=True).first()
    if user is None:
        return redirect("login")
    error = ""
    if request.method == "POST":
        if getattr(request, "axes_locked_out", False):
            return redirect("login")
        device = two_factor.verify_second_factor(
            user=user, token=request.POST.get("code", ""), request=request
        )
        if device is not None:
            del request.session[two_factor.PENDING]
            user.backend = pending["backend"]
            auth_login(request, user)
            otp_login(request, device)
            next_url = pending.get("next") or settings.LOGIN_REDIRECT_URL
            if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
                next_url = "/"
            return redirect(next_url)
        error = _(
            "That code is not right. Use the 6-digit code your app shows now, or a recovery code."
        )
    return render(
        request,
        "registration/login_verify.html",
        {"error": error, "username": user.username},
        status=400 if error else 200,
    )


@login_required
def two_factor_page(request: HttpRequest) -> HttpResponse:
    user = request.user
    context = {
        "enabled": two_factor.two_factor_enabled(user),
        "required": two_factor.two_factor_required(user),
        "recovery_codes": request.session.pop("_cencomm_new_recovery_codes", None),
    }
    if request.method == "POST" and request.POST.get("action") == "confirm":
        codes = two_factor.enrolment_confirm(user=user, token=request.POST.get("code", ""))
        if codes is None:
            messages.error(
                request,
                _("That code is not right: check the time on your phone and try the next code."),
            )
        else:
            otp_login(request, two_factor.totp_device(user))
            request.session["_cencomm_new_recovery_codes"] = codes
            messages.success(request, _("Two-factor login is on."))
        return redirect("account_two_factor")
    if not context["enabled"]:
        device = two_factor.totp_device(user, confirmed=False) or two_factor.enrolment_start(
            user=user
        )
        context["secret"] = _base32(device.bin_key)
        context["qr_svg"] = segno.make(device.config_url, error="m").svg_inline(
            scale=4, dark="#0b2847"
        )
    return render(request, "groups/two_factor.html", context)


@login_required
@require_POST
def two_factor_recovery_codes(request: HttpRequest) -> HttpResponse:
    if two_factor.two_factor_enabled(request.user):
        request.session["_cencomm_new_recovery_codes"] = two_factor.recovery_codes_renew(
            user=request.user
        )
        messages.success(request, _("New recovery codes were made; the old ones no longer work."))
    return redirect("account_two_factor")


@login_required
@require_POST
def two_factor_disable(request: HttpRequest) -> HttpResponse:
    if two_factor.two_factor_disable(user=request.user):
        messages.success(request, _("Two-factor login is off."))
    else:
        messages.error(
            request, _("Your role requires two-factor login: it cannot be switched off.")
        )
    return redirect("account_two_factor")


def _base32(key: bytes) -> str:
    import base64

    text = base64.b32encode(key).decode().rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))
