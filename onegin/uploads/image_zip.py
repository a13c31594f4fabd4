"""Check a zip of one folder per class of images, and rewrite it in canonical form (pure).

Every entry is judged before a byte is unpacked: absolute paths, ``..``,
backslashes, symbolic links and encrypted entries are refused, and a zip whose
entries declare more than ``max_unpacked_bytes`` in all is refused whole (a zip
bomb). Each image is then read with a cap one byte over its declared size, so an
entry that lies about its size is caught as it unpacks, and decoded with Pillow
unless its header declares more than `MAX_PIXELS`.
"""

from __future__ import annotations

import io
import stat
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass

from onegin.dataset_files import IMAGE_EXTENSIONS
from onegin.uploads.checked import CheckedUpload, PreviewImage, Problems, refuse

MAX_ENTRIES = 200_000
PREVIEW_PER_CLASS = 2
PREVIEW_MAX = 12
THUMBNAIL_PX = 64
MAX_PIXELS = 25_000_000
"""Largest image decoded (5000x5000): a tiny PNG can declare a huge canvas, and a model
sees 32x32 anyway."""
_JUNK_NAMES = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})
_FIXED_DATE = (1980, 1, 1, 0, 0, 0)  # canonical entries: equal images, equal zip bytes


def member_problem(info: zipfile.ZipInfo) -> str | None:
    """Why an entry may not be unpacked anywhere (None: its name and kind are safe)."""
    name = info.filename
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return "is an absolute path"
    if "\\" in name:
        return "has a backslash in its path"
    if any(part == ".." for part in name.split("/")):
        return "leaves the archive ('..' in its path)"
    if any(ord(ch) < 0x20 for ch in name):
        return "has a control character in its name"
    if stat.S_ISLNK(info.external_attr >> 16):
        return "is a symbolic link"
    if info.flag_bits & 0x1:
        return "is encrypted"
    return None


def _is_junk(parts: list[str]) -> bool:
    """Files an archiver adds by itself (macOS resource forks, Windows thumbnails)."""
    return parts[0] == "__MACOSX" or parts[-1] in _JUNK_NAMES or parts[-1].startswith("._")


@dataclass
class _Entry:
    info: zipfile.ZipInfo
    parts: list[str]


