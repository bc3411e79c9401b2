"""Profile photos: JPEG/PNG/WebP up to 5 MB, re-encoded and resized, EXIF gone, refusals as form errors."""

from io import BytesIO

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from imatch.errors import DomainError
from marketplace.errors import ErrorCode
from marketplace.services import account
from tests.marketplace.loop import make_provider


def image_file(fmt: str = "JPEG", size=(1600, 1200), name: str = "me.jpg", exif: bool = False) -> SimpleUploadedFile:
    buffer = BytesIO()
    image = Image.new("RGBA" if fmt == "PNG" else "RGB", size, (200, 30, 30))
    extra = {}
    if exif:
        tags = Image.Exif()
        tags[0x010F] = "SpyCam"  # Make
        tags[0x0131] = "GPS-leaking editor"  # Software
        extra["exif"] = tags.tobytes()
    image.save(buffer, fmt, **extra)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=f"image/{fmt.lower()}")


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_a_photo_is_re_encoded_resized_and_stripped(client, user, fmt):
    client.force_login(user)
    response = client.post(reverse("account-photo"), {"photo": image_file(fmt, exif=True)})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.photo.name.startswith("photos/") and user.photo.name.endswith(".jpg")
    with default_storage.open(user.photo.name) as stored, Image.open(stored) as image:
        assert image.format == "JPEG" and max(image.size) == account.PHOTO_SIDE
        assert not image.getexif()
    served = client.get(user.photo.url)
    assert served.status_code == 200 and b"".join(served.streaming_content)[:2] == b"\xff\xd8"


def test_a_new_photo_replaces_the_old_file_and_removal_shows_initials(client, user, django_capture_on_commit_callbacks):
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("account-photo"), {"photo": image_file()})
    user.refresh_from_db()
    first = user.photo.name
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("account-photo"), {"photo": image_file("PNG", name="me.png")})
    user.refresh_from_db()
    assert user.photo.name != first and not default_storage.exists(first)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("account-photo-remove"))
    user.refresh_from_db()
    assert not user.photo
    page = client.get(reverse("account")).content.decode()
    assert f">{user.initials}</span>" in page


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (SimpleUploadedFile("x.jpg", b"not an image at all", content_type="image/jpeg"), "not a JPEG, PNG or WebP"),
        (SimpleUploadedFile("x.gif", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", content_type="image/gif"), "not a JPEG"),
        (image_file("JPEG", size=(50, 50), name="x.jpg"), None),  # control: a small good image is fine
    ],
)
def test_bad_files_are_a_form_error_never_a_500(client, user, upload, message):
    client.force_login(user)
    response = client.post(reverse("account-photo"), {"photo": upload})
    if message is None:
        assert response.status_code == 302
        return
    assert response.status_code == 400
    assert message in str(response.context["photo_form"].errors["photo"])
    user.refresh_from_db()
    assert not user.photo


def test_a_truncated_image_is_refused(client, user):
    data = image_file().read()[:2000]
    client.force_login(user)
    response = client.post(reverse("account-photo"), {"photo": SimpleUploadedFile("cut.jpg", data)})
    assert response.status_code == 400 and "photo" in response.context["photo_form"].errors


def test_over_5_mb_is_refused_before_decoding(monkeypatch):
    upload = image_file()
    upload.size = account.PHOTO_MAX_BYTES + 1
    with pytest.raises(DomainError) as refused:
        account.photo_encode(upload)
    assert refused.value.code == ErrorCode.PHOTO_TOO_LARGE and refused.value.field == "photo"


def test_no_file_is_a_form_error(client, user):
    client.force_login(user)
    response = client.post(reverse("account-photo"), {})
    assert response.status_code == 400 and "photo" in response.context["photo_form"].errors


def test_cards_show_the_photo_or_initials(client, seeded_categories, user):
    advisors = seeded_categories["financial_advisors"]
    provider = make_provider(advisors, user=user, verified=True, specialties=["retirement-planning"])
    url = reverse("category-detail", args=[advisors.name])
    assert f">{user.initials}</span>" in client.get(url).content.decode()
    account.user_photo_set(user=user, upload=image_file())
    user.refresh_from_db()
    page = client.get(url).content.decode()
    assert f'src="{user.photo.url}"' in page and provider.business_name in page


def test_time_zone_setting_refuses_unknown_names(client, user):
    client.force_login(user)
    response = client.post(reverse("account"), {"time_zone": "Mars/Olympus"})
    assert response.status_code == 400 and "time_zone" in response.context["zone_form"].errors
    assert client.post(reverse("account"), {"time_zone": "Europe/Paris"}).status_code == 302
    user.refresh_from_db()
    assert user.time_zone == "Europe/Paris"
    with pytest.raises(DomainError) as refused:
        account.user_time_zone_set(user=user, time_zone="Nowhere/Land")
    assert refused.value.code == ErrorCode.UNKNOWN_TIME_ZONE
