import io
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image
from pypdf import PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, NameObject, TextStringObject

from messaging.models import Attachment
from messaging.services import message_post
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db

GPS_IFD = 0x8825


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def photo(kind="JPEG", *, with_gps=True, size=(64, 48)) -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0132] = "2026:11:20 10:00:00"
    if with_gps:
        exif[GPS_IFD] = {1: "N", 2: (48.0, 51.0, 24.0), 3: "E", 4: (2.0, 21.0, 3.0)}
    output = io.BytesIO()
    image.save(output, format=kind, exif=exif.tobytes())
    return output.getvalue()


def pdf(*, javascript=False) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    if javascript:
        # A document-level script in the /Names tree, the classic way a PDF runs code.
        script = DictionaryObject(
            {
                NameObject("/S"): NameObject("/JavaScript"),
                NameObject("/JS"): TextStringObject("app.alert('x');"),
            }
        )
        names = DictionaryObject(
            {
                NameObject("/JavaScript"): DictionaryObject(
                    {
                        NameObject("/Names"): ArrayObject(
                            [TextStringObject("x"), writer._add_object(script)]
                        )
                    }
                )
            }
        )
        writer._root_object[NameObject("/Names")] = writer._add_object(names)
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


def upload(client, world, content: bytes, name="photo.jpg"):
    return client.post(
        reverse("messaging:attachment_upload", kwargs={"slug": world.group.slug}),
        {"file": SimpleUploadedFile(name, content)},
    )


def test_a_photo_loses_its_exif_and_gps(client, world):
    sign_in(client, world.officer_fr)
    response = upload(client, world, photo())
    assert response.status_code == 201, response.content
    attachment = Attachment.objects.get(token=response.json()["token"])
    with Image.open(attachment.file.path) as stored:
        assert stored.format == "JPEG"
        exif = stored.getexif()
        assert len(exif) == 0 and not exif.get_ifd(GPS_IFD)
    assert attachment.content_type == "image/jpeg"
    assert attachment.file.name.rsplit("/", 1)[-1] != "photo.jpg"


@pytest.mark.parametrize(
    ("kind", "extension", "content_type"),
    [("PNG", "png", "image/png"), ("WEBP", "webp", "image/webp")],
)
def test_png_and_webp_are_accepted_and_reencoded(client, world, kind, extension, content_type):
    sign_in(client, world.officer_fr)
    response = upload(client, world, photo(kind), name=f"x.{extension}")
    assert response.status_code == 201
    assert response.json()["content_type"] == content_type


def test_a_pdf_is_accepted_after_parsing(client, world):
    sign_in(client, world.officer_fr)
    response = upload(client, world, pdf(), name="report.pdf")
    assert response.status_code == 201
    assert response.json()["name"] == "report.pdf"


def test_a_pdf_with_javascript_is_refused(client, world):
    sign_in(client, world.officer_fr)
    response = upload(client, world, pdf(javascript=True), name="report.pdf")
    assert response.status_code == 400
    assert "scripts" in response.json()["error"]["detail"]
    assert Attachment.objects.count() == 0


@pytest.mark.parametrize(
    "content",
    [
        b"<html><script>alert(1)</script></html>",
        b"MZ\x90\x00\x03" + b"\x00" * 100,
        b"PK\x03\x04" + b"\x00" * 60,
        b"",
    ],
)
def test_anything_else_is_refused_by_its_content_not_its_name(client, world, content, media):
    sign_in(client, world.officer_fr)
    response = upload(client, world, content, name="photo.jpg")
    assert response.status_code == 400
    assert (
        "JPEG" in response.json()["error"]["detail"]
        or "Choose a file" in response.json()["error"]["detail"]
    )
    assert Attachment.objects.count() == 0
    assert not any(media.rglob("*.*")) if media.exists() else True


def test_a_truncated_image_is_refused(client, world):
    sign_in(client, world.officer_fr)
    response = upload(client, world, photo()[:200])
    assert response.status_code == 400


def test_an_oversized_file_is_refused_and_nothing_is_stored(client, world, settings, media):
    settings.ATTACHMENT_MAX_BYTES = 1000
    sign_in(client, world.officer_fr)
    response = upload(client, world, photo(size=(400, 400)))
    assert response.status_code == 400
    assert (
        "larger than" in response.json()["error"]["detail"]
        or "too large" in response.json()["error"]["detail"]
    )
    assert Attachment.objects.count() == 0
    assert not media.exists() or not any(p.is_file() for p in media.rglob("*"))


def test_observers_cannot_upload_and_outsiders_get_404(client, world):
    sign_in(client, world.observer)
    assert upload(client, world, photo()).status_code == 403
    sign_in(client, world.outsider)
    assert upload(client, world, photo()).status_code == 404


def test_the_name_is_cleaned(client, world):
    sign_in(client, world.officer_fr)
    response = upload(client, world, photo(), name="../../etc/passwd\u202egpj.exe")
    name = response.json()["name"]
    assert "/" not in name and "\u202e" not in name and name.endswith(".jpg")


def posted_attachment(client, world):
    sign_in(client, world.officer_fr)
    token = upload(client, world, photo()).json()["token"]
    message_post(
        author=world.officer_fr,
        group=world.group,
        body="see photo",
        client_id=uuid.uuid4(),
        attachment_tokens=[token],
    )
    return token


def test_members_download_with_safe_headers(client, world):
    token = posted_attachment(client, world)
    sign_in(client, world.observer)
    response = client.get(
        reverse("messaging:attachment_download", kwargs={"slug": world.group.slug, "token": token})
    )
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content)[:3] == b"\xff\xd8\xff"


def test_outsiders_and_unknown_tokens_get_the_same_404(client, world):
    token = posted_attachment(client, world)
    sign_in(client, world.outsider)
    url = reverse(
        "messaging:attachment_download", kwargs={"slug": world.group.slug, "token": token}
    )
    assert client.get(url).status_code == 404
    sign_in(client, world.officer_de)
    assert client.get(url.replace(token, "x" * 43)).status_code == 404


def test_an_unposted_attachment_is_only_for_its_uploader(client, world):
    sign_in(client, world.officer_fr)
    token = upload(client, world, photo()).json()["token"]
    url = reverse(
        "messaging:attachment_download", kwargs={"slug": world.group.slug, "token": token}
    )
    assert client.get(url).status_code == 200
    sign_in(client, world.officer_de)
    assert client.get(url).status_code == 404


def test_a_token_is_claimed_by_one_message_only(client, world):
    token = posted_attachment(client, world)
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        message_post(
            author=world.officer_fr,
            group=world.group,
            body="again",
            client_id=uuid.uuid4(),
            attachment_tokens=[token],
        )
    assert Attachment.objects.get(token=token).message.body == "see photo"


def test_a_pdf_open_action_is_refused(client, world):
    writer = PdfWriter()
    writer.add_blank_page(width=100, height=100)
    writer._root_object[NameObject("/OpenAction")] = DictionaryObject(
        {
            NameObject("/S"): NameObject("/URI"),
            NameObject("/URI"): TextStringObject("http://example.org"),
        }
    )
    output = io.BytesIO()
    writer.write(output)
    sign_in(client, world.officer_fr)
    assert upload(client, world, output.getvalue(), name="x.pdf").status_code == 400
