"""The person's own settings on the API: time zone (PATCH /me/) and profile photo (/me/photo/).

The photo goes through the web form's service (`marketplace.services.account`): same checks,
same Pillow re-encoding; a bad file is a 400 on the `photo` field, never a 500.
"""

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from marketplace.errors import ErrorCode
from marketplace.services import account
from tests.marketplace.loop import make_category, make_provider
from tests.marketplace.test_photos import image_file

pytestmark = pytest.mark.django_db

GIF = SimpleUploadedFile("x.gif", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", content_type="image/gif")
ME = "/api/v1/me/"
PHOTO = "/api/v1/me/photo/"


def test_the_time_zone_is_read_and_set(user_api, user):
    assert user_api.get(ME).json()["time_zone"] == user.time_zone
    response = user_api.patch(ME, {"time_zone": "America/Chicago"}, format="json")
    assert response.status_code == 200 and response.json()["time_zone"] == "America/Chicago"
    user.refresh_from_db()
    assert user.time_zone == "America/Chicago"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"time_zone": "Mars/Olympus"}, ErrorCode.UNKNOWN_TIME_ZONE),
        ({"time_zone": "america/chicago"}, ErrorCode.UNKNOWN_TIME_ZONE),  # names are exact
        ({"time_zone": ""}, "invalid"),
        ({}, "invalid"),
        ({"time_zone": "x" * 65}, "invalid"),
    ],
)
def test_a_bad_time_zone_is_a_400_on_the_field_and_changes_nothing(user_api, user, body, code):
    before = user.time_zone
    response = user_api.patch(ME, body, format="json")
    assert response.status_code == 400 and response.json()["code"] == code
    assert response.json()["fields"]["time_zone"]
    user.refresh_from_db()
    assert user.time_zone == before


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_a_photo_upload_is_re_encoded_by_the_web_forms_service(user_api, user, fmt):
    response = user_api.post(PHOTO, {"photo": image_file(fmt, exif=True, name=f"me.{fmt.lower()}")}, format="multipart")
    assert response.status_code == 200
    user.refresh_from_db()
    assert response.json()["photo_url"] == f"http://testserver{user.photo.url}"
    with default_storage.open(user.photo.name) as stored, Image.open(stored) as image:
        assert image.format == "JPEG" and max(image.size) == account.PHOTO_SIDE and not image.getexif()


@pytest.mark.parametrize(
    ("upload", "code"),
    [
        (SimpleUploadedFile("x.jpg", b"not an image at all", content_type="image/jpeg"), ErrorCode.PHOTO_UNREADABLE),
        (GIF, ErrorCode.PHOTO_UNREADABLE),
        (SimpleUploadedFile("cut.jpg", image_file().read()[:2000]), ErrorCode.PHOTO_UNREADABLE),
        (SimpleUploadedFile("empty.jpg", b""), "invalid"),
        (None, "invalid"),
        ("just text", "invalid"),
    ],
)
def test_a_bad_photo_is_a_400_on_the_field_never_a_500(user_api, user, upload, code):
    body = {} if upload is None else {"photo": upload}
    response = user_api.post(PHOTO, body, format="multipart")
    assert response.status_code == 400, response.content
    assert response.json()["code"] == code and response.json()["fields"]["photo"]
    user.refresh_from_db()
    assert not user.photo


def test_a_photo_over_5_mb_is_refused(user_api, user, monkeypatch):
    monkeypatch.setattr(account, "PHOTO_MAX_BYTES", 100)
    response = user_api.post(PHOTO, {"photo": image_file()}, format="multipart")
    assert response.status_code == 400 and response.json()["code"] == ErrorCode.PHOTO_TOO_LARGE
    assert "5 MB" in response.json()["fields"]["photo"][0]


def test_a_json_body_without_a_file_is_a_400_not_a_500(user_api):
    response = user_api.post(PHOTO, {"photo": "aGVsbG8="}, format="json")
    assert response.status_code == 400 and response.json()["fields"]["photo"]


def test_removing_the_photo_shows_initials_again(user_api, user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        user_api.post(PHOTO, {"photo": image_file()}, format="multipart")
    user.refresh_from_db()
    stored = user.photo.name
    with django_capture_on_commit_callbacks(execute=True):
        assert user_api.delete(PHOTO).status_code == 204
    assert user_api.get(ME).json()["photo_url"] is None and not default_storage.exists(stored)


def test_provider_responses_carry_the_photo_url(api_client, user_api, user):
    category = make_category(active=True)
    provider = make_provider(category, user=user)
    assert user_api.get(f"/api/v1/providers/{provider.pk}/").json()["photo_url"] is None
    account.user_photo_set(user=user, upload=image_file())
    user.refresh_from_db()
    expected = f"http://testserver{user.photo.url}"
    assert user_api.get(f"/api/v1/providers/{provider.pk}/").json()["photo_url"] == expected
    listed = api_client.get("/api/v1/providers/", {"category": category.name}).json()["results"]
    assert [row["photo_url"] for row in listed] == [expected]
