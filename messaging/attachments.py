"""Attachments: photos and documents posted with a message.

What is stored is never what was sent: images are decoded and re-encoded (so EXIF,
GPS, XMP and any trailing payload are gone), PDFs are parsed and refused when they
carry scripts or launch actions, everything else is refused — by the bytes, never
by the file name. Files are stored under random names and served only to members.
"""

import hashlib
import io
import re
import secrets
import unicodedata
import warnings

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError
from pypdf import PdfReader
from pypdf.errors import PdfReadError

from core.errors import Invalid
from core.handling import handling_clean
from groups.access import may
from groups.models import ClosedUserGroup

from .handling import handling_default
from .models import Attachment
from .services import check_may_post

# Decoding more pixels than this is refused: a "decompression bomb" photo.
Image.MAX_IMAGE_PIXELS = 60_000_000
IMAGE_FORMATS = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
}
PDF_DANGERS = (b"/JavaScript", b"/JS", b"/Launch", b"/EmbeddedFile", b"/RichMedia", b"/XFA")


def _sniff(head: bytes) -> str | None:
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if head.startswith(b"%PDF-"):
        return "PDF"
    return None


def clean_filename(name: str, extension: str) -> str:
    """A name safe to show and to offer for download: no path, no control or bidi characters."""
    name = unicodedata.normalize("NFC", str(name or ""))
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C")
    name = re.sub(r"[\s]+", " ", name).strip(" .")
    stem = name.rsplit(".", 1)[0] if "." in name else name
    stem = re.sub(r"[<>:\"|?*;]", "_", stem)[:120].strip(" .") or "attachment"
    return f"{stem}.{extension}"


def _reencode_image(data: bytes, kind: str) -> bytes:
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data)) as image:
                if image.format != kind:
                    raise Invalid(_("The file is not the image it claims to be."))
                image.load()
                image = ImageOps.exif_transpose(image)
                if image.mode not in ("RGB", "RGBA", "L", "LA"):
                    image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
                if kind == "JPEG" and image.mode not in ("RGB", "L"):
                    image = image.convert("RGB")
                output = io.BytesIO()
                # No exif=, no icc_profile=, no pnginfo=: nothing of the original's metadata survives.
                options = {
                    "JPEG": {"quality": 90, "optimize": True},
                    "PNG": {"optimize": True},
                    "WEBP": {"quality": 90},
                }
                image.save(output, format=kind, **options[kind])
                return output.getvalue()
        except (
            UnidentifiedImageError,
            OSError,
            SyntaxError,
            ValueError,
            Image.DecompressionBombError,
            Image.DecompressionBombWarning,
        ):
            raise Invalid(_("The image could not be read, or is too large to decode.")) from None


def _check_pdf(data: bytes) -> None:
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise Invalid(_("Encrypted PDF files are not accepted."))
        pages = len(reader.pages)
        root = reader.trailer["/Root"]
        if (
            "/OpenAction" in root
            or "/AA" in root
            or ("/Names" in root and "/JavaScript" in root["/Names"])
        ):
            raise Invalid(_("PDF files with scripts or automatic actions are not accepted."))
    except ValidationError:
        raise
    except (PdfReadError, KeyError, ValueError, TypeError, AttributeError, RecursionError, OSError):
        raise Invalid(_("The PDF file could not be read.")) from None
    if pages < 1:
        raise Invalid(_("The PDF file has no pages."))
    if any(marker in data for marker in PDF_DANGERS):
        raise Invalid(_("PDF files with scripts or automatic actions are not accepted."))


def attachment_upload(
    *, user, group: ClosedUserGroup, uploaded_file, handling_code=None, handling_conditions=None
) -> Attachment:
    """Check, clean and store one file for a message to come; claimed by ``message_post``.

    Its handling code is the uploader's choice, else the operation's default."""
    handling = handling_clean(
        code=handling_code, conditions=handling_conditions, default=handling_default(group.pk)
    )
    if uploaded_file.size > settings.ATTACHMENT_MAX_BYTES:
        raise Invalid(
            {
                "file": _("The file is larger than %(mb)d MB.")
                % {"mb": settings.ATTACHMENT_MAX_BYTES // (1024 * 1024)}
            }
        )
    data = uploaded_file.read(settings.ATTACHMENT_MAX_BYTES + 1)
    if len(data) > settings.ATTACHMENT_MAX_BYTES:
        raise Invalid({"file": _("The file is too large.")})
    kind = _sniff(data[:16])
    if kind is None:
        raise Invalid({"file": _("Only photos (JPEG, PNG, WebP) and PDF documents are accepted.")})
    try:
        if kind == "PDF":
            _check_pdf(data)
            content_type, extension, stored = "application/pdf", "pdf", data
        else:
            content_type, extension = IMAGE_FORMATS[kind]
            stored = _reencode_image(data, kind)
    except ValidationError as error:
        raise Invalid({"file": error.messages}) from None
    name = clean_filename(uploaded_file.name, extension)
    check_may_post(group=group, author=user)
    attachment = Attachment(
        group=group,
        uploaded_by=user,
        token=secrets.token_urlsafe(32),
        original_name=name,
        content_type=content_type,
        size=len(stored),
        sha256=hashlib.sha256(stored).hexdigest(),
        handling_code=handling.code,
        handling_conditions=handling.conditions,
    )
    attachment.file.save(f"{secrets.token_hex(16)}.{extension}", ContentFile(stored), save=False)
    try:
        attachment.save()
    except Exception:
        # No row, no file: a failed upload leaves nothing behind.
        attachment.file.storage.delete(attachment.file.name)
        raise
    return attachment


def attachment_for_download(*, user, group: ClosedUserGroup, token: str) -> Attachment | None:
    """The attachment if this user may download it: a reader of the group, for a posted
    message; its uploader, before; else None."""
    attachment = (
        Attachment.objects.filter(token=token, group=group).select_related("message").first()
    )
    if attachment is None:
        return None
    if attachment.message_id is None:
        return attachment if attachment.uploaded_by_id == user.pk else None
    if attachment.message.is_retracted:
        return None
    return attachment if may("view", user=user, group_id=group.pk) else None
