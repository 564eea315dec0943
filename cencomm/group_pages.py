"""The pages that put the apps together: a member's groups and a group's live page
(its history, composer and members, with the seizure vocabularies of operations).

They live above the apps they combine: groups, messaging and operations know
nothing of them.
"""

import uuid

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from core.vocabularies import (
    HandlingCode,
    InformationGrading,
    SourceGrading,
    vocabulary_labels,
)
from groups.access import access_group
from groups.notifications import notification_choice_get, notification_choices
from groups.selectors import group_members, groups_of_user
from groups.web_push import vapid_public_key, web_push_enabled
from messaging.client_strings import client_strings
from messaging.history import acknowledged_seqs, message_page, unread_counts
from messaging.models import Message
from messaging.services import POSTABLE_KINDS, handling_default


@login_required
def my_groups(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "groups/my_groups.html",
        {
            "groups": groups_of_user(user=request.user),
            "unread": unread_counts(user=request.user),
            "client_strings": client_strings(),
        },
    )


def _notification_strings() -> dict[str, str]:
    """The words of static/js/notifications.js."""
    return {
        "notifyTitle": _("New in %(group)s"),
        "notify_alerts": _("A new alert"),
        "notify_seizures": _("A new seizure report"),
        "notify_mentions": _("A message mentions you"),
        "notifyDeviceOn": _("Turn on notifications on this device"),
        "notifyDeviceOff": _("Turn off notifications on this device"),
        "notifyOnWithPush": _(
            "This device is told of what you chose, even when CENcomm is closed. "
            "A notification says only where something new waits, never what."
        ),
        "notifyOnPageOnly": _(
            "This device is told of what you chose while a CENcomm page is open."
        ),
        "notifyOff": _("Notifications are off on this device."),
        "notifyBlocked": _(
            "The browser blocks notifications from CENcomm: allow them in its site settings."
        ),
        "notifyUnsupported": _("This browser cannot show notifications."),
        "notifyPushFailed": _(
            "Notifications work while a page is open, but this device could not subscribe to "
            "pushes: %(detail)s"
        ),
        "notifySaved": _("Saved."),
        "notifySaveFailed": _("Not saved: %(detail)s"),
    }


def _notification_config(user, group) -> dict:
    """What static/js/notifications.js needs: the choices in every group the user reads
    (the socket carries them all), where to save them, and Web Push if the server sends it."""
    return {
        # Staff read groups they hold no permission on: their choice here is read apart.
        "notifyGroups": {
            **notification_choices(user=user),
            group.slug: notification_choice_get(user=user, slug=group.slug),
        },
        "notificationsUrl": reverse("api-group-notifications", kwargs={"slug": group.slug}),
        "pushUrl": reverse("api-push-subscriptions"),
        "groupUrl": reverse("groups:group", kwargs={"slug": "SLUG"}),
        "webPush": web_push_enabled(),
        "vapidKey": vapid_public_key(),
    }


@login_required
def group_page(request: HttpRequest, slug: str) -> HttpResponse:
    """The group's live page: history, composer, members; the socket does the rest."""
    access = access_group(request.user, slug)
    group = access.group
    # The cursor is read before the history: whatever commits in between comes
    # again through the socket's catch-up, and the client drops what it has.
    cursor = group.last_seq
    page = message_page(group=group)
    config = {
        "group": group.slug,
        "cursor": cursor,
        "user": request.user.username,
        "role": access.role or ("staff" if access.staff else None),
        "canPost": access.can_post,
        "readOnly": group.is_read_only,
        "messages": page["messages"],
        "acked": acknowledged_seqs(user=request.user, group=group),
        "more": page["more"],
        "historyUrl": reverse("messaging:history", kwargs={"slug": group.slug}),
        "uploadUrl": reverse("messaging:attachment_upload", kwargs={"slug": group.slug}),
        "receiptsUrl": reverse("messaging:receipts", kwargs={"slug": group.slug, "seq": 0}),
        "attachmentUrl": reverse(
            "messaging:attachment_download", kwargs={"slug": group.slug, "token": "TOKEN"}
        ),
        "labels": vocabulary_labels(),
        "seizureUrl": (
            reverse(
                "operations:seizure",
                kwargs={"code": group.operation.code, "uuid": uuid.UUID(int=0)},
            )
            if hasattr(group, "operation")
            else None
        ),
        "maxLength": settings.MESSAGE_MAX_LENGTH,
        "maxUpload": settings.ATTACHMENT_MAX_BYTES,
        # Who may release an H2 message: its author's administration (and coordinators).
        "country": getattr(getattr(request.user.profile, "administration", None), "country", None)
        if hasattr(request.user, "profile")
        else None,
        **_notification_config(request.user, group),
    }
    return render(
        request,
        "groups/group.html",
        {
            "access": access,
            "group": group,
            "members": group_members(group=group),
            "my_groups": groups_of_user(user=request.user),
            "unread": unread_counts(user=request.user),
            "page_config": config,
            "client_strings": {**client_strings(), **_notification_strings()},
            "kinds": [(k, label) for k, label in Message.Kind.choices if k in POSTABLE_KINDS],
            "handling_codes": HandlingCode.choices,
            "handling_default": handling_default(group.pk),
            "source_gradings": SourceGrading.choices,
            "information_gradings": InformationGrading.choices,
        },
    )
