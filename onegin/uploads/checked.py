"""What an accepted upload is: its canonical bytes, classes and preview (pure).

Both checkers (``image_zip``, ``labelled_text``) reduce an upload to this one shape,
so the catalogue stores and lists images and texts alike. `check_upload` picks the
checker from the bytes themselves (a zip starts with ``PK``), never from a name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from onegin.errors import ConfigError, ConfigErrors

UploadKind = Literal["images", "text"]
MAX_NAMED_PROBLEMS = 200
"""Most bad files or lines one refusal names; the rest are counted (bounds the response)."""


@dataclass(frozen=True)
class PreviewImage:
    """A small PNG of one example, labelled with its class."""

    label: str
    png: bytes


@dataclass(frozen=True)
class CheckedUpload:
    """An upload that passed every check, in the form the store keeps.

    ``data`` is canonical (a zip of ``class/file`` entries, stored, fixed dates; or
    ``label<TAB>text`` lines), so equal contents hash equal and the worker's cache
    keyed by that hash is shared.
    """

    kind: UploadKind
    data: bytes
    class_counts: Mapping[str, int]
    preview_images: tuple[PreviewImage, ...] = ()
    preview_lines: tuple[tuple[str, str], ...] = ()
    skipped: tuple[str, ...] = field(default=())
    """Files left out on purpose (``__MACOSX/``, ``.DS_Store``…), for the record."""

    @property
    def samples(self) -> int:
        return sum(self.class_counts.values())

    @property
    def file_name(self) -> str:
        """The stored object's name: what the worker fetches."""
        return "data.zip" if self.kind == "images" else "data.tsv"


class Problems:
    """Collects every problem of an upload, then refuses it naming them all at once."""

    def __init__(self) -> None:
        self._errors: list[ConfigError] = []
        self._more = 0

    def add(self, where: str, reason: str) -> None:
        if len(self._errors) < MAX_NAMED_PROBLEMS:
            self._errors.append(ConfigError(where, reason))
        else:
            self._more += 1

    def __bool__(self) -> bool:
        return bool(self._errors)

    def raise_if_any(self) -> None:
        if not self._errors:
            return
        errors = list(self._errors)
        if self._more:
            errors.append(ConfigError("more", f"{self._more} more problems are not listed"))
        raise ConfigErrors(errors)


def refuse(where: str, reason: str) -> ConfigErrors:
    """One problem that stops the check at once (not a zip, too big to unpack…)."""
    return ConfigErrors([ConfigError(where, reason)])


def check_upload(data: bytes, *, max_unpacked_bytes: int) -> CheckedUpload:
    """Check an upload whatever its kind; raises `ConfigErrors` naming every problem.

    A zip is a folder of images per class; anything else is ``label<TAB>text`` or
    ``label,text`` lines. ``max_unpacked_bytes`` bounds what a zip may expand to.
    """
    # the checkers import this module's types
    from onegin.uploads.image_zip import check_image_zip
    from onegin.uploads.labelled_text import check_labelled_text

    if not data:
        raise refuse("file", "is empty")
    if data[:4] == b"PK\x03\x04" or data[:4] == b"PK\x05\x06":
        return check_image_zip(data, max_unpacked_bytes=max_unpacked_bytes)
    return check_labelled_text(data)
