"""Check a ``label<TAB>text`` or ``label,text`` file and rewrite it as tab-separated (pure).

Every bad line is named by its number. The stored form is what
`onegin.dataset_files.read_labelled_text` reads on the worker: one ``label<TAB>text``
per line, tabs and line breaks inside a text turned into spaces, no header.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterator

from onegin.dataset_files import looks_like_header
from onegin.errors import shown
from onegin.uploads.checked import CheckedUpload, Problems

PREVIEW_PER_CLASS = 2
PREVIEW_MAX = 10
PREVIEW_CHARS = 200


def check_labelled_text(data: bytes) -> CheckedUpload:
    """Check every line of ``data``; raises `ConfigErrors` naming each bad line."""
    problems = Problems()
    text = _decode(data, problems)
    counts: Counter[str] = Counter()
    lines: list[str] = []
    preview: list[tuple[str, str]] = []
    first = True
    for where, label, body in _rows(text, problems):
        if first:
            first = False
            if looks_like_header(label, body):
                continue
        if not label:
            problems.add(where, "has an empty label")
            continue
        body = " ".join(body.split())
        counts[label] += 1
        lines.append(f"{label}\t{body}\n")
        if len(preview) < PREVIEW_MAX and sum(p[0] == label for p in preview) < PREVIEW_PER_CLASS:
            preview.append((label, body[:PREVIEW_CHARS]))
    if len(counts) < 2:
        problems.add("file", f"needs at least 2 distinct labels, found {sorted(counts)}")
    problems.raise_if_any()
    return CheckedUpload("text", "".join(lines).encode(), dict(sorted(counts.items())),
                         preview_lines=tuple(preview))


def _decode(data: bytes, problems: Problems) -> str:
    """The text, with each line that is not UTF-8 named (and read with replacements)."""
    for number, raw in enumerate(data.split(b"\n"), start=1):
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            problems.add(f"line {number}", "is not UTF-8 text")
    return data.decode("utf-8-sig", errors="replace")


def _rows(text: str, problems: Problems) -> Iterator[tuple[str, str, str]]:
    """(where, label, text) of each non-blank line; tab-separated when the first is."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    if "\t" in first:
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            label, sep, body = line.partition("\t")
            if not sep:
                problems.add(f"line {number}", f"expected 'label<TAB>text', got {shown(line)}")
                continue
            yield f"line {number}", label.strip(), body
        return
    reader = csv.reader(io.StringIO(text, newline=""))
    start = 1
    try:
        for row in reader:
            where = f"line {start}"
            start = reader.line_num + 1
            if not any(cell.strip() for cell in row):
                continue
            extra = [cell for cell in row[2:] if cell.strip()]
            if len(row) < 2 or extra:
                problems.add(where, f"expected 2 columns 'label,text' (quote a text that holds "
                                    f"commas), got {len(row) - len(row[2:]) + len(extra)}")
                continue
            yield where, row[0].strip(), row[1]
    except csv.Error as exc:
        problems.add(f"line {start}", f"is not valid CSV ({exc})")
