"""Errors of the render layer: subclasses of NenboneError with complete messages."""

from __future__ import annotations

from nenbone.errors import NenboneError


class RenderError(NenboneError):
    """The supplement cannot be rendered (bad source, missing file, pandoc or typst failure)."""


class MissingKeyError(RenderError):
    """A {{< meta >}}/{{< var >}} shortcode names a key that no metadata file holds."""

    def __init__(self, key: str, file: str, message: str | None = None) -> None:
        self.key = key
        self.file = file
        super().__init__(message or f"missing key '{key}' in {file}")