def check_image_zip(data: bytes, *, max_unpacked_bytes: int) -> CheckedUpload:
    """Check the class folders of ``data``; raises `ConfigErrors` naming every bad file."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError) as exc:
        raise refuse("file", f"is not a readable zip archive ({exc})") from None
    if len(infos) > MAX_ENTRIES:
        raise refuse("file", f"has {len(infos):,} entries, more than {MAX_ENTRIES:,}")
    declared = sum(info.file_size for info in infos)
    if declared > max_unpacked_bytes:
        raise refuse("file", f"declares {declared:,} bytes unpacked, over the limit of "
                             f"{max_unpacked_bytes:,} (a zip bomb?)")
    problems = Problems()
    files, folders, skipped = _entries(infos, problems)
    files, folders = _strip_wrapper(files, folders)
    return _read_classes(archive, files, folders, skipped, problems, max_unpacked_bytes)


def _entries(infos: list[zipfile.ZipInfo], problems: Problems
             ) -> tuple[list[_Entry], set[str], list[str]]:
    files: list[_Entry] = []
    folders: set[str] = set()
    skipped: list[str] = []
    for info in infos:
        reason = member_problem(info)
        if reason is not None:
            problems.add(info.filename, reason)
            continue
        parts = [part for part in info.filename.split("/") if part not in ("", ".")]
        if not parts:
            continue
        if _is_junk(parts):
            skipped.append(info.filename)
        elif info.is_dir():
            folders.add("/".join(parts))
        else:
            files.append(_Entry(info, parts))
    return files, folders, skipped


def _strip_wrapper(files: list[_Entry], folders: set[str]) -> tuple[list[_Entry], set[str]]:
    """Zipping a folder puts everything under its name: look inside it for the classes."""
    tops = {entry.parts[0] for entry in files} | {folder.split("/")[0] for folder in folders}
    if len(tops) != 1 or not files or any(len(entry.parts) < 3 for entry in files):
        return files, folders
    top = tops.pop()
    inner = {folder[len(top) + 1:] for folder in folders if folder != top}
    return [_Entry(entry.info, entry.parts[1:]) for entry in files], inner


def _read_classes(archive: zipfile.ZipFile, files: list[_Entry], folders: set[str],
                  skipped: list[str], problems: Problems, max_unpacked: int) -> CheckedUpload:
    counts: Counter[str] = Counter()
    seen_classes = {folder.split("/")[0] for folder in folders}
    good: list[tuple[str, bytes]] = []
    previews: list[PreviewImage] = []
    unpacked = 0
    for entry in files:
        name = entry.info.filename
        if len(entry.parts) < 2:
            problems.add(name, "is not inside a class folder")
            continue
        label = entry.parts[0]
        seen_classes.add(label)
        suffix = "." + entry.parts[-1].rsplit(".", 1)[-1].lower() if "." in entry.parts[-1] else ""
        if suffix not in IMAGE_EXTENSIONS:
            problems.add(name, "is not an image (images end in "
                               f"{', '.join(sorted(IMAGE_EXTENSIONS))})")
            continue
        raw, unreadable = _unpack(archive, entry.info)
        if raw is None:
            problems.add(name, unreadable)
            continue
        unpacked += len(raw)
        if unpacked > max_unpacked:
            raise refuse("file", f"unpacks to more than {max_unpacked:,} bytes (a zip bomb?)")
        image, reason = _decode(raw, want_thumbnail=_wants_preview(previews, label))
        if reason is not None:
            problems.add(name, reason)
            continue
        counts[label] += 1
        good.append(("/".join(entry.parts), raw))
        if image is not None:
            previews.append(PreviewImage(label, image))
    for label in sorted(seen_classes - set(counts)):
        if not any(entry.parts[0] == label and len(entry.parts) > 1 for entry in files):
            problems.add(f"{label}/", "is an empty class folder (no images)")
    if len(counts) < 2:
        problems.add("file", f"needs at least 2 class folders with images, found "
                             f"{sorted(counts) or 'none'}")
    problems.raise_if_any()
    return CheckedUpload("images", _canonical_zip(good), dict(sorted(counts.items())),
                         preview_images=tuple(previews), skipped=tuple(skipped))


def _unpack(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> tuple[bytes | None, str]:
    """The entry's bytes, read at most one byte past its declared size."""
    try:
        with archive.open(info) as member:
            raw = member.read(info.file_size + 1)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError,
            OSError) as exc:
        return None, f"is unreadable ({exc})"
    if len(raw) > info.file_size:
        return None, f"unpacks to more than its declared {info.file_size:,} bytes (a zip bomb?)"
    return raw, ""


def _wants_preview(previews: list[PreviewImage], label: str) -> bool:
    return (len(previews) < PREVIEW_MAX
            and sum(1 for p in previews if p.label == label) < PREVIEW_PER_CLASS)


def _decode(raw: bytes, *, want_thumbnail: bool) -> tuple[bytes | None, str | None]:
    """Decode the image whole (a bad tail shows only then); a PNG thumbnail if wanted."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(raw)) as img:
            if img.width * img.height > MAX_PIXELS:
                return None, (f"is {img.width}x{img.height} pixels, more than "
                              f"{MAX_PIXELS:,} (a decompression bomb?)")
            img.load()
            if not want_thumbnail:
                return None, None
            thumb = img.convert("RGB")
    except Exception as exc:  # Pillow raises many kinds for bad bytes; any is "not an image"
        return None, f"is not an image Pillow can decode ({type(exc).__name__}: {exc})"
    thumb.thumbnail((THUMBNAIL_PX, THUMBNAIL_PX))
    out = io.BytesIO()
    thumb.save(out, format="PNG")
    return out.getvalue(), None


def _canonical_zip(members: list[tuple[str, bytes]]) -> bytes:
    """``class/file`` entries, sorted, stored (images are compressed already), fixed dates."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        for name, raw in sorted(members):
            info = zipfile.ZipInfo(name, date_time=_FIXED_DATE)
            info.external_attr = 0o644 << 16
            archive.writestr(info, raw)
    return out.getvalue()
