"""The REST API, version 1: /api/v1/. Schema at /api/schema/, browsable docs at /api/docs/."""

from django.urls import path, re_path

from core.api import api_not_found
from groups import api as groups_api
from groups import notification_api
from messaging import api as messaging_api
from operations import api as operations_api
from operations import report_api, search_api

urlpatterns = [
    path("auth/token/", groups_api.TokenCreate.as_view(), name="api-token"),
    path("search/", search_api.Search.as_view(), name="api-search"),
    path("groups/", groups_api.GroupList.as_view(), name="api-groups"),
    path("groups/<slug:slug>/", groups_api.GroupDetail.as_view(), name="api-group"),
    path("groups/<slug:slug>/members/", groups_api.MemberList.as_view(), name="api-members"),
    path(
        "groups/<slug:slug>/notifications/",
        notification_api.GroupNotifications.as_view(),
        name="api-group-notifications",
    ),
    path("notifications/", notification_api.NotificationList.as_view(), name="api-notifications"),
    path(
        "push-subscriptions/",
        notification_api.PushSubscriptionList.as_view(),
        name="api-push-subscriptions",
    ),
    path(
        "groups/<slug:slug>/member-candidates/",
        groups_api.MemberCandidateList.as_view(),
        name="api-member-candidates",
    ),
    path(
        "groups/<slug:slug>/members/<str:username>/",
        groups_api.MemberDetail.as_view(),
        name="api-member",
    ),
    path("groups/<slug:slug>/messages/", messaging_api.MessageList.as_view(), name="api-messages"),
    path(
        "groups/<slug:slug>/attachments/",
        messaging_api.AttachmentUpload.as_view(),
        name="api-attachments",
    ),
    path(
        "groups/<slug:slug>/messages/<int:seq>/acknowledge/",
        messaging_api.MessageAcknowledge.as_view(),
        name="api-message-acknowledge",
    ),
    path(
        "groups/<slug:slug>/messages/<int:seq>/read/",
        messaging_api.MessageRead.as_view(),
        name="api-message-read",
    ),
    path(
        "groups/<slug:slug>/messages/<int:seq>/handling/",
        messaging_api.MessageHandling.as_view(),
        name="api-message-handling",
    ),
    path(
        "groups/<slug:slug>/messages/<int:seq>/release/",
        messaging_api.MessageRelease.as_view(),
        name="api-message-release",
    ),
    path(
        "groups/<slug:slug>/attachments/<str:token>/handling/",
        messaging_api.AttachmentHandling.as_view(),
        name="api-attachment-handling",
    ),
    path("operations/", operations_api.OperationList.as_view(), name="api-operations"),
    path("operations/<str:code>/", operations_api.OperationDetail.as_view(), name="api-operation"),
    path(
        "operations/<str:code>/status/",
        operations_api.OperationStatus.as_view(),
        name="api-operation-status",
    ),
    path(
        "operations/<str:code>/reopen/",
        operations_api.OperationReopen.as_view(),
        name="api-operation-reopen",
    ),
    path(
        "operations/<str:code>/seizures/", operations_api.SeizureList.as_view(), name="api-seizures"
    ),
    path(
        "operations/<str:code>/seizures/<uuid:uuid>/",
        operations_api.SeizureDetail.as_view(),
        name="api-seizure",
    ),
    path(
        "operations/<str:code>/seizures/<uuid:uuid>/validate/",
        operations_api.SeizureValidate.as_view(),
        name="api-seizure-validate",
    ),
    path(
        "operations/<str:code>/seizures/<uuid:uuid>/reject/",
        operations_api.SeizureReject.as_view(),
        name="api-seizure-reject",
    ),
    path(
        "operations/<str:code>/seizures/<uuid:uuid>/undo-review/",
        operations_api.SeizureUndoReview.as_view(),
        name="api-seizure-undo-review",
    ),
    path(
        "operations/<str:code>/seizures/<uuid:uuid>/handling/",
        operations_api.SeizureHandling.as_view(),
        name="api-seizure-handling",
    ),
    path(
        "operations/<str:code>/seizures/<uuid:uuid>/release/",
        operations_api.SeizureRelease.as_view(),
        name="api-seizure-release",
    ),
    path(
        "operations/<str:code>/seizures/<uuid:uuid>/revise/",
        operations_api.SeizureRevise.as_view(),
        name="api-seizure-revise",
    ),
    path(
        "operations/<str:code>/transfers/",
        operations_api.TransferList.as_view(),
        name="api-transfers",
    ),
    path(
        "operations/<str:code>/transfers/<int:run_id>/",
        operations_api.TransferDetail.as_view(),
        name="api-transfer",
    ),
    path(
        "operations/<str:code>/transfers/<int:run_id>/report/",
        operations_api.TransferReport.as_view(),
        name="api-transfer-report",
    ),
    path(
        "operations/<str:code>/report.pdf",
        report_api.ReportPdf.as_view(),
        name="api-operation-report",
    ),
    # Anything else under /api/v1/ is a JSON 404 too, never an HTML page.
    re_path(r"^[\s\S]*$", api_not_found),
]
