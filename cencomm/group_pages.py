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

from core.vocabularies import vocabulary_labels
from groups.access import access_group
from groups.selectors import group_members, groups_of_user
from messaging.client_strings import client_strings
from messaging.history import acknowledged_seqs, message_page, unread_counts
from messaging.models import Message
from messaging.services import POSTABLE_KINDS


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
            "client_strings": client_strings(),
            "kinds": [(k, label) for k, label in Message.Kind.choices if k in POSTABLE_KINDS],
        },
    )
