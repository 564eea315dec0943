"""Message pages and endpoints inside a group: /groups/<slug>/..."""

from django.urls import path

from . import views

app_name = "messaging"
urlpatterns = [
    path("messages/", views.message_history, name="history"),
    path("messages/post/", views.message_post_form, name="post"),
    path("messages/export.csv", views.messages_export, name="export"),
    path("messages/<int:seq>/receipts/", views.message_receipts, name="receipts"),
    path("attachments/", views.attachment_upload_view, name="attachment_upload"),
    path("attachments/<str:token>/", views.attachment_download, name="attachment_download"),
]
