"""The upload checks: a good zip or text file becomes canonical data with its classes and
preview; a bad one is refused naming every bad file or line at once."""

from __future__ import annotations

import io
import zipfile

import pytest

from onegin.errors import ConfigErrors
from onegin.uploads.checked import check_upload
from tests.fixtures.upload_files import (
    COLOURS,
    class_zip,
    labelled_lines,
    png_bytes,
    zip_bytes,
)

LIMIT = 10_000_000


def refused(data: bytes, limit: int = LIMIT) -> dict[str, str]:
    with pytest.raises(ConfigErrors) as caught:
        check_upload(data, max_unpacked_bytes=limit)
    return caught.value.as_dict()


def test_a_zip_of_class_folders_inside_a_wrapper_folder_is_read_as_its_classes() -> None:
    data = zip_bytes({
        "mine/red/0.png": png_bytes(COLOURS["red"]),
        "mine/red/1.PNG": png_bytes(COLOURS["red"], shade=5),
        "mine/blue/a/deep.png": png_bytes(COLOURS["blue"]),
        "mine/blue/.DS_Store": b"junk",
        "__MACOSX/mine/red/._0.png": b"junk",
    })
    checked = check_upload(data, max_unpacked_bytes=LIMIT)
    assert checked.kind == "images"
    assert checked.class_counts == {"blue": 1, "red": 2}
    names = zipfile.ZipFile(io.BytesIO(checked.data)).namelist()
    assert names == ["blue/a/deep.png", "red/0.png", "red/1.PNG"]
    assert [p.label for p in checked.preview_images] == ["red", "red", "blue"]
    assert all(p.png.startswith(b"\x89PNG") for p in checked.preview_images)
    assert set(checked.skipped) == {"mine/blue/.DS_Store", "__MACOSX/mine/red/._0.png"}


def test_equal_contents_give_equal_canonical_bytes() -> None:
    first = check_upload(class_zip(), max_unpacked_bytes=LIMIT)
    again = check_upload(class_zip(wrapper="other/"), max_unpacked_bytes=LIMIT)
    assert first.data == again.data


def test_every_bad_file_is_named_at_once() -> None:
    problems = refused(zip_bytes({
        "red/0.png": png_bytes(COLOURS["red"]),
        "red/notes.txt": b"not a picture",
        "red/broken.png": b"\x89PNG\r\n\x1a\nthen garbage",
        "blue/0.png": png_bytes(COLOURS["blue"]),
        "green/": None,
        "loose.png": png_bytes(COLOURS["red"]),
        "../escape.png": png_bytes(COLOURS["red"]),
        "/etc/absolute.png": png_bytes(COLOURS["red"]),
        "red\\windows.png": png_bytes(COLOURS["red"]),
    }, symlinks={"blue/link.png": "/etc/passwd"}))
    assert problems.keys() == {"red/notes.txt", "red/broken.png", "green/", "loose.png",
                               "../escape.png", "/etc/absolute.png", "red\\windows.png",
                               "blue/link.png"}
    assert problems["red/notes.txt"].startswith("is not an image")
    assert problems["red/broken.png"].startswith("is not an image Pillow can decode")
    assert problems["green/"] == "is an empty class folder (no images)"
    assert problems["loose.png"] == "is not inside a class folder"
    assert "'..'" in problems["../escape.png"]
    assert problems["/etc/absolute.png"] == "is an absolute path"
    assert problems["blue/link.png"] == "is a symbolic link"


def test_one_class_is_not_enough() -> None:
    problems = refused(class_zip(classes=("red",)))
    assert problems == {"file": "needs at least 2 class folders with images, found ['red']"}


def test_a_zip_declaring_more_than_the_limit_unpacked_is_refused_before_unpacking() -> None:
    bomb = zip_bytes({"red/0.png": b"\0" * 2_000_000, "blue/0.png": png_bytes(COLOURS["blue"])})
    assert len(bomb) < 20_000  # zeros deflate to almost nothing
    problems = refused(bomb, limit=1_000_000)
    assert problems.keys() == {"file"} and "declares 2,0" in problems["file"]
    assert "zip bomb" in problems["file"]


def test_an_entry_that_unpacks_past_its_declared_size_is_refused() -> None:
    """The central directory says 100 bytes; the data inflates to 2 MB."""
    data = bytearray(zip_bytes({"red/0.png": b"\0" * 2_000_000,
                                "blue/0.png": png_bytes(COLOURS["blue"])}))
    central = data.index(b"PK\x01\x02")  # the first entry's central record
    data[central + 24:central + 28] = (100).to_bytes(4, "little")
    problems = refused(bytes(data), limit=1_000_000)
    assert "red/0.png" in problems, problems
    assert "unreadable" in problems["red/0.png"] or "declared" in problems["red/0.png"]


def test_a_file_that_is_neither_zip_nor_text_lines_names_its_lines() -> None:
    assert refused(b"") == {"file": "is empty"}
    assert "line 1" in refused(b"\xff\xfe\x00binary")


def test_a_labelled_text_file_is_rewritten_as_tab_separated_lines() -> None:
    checked = check_upload(labelled_lines(per_class=3), max_unpacked_bytes=LIMIT)
    assert checked.kind == "text"
    assert checked.class_counts == {"ham": 3, "spam": 3}
    lines = checked.data.decode().splitlines()
    assert len(lines) == 6 and all(line.count("\t") == 1 for line in lines)
    assert checked.preview_lines[0][0] == "spam"


def test_a_csv_file_with_quoted_commas_and_line_breaks_is_read() -> None:
    data = b'label,text\nspam,"WIN, now\ncall"\nham,hello there\n'
    checked = check_upload(data, max_unpacked_bytes=LIMIT)
    assert checked.data == b"spam\tWIN, now call\nham\thello there\n"


def test_every_bad_text_line_is_named_by_its_number() -> None:
    data = b"spam\tbuy now\nno tab on this line\nham\thi\n\tno label\nham\tfine\xff\n"
    assert refused(data) == {
        "line 2": "expected 'label<TAB>text', got 'no tab on this line'",
        "line 4": "has an empty label",
        "line 5": "is not UTF-8 text",
    }


def test_a_csv_row_with_too_many_columns_is_named() -> None:
    problems = refused(b"spam,buy,now\nham,hi\nspam,ok\n")
    assert problems.keys() == {"line 1"} and "2 columns" in problems["line 1"]


def test_a_text_file_with_one_label_is_refused() -> None:
    assert refused(b"spam\ta\nspam\tb\n") == {
        "file": "needs at least 2 distinct labels, found ['spam']"}


def test_an_image_declaring_a_huge_canvas_is_not_decoded() -> None:
    from PIL import Image

    out = io.BytesIO()
    Image.new("1", (6000, 5000)).save(out, format="PNG")  # 30 M pixels in a few kB
    problems = refused(zip_bytes({"red/huge.png": out.getvalue(),
                                  "red/0.png": png_bytes(COLOURS["red"]),
                                  "blue/0.png": png_bytes(COLOURS["blue"])}))
    assert problems == {"red/huge.png": "is 6000x5000 pixels, more than 25,000,000 "
                                        "(a decompression bomb?)"}
