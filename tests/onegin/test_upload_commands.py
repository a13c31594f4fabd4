"""`onegin dataset upload|list|delete`, run as the command it is, on a local artifact store."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.fixtures.upload_files import COLOURS, class_zip, png_bytes, zip_bytes

REPO = Path(__file__).resolve().parents[2]


def onegin(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "onegin.cli", "dataset", *args], capture_output=True, text=True,
        cwd=REPO, timeout=120, check=False,
        env=os.environ | {"ONEGIN_HOME": str(home), "COLUMNS": "200"})


def test_upload_list_and_delete(tmp_path: Path) -> None:
    home = tmp_path / "home"
    data = tmp_path / "colours.zip"
    data.write_bytes(class_zip(per_class=3))
    done = onegin("upload", str(data), "--name", "colours", home=home)
    assert done.returncode == 0, done.stderr
    dataset = done.stdout.strip()
    assert dataset.startswith("upload:") and "2 classes, 6 samples" in done.stderr
    upload_id = dataset.partition(":")[2]
    listed = onegin("list", home=home).stdout.splitlines()
    assert listed[0].split()[:4] == ["ID", "NAME", "KIND", "CLASSES"]
    assert listed[1].split()[:5] == [upload_id, "colours", "images", "2", "6"]
    assert onegin("delete", upload_id, home=home).returncode == 0
    assert onegin("list", home=home).stdout.splitlines()[1:] == []
    assert not list((home / "artifacts").glob("datasets*/**/*.zip"))


def test_a_bad_upload_names_each_bad_file_and_exits_2(tmp_path: Path) -> None:
    home = tmp_path / "home"
    data = tmp_path / "bad.zip"
    data.write_bytes(zip_bytes({"red/0.png": png_bytes(COLOURS["red"]), "red/a.txt": b"x",
                                "blue/": None}))
    done = onegin("upload", str(data), home=home)
    assert done.returncode == 2
    lines = done.stderr.splitlines()
    assert any(line.startswith("invalid red/a.txt: is not an image") for line in lines), lines
    assert "invalid blue/: is an empty class folder (no images)" in lines
    assert onegin("list", home=home).stdout.splitlines()[1:] == []


def test_a_file_over_the_size_limit_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "big.tsv"
    data.write_bytes(b"a\tb\n" * 100)
    done = onegin("upload", str(data), "--set", "upload_max_bytes=100", home=tmp_path / "home")
    assert done.returncode == 2 and "over upload_max_bytes (100)" in done.stderr
