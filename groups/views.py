from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from . import services
from .access import access_group
from .forms import (
    LanguageForm,
    MemberAddAllForm,
    MemberAddForm,
    MemberChangeForm,
    MemberSearchForm,
)
from .models import Role
from .selectors import (
    administration_candidates,
    administrations_with_candidates,
    group_members,
    member_candidates,
)
from .sessions import (
    current_session_id,
    session_end,
    session_mark_installed,
    sessions_of_user,
)

User = get_user_model()


def _error_text(error: ValidationError) -> str:
    return " ".join(error.messages)


def _members_page(request: HttpRequest, access, *, status: int = 200, **forms) -> HttpResponse:
    """The members page; a coordinator's also finds people to add (``q``) and offers
    each administration with officers not yet in the group."""
    search = MemberSearchForm(request.GET)
    query = search.cleaned_data["q"] if search.is_valid() else ""
    manage = access.can_manage
    return render(
        request,
        "groups/members.html",
        {
            "access": access,
            "group": access.group,
            "members": group_members(group=access.group),
            "add_form": forms.get("add_form") or MemberAddForm(),
            "add_all_form": forms.get("add_all_form") or MemberAddAllForm(),
            "search_form": search,
            "query": query,
            "candidates": member_candidates(access.group, query) if manage and query else [],
            "administrations": administrations_with_candidates(group=access.group)
            if manage
            else [],
            "roles": Role.choices,
        },
        status=status,
    )


def _back_to_members(request: HttpRequest, slug: str) -> HttpResponse:
    """Back to the members page, with the search the coordinator was adding from."""
    url = reverse("groups:members", kwargs={"slug": slug})
    query = request.POST.get("q", "").strip()[:100]
    return HttpResponseRedirect(f"{url}?{urlencode({'q': query})}" if query else url)


def _form_errors(form) -> str:
    return " ".join(e for errors in form.errors.values() for e in errors)


@login_required
def group_members_page(request: HttpRequest, slug: str) -> HttpResponse:
    return _members_page(request, access_group(request.user, slug))


@login_required
@require_POST
def member_add(request: HttpRequest, slug: str) -> HttpResponse:
    access = access_group(request.user, slug, need="manage")
    form = MemberAddForm(request.POST)
    if form.is_valid():
        try:
            services.membership_add(
                group=access.group,
                user=form.cleaned_data["user"],
                role=form.cleaned_data["role"],
                added_by=request.user,
            )
        except ValidationError as error:
            messages.error(request, _error_text(error))
        else:
            messages.success(
                request, _("%(user)s was added.") % {"user": form.cleaned_data["username"]}
            )
            return _back_to_members(request, slug)
    else:
        messages.error(request, _form_errors(form))
    return _members_page(request, access, status=400, add_form=form)


@login_required
@require_POST
def member_add_all(request: HttpRequest, slug: str) -> HttpResponse:
    """Add every active officer of one administration who is not yet a member."""
    access = access_group(request.user, slug, need="manage")
    form = MemberAddAllForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return _members_page(request, access, status=400, add_all_form=form)
    administration = form.cleaned_data["administration"]
    try:
        added = services.memberships_add_many(
            group=access.group,
            users=administration_candidates(group=access.group, administration=administration),
            role=form.cleaned_data["role"],
            added_by=request.user,
        )
    except ValidationError as error:
        messages.error(request, _error_text(error))
        return redirect("groups:members", slug=slug)
    if added:
        text = ngettext(
            "%(count)d officer of %(administration)s was added.",
            "%(count)d officers of %(administration)s were added.",
            added,
        )
        messages.success(request, text % {"count": added, "administration": administration.name})
    else:
        messages.info(
            request,
            _("Every active officer of %(administration)s is already a member.")
            % {"administration": administration.name},
        )
    return redirect("groups:members", slug=slug)


def _member_action(request: HttpRequest, slug: str, action) -> HttpResponse:
    access = access_group(request.user, slug, need="manage")
    form = MemberChangeForm(request.POST)
    user = User.objects.filter(username=request.POST.get("username", "")).first()
    if user is None:
        messages.error(request, _("That person is not a member of this group."))
        return redirect("groups:members", slug=slug)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return redirect("groups:members", slug=slug)
    try:
        text = action(access.group, user, form.cleaned_data)
    except ValidationError as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(request, text)
    return redirect("groups:members", slug=slug)


@login_required
@require_POST
def member_change_role(request: HttpRequest, slug: str) -> HttpResponse:
    def action(group, user, data):
        if not data.get("role"):
            raise ValidationError(_("Choose a role."))
        services.membership_change_role(
            group=group, user=user, role=data["role"], changed_by=request.user
        )
        return _("%(user)s is now %(role)s.") % {"user": user.username, "role": data["role"]}

    return _member_action(request, slug, action)


@login_required
@require_POST
def member_remove(request: HttpRequest, slug: str) -> HttpResponse:
    def action(group, user, data):
        services.membership_remove(group=group, user=user, removed_by=request.user)
        return _("%(user)s was removed.") % {"user": user.username}

    return _member_action(request, slug, action)


@require_POST
def language_set(request: HttpRequest) -> HttpResponse:
    """Switch the interface language; remembered on the profile for signed-in users."""
    form = LanguageForm(request.POST)
    next_url = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = "/"
    response = HttpResponseRedirect(next_url)
    if form.is_valid():
        language = form.cleaned_data["language"]
        if request.user.is_authenticated:
            services.profile_ensure(user=request.user, language=language)
        translation.activate(language)
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            language,
            max_age=365 * 24 * 3600,
            samesite="Lax",
            secure=request.is_secure(),
            httponly=True,
        )
    return response


def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect(reverse("groups:my_groups"))
    return redirect(reverse("login"))


@login_required
def account_sessions(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "groups/sessions.html",
        {
            "sessions": sessions_of_user(user=request.user),
            "current": current_session_id(request),
        },
    )


@login_required
@require_POST
def account_session_end(request: HttpRequest) -> HttpResponse:
    public_id = request.POST.get("session", "")
    if public_id == str(current_session_id(request)):
        messages.error(request, _("To end this session, log out."))
    elif session_end(user=request.user, public_id=public_id):
        messages.success(request, _("The session was ended; its open pages were disconnected."))
    else:
        messages.error(request, _("That session is already over."))
    return redirect("account_sessions")


@require_GET
def account_device(request: HttpRequest) -> JsonResponse:
    """Whether this device's session was ended from elsewhere (its pages then go to the
    login page, which wipes the device: groups/middleware.py, static/js/device.js)."""
    ended = bool(getattr(request, "device_ended", False))
    return JsonResponse({"ended": ended, "login": reverse("login") if ended else None})


@login_required
@require_POST
def account_device_installed(request: HttpRequest) -> HttpResponse:
    """The page reports that it runs as the installed app; the sessions page says so."""
    session_mark_installed(session_key=request.session.session_key)
    return HttpResponse(status=204)
