"""Errors raised for bad input. Every failure on untrusted bytes is one of these."""

from __future__ import annotations


class DeidError(Exception):
    """Base class: the photo could not be de-identified; nothing was produced."""


class UnsupportedFormat(DeidError):
    """The bytes are not a JPEG, PNG, WebP or HEIC/HEIF photo (or use a feature we refuse)."""


class ImageTooLarge(UnsupportedFormat):
    """The image has more pixels (or bytes) than this program deliberately accepts."""


class CorruptImage(DeidError):
    """The bytes claim a supported format but are truncated, empty or malformed."""


class InvalidRedaction(DeidError, ValueError):
    """A redaction rectangle is empty or lies entirely outside the image."""


class FaceDetectionUnavailable(DeidError):
    """The OpenCV face cascade is not installed, so no suggestions can be made."""
