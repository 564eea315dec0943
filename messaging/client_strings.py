"""The words the browser script shows, translated on the server and handed over as JSON."""

from django.utils.translation import gettext as _
from django.utils.translation import pgettext


# long: one table of the browser script's translated strings, read top to bottom
def client_strings() -> dict[str, str]:
    return {
        "online": _("Live"),
        "connecting": _("Connecting…"),
        "offline": _("Offline — reconnecting"),
        "sessionEnded": _("Your session has ended. Log in again to continue."),
        "promoted": _("You are now a coordinator of this group."),
        "promotedSignIn": _(
            "You are now a coordinator of this group. Coordinators log in with a second "
            "factor: reload the page to set it up."
        ),
        "removed": _("You were removed from this group. New messages are no longer shown."),
        "reply": pgettext("action", "Reply"),
        "replyingTo": _("Replying to message #%(seq)s"),
        "cancel": _("Cancel"),
        "acknowledge": _("Acknowledge"),
        "acknowledged": _("Acknowledged"),
        "retract": _("Retract"),
        "retractConfirm": _("Retract this message? Its content is hidden for everyone."),
        "retracted": _("This message was retracted by its author."),
        "sending": _("Sending…"),
        "failed": _("Not sent: %(detail)s"),
        "queued": _("Waiting for the connection"),
        "readBy": _("Read by %(count)s"),
        "ackBy": _("acknowledged by %(count)s"),
        "receiptsTitle": _("Receipts"),
        "notReadBy": _("Not read yet"),
        "loadingOlder": _("Loading older messages…"),
        "noMoreHistory": _("This is the beginning of the group."),
        "newMessages": _("New messages below"),
        "uploading": _("Uploading %(name)s…"),
        "uploadFailed": _("Upload failed: %(detail)s"),
        "tooLarge": _("The file is too large."),
        "remove": _("Remove"),
        "inReplyTo": _("In reply to #%(seq)s"),
        "memberAdded": _("%(user)s joined the group as %(role)s."),
        "memberRemoved": _("%(user)s left the group."),
        "memberRole": _("%(user)s is now %(role)s."),
        "statusChanged": _("The group is now %(status)s."),
        "kind_text": _("Message"),
        "kind_alert": _("Alert"),
        "kind_request": _("Request"),
        "kind_reply": pgettext("message kind", "Reply"),
        "kind_notice": _("Notice"),
        "kind_seizure": _("Seizure"),
        "role_coordinator": _("coordinator"),
        "role_member": _("member"),
        "role_observer": _("observer"),
        "status_open": _("open"),
        "status_read_only": _("read-only"),
        "noSeizures": _("No seizures yet."),
        "validated": pgettext("seizure count", "Validated"),
        "seizure_submitted": _("awaiting validation"),
        "seizure_validated": _("validated"),
        "seizure_rejected": _("rejected"),
        "seizureReported": _("Seizure reported"),
        "seizureValidatedBy": _("Validated by %(user)s."),
        "seizureRejectedBy": _("Rejected by %(user)s: %(reason)s"),
        "seizureCorrected": _("Corrected by %(user)s; awaiting validation again."),
        "seizureDate": _("Date of seizure"),
        "seizureValidationUndone": _("%(user)s undid the validation; awaiting validation again."),
        "seizureRejectionUndone": _("%(user)s undid the rejection; awaiting validation again."),
        "openRecord": _("Open the record"),
        "route": _("Route"),
        "detection": _("Detection"),
        "handlingChange": _("Change the handling code"),
        "handlingRelease": _("Release for outside the operation"),
        "handlingReleased": _("released for outside the operation"),
        "handlingConditions": _("%(code)s: %(conditions)s"),
        "grading": _("Grading %(grading)s"),
        "handlingChangedBy": _("%(user)s changed the handling code of #%(seq)s to %(code)s."),
        "handlingReleasedBy": _("%(user)s released #%(seq)s for outside the operation."),
        "place": _("Place"),
        "operation_planned": _("planned"),
        "operation_active": _("active"),
        "operation_closed": _("closed"),
        "operation_transferred": _("transferred to the CEN database"),
    }


def offline_strings() -> dict[str, str]:
    """The seizure form's words for its offline queue."""
    return {
        "waiting": _("%(count)s seizure(s) waiting to be sent."),
        "none": _("Nothing waiting: every report was sent."),
        "offline": _(
            "No connection: your report is kept on this device and sent when the connection returns."
        ),
        "saved": _("Saved on this device. It will be sent when the connection returns."),
        "sent": _("Seizure reported."),
        "duplicate": _("Already received by the server."),
        "view": _("View"),
        "needsFix": _("Needs correcting before it can be sent:"),
        "edit": _("Edit"),
        "discard": _("Discard"),
        "login": _("Your session has ended: log in again in another tab, then press “Send now”."),
        "sending": _("Sending…"),
        "fixErrors": _("Some fields need correcting."),
        "storageUnavailable": _("This browser cannot keep reports offline; stay online to send."),
    }
