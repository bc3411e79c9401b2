"""A person's own account settings: profile photo, time zone, and their name on leaderboards.

Photos are decoded, resized and re-encoded here with Pillow, so that no byte of the upload is
ever served: the stored file is a fresh JPEG without EXIF (no camera, no GPS position), and
the original is never kept.
"""

import uuid
import zoneinfo
from functools import cache
from io import BytesIO

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from PIL import Image, ImageOps, UnidentifiedImageError

from imatch.errors import DomainError
from marketplace import selectors
from marketplace.errors import ErrorCode
from marketplace.models import User

PHOTO_MAX_BYTES = 5 * 1024 * 1024
PHOTO_MAX_PIXELS = 40_000_000  # a decompression bomb is refused before it is decoded
PHOTO_SIDE = 512  # the longest side of the stored photo, in pixels
PHOTO_FORMATS = {"JPEG", "PNG", "WEBP"}
PHOTO_FOLDER = "photos"


def photo_encode(upload: UploadedFile) -> bytes:
    """The upload as a JPEG of at most PHOTO_SIDE pixels, without metadata; refuses anything else."""
    if upload.size is None or upload.size > PHOTO_MAX_BYTES:
        raise DomainError("The photo is larger than 5 MB.", field="photo", code=ErrorCode.PHOTO_TOO_LARGE)
    unreadable = DomainError(
        "This file is not a JPEG, PNG or WebP image we can read.", field="photo", code=ErrorCode.PHOTO_UNREADABLE
    )
    try:
        with Image.open(upload) as image:
            if image.format not in PHOTO_FORMATS or image.width * image.height > PHOTO_MAX_PIXELS:
                raise unreadable
            image.load()
            upright = ImageOps.exif_transpose(image)  # turn it as the camera meant, before EXIF is dropped
            if upright.mode in ("RGBA", "LA", "P"):
                upright = upright.convert("RGBA")
                flat = Image.new("RGB", upright.size, "white")
                flat.paste(upright, mask=upright.getchannel("A"))
                upright = flat
            else:
                upright = upright.convert("RGB")
            upright.thumbnail((PHOTO_SIDE, PHOTO_SIDE))
            out = BytesIO()
            upright.save(out, "JPEG", quality=85, optimize=True)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError, SyntaxError) as error:
        raise unreadable from error
    return out.getvalue()


@transaction.atomic
def user_photo_set(*, user: User, upload: UploadedFile) -> User:
    """Replace the person's photo with the re-encoded upload; the previous file is deleted after commit."""
    data = photo_encode(upload)
    user = User.objects.select_for_update().get(pk=user.pk)
    previous = user.photo.name
    user.photo.save(f"{uuid.uuid4().hex}.jpg", ContentFile(data), save=False)
    user.save(update_fields=["photo"])
    selectors.directory_changed()  # the directory's cards show the photo
    if previous:
        transaction.on_commit(lambda: default_storage.delete(previous))
    return user


@transaction.atomic
def user_photo_remove(*, user: User) -> User:
    """Remove the person's photo: their initials are shown instead."""
    user = User.objects.select_for_update().get(pk=user.pk)
    previous = user.photo.name
    if previous:
        user.photo = ""
        user.save(update_fields=["photo"])
        selectors.directory_changed()  # the directory's cards show the initials again
        transaction.on_commit(lambda: default_storage.delete(previous))
    return user


@cache
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def time_zone_check(name: str) -> str:
    """The IANA time zone name, or a refusal on the `time_zone` field."""
    name = (name or "").strip()
    if name not in _time_zones():
        raise DomainError(
            "Choose a time zone from the list (e.g. America/Chicago).",
            field="time_zone",
            code=ErrorCode.UNKNOWN_TIME_ZONE,
        )
    return name


@transaction.atomic
def user_time_zone_set(*, user: User, time_zone: str) -> User:
    """Set the time zone the person's dates and times are shown in."""
    user.time_zone = time_zone_check(time_zone)
    user.save(update_fields=["time_zone"])
    return user


@transaction.atomic
def user_settings_update(*, user: User, time_zone: str | None = None, leaderboard_opt_in: bool | None = None) -> User:
    """Change the settings given (None: unchanged); a refused one saves none of them.

    `leaderboard_opt_in`: True shows the person by name on leaderboards, False as "Anonymous".
    Leaderboards are kept up to LEADERBOARD_CACHE_SECONDS (growth.leaderboards): the change shows
    on them at their next recompute, within that time.
    """
    fields = []
    if time_zone is not None:
        user.time_zone = time_zone_check(time_zone)
        fields.append("time_zone")
    if leaderboard_opt_in is not None:
        user.leaderboard_opt_in = bool(leaderboard_opt_in)
        fields.append("leaderboard_opt_in")
    if fields:
        user.save(update_fields=fields)
    return user
