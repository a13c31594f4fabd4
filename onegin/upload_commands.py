"""``onegin dataset upload|list|delete``: uploaded datasets, straight in the artifact store.

The command line acts as the local user (an operator holding the store's
credentials): its uploads belong to no token, it lists and deletes every upload,
and no per-token quota applies; the upload size limit and every check do. The
web API (``/api/v1/uploads``) is the way for a token's own uploads.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.console import Console

from onegin.cli import add_settings_flags, settings_from_args
from onegin.errors import ConfigError

console = Console(stderr=True)


def add_dataset_parser(sub: Any) -> None:
    p = sub.add_parser("dataset", help="uploaded datasets: upload, list, delete")
    actions = p.add_subparsers(dest="action", required=True)
    upload = actions.add_parser(
        "upload", help="check and store a zip of class folders of images, or a "
        "label<TAB>text / label,text file; prints the name a job uses (upload:<id>)")
    upload.add_argument("path", type=Path, help="the .zip, .tsv, .txt or .csv file")
    upload.add_argument("--name", help="shown in lists (default: the file's name)")
    add_settings_flags(upload)
    upload.set_defaults(run=_run_upload)
    listing = actions.add_parser("list", help="every upload: id, name, kind, classes, "
                                 "samples, bytes, created")
    add_settings_flags(listing)
    listing.set_defaults(run=_run_list)
    delete = actions.add_parser("delete", help="delete an upload (jobs naming it fail)")
    delete.add_argument("id", help="the upload's id (from 'onegin dataset list')")
    add_settings_flags(delete)
    delete.set_defaults(run=_run_delete)


def _store(args: argparse.Namespace) -> tuple[Any, Any]:
    from onegin.services import Services

    settings = settings_from_args(args)
    return settings, Services(settings).artifacts


def _run_upload(args: argparse.Namespace) -> int:
    from onegin.uploads import catalogue
    from onegin.uploads.checked import check_upload

    settings, store = _store(args)
    path: Path = args.path
    try:
        size = path.stat().st_size
        if size > settings.upload_max_bytes:
            raise ConfigError("path", f"{path} is {size:,} bytes, over upload_max_bytes "
                                      f"({settings.upload_max_bytes:,})")
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError("path", f"cannot read {path}: {exc.strerror or exc}") from None
    checked = check_upload(data, max_unpacked_bytes=4 * settings.upload_max_bytes)
    dataset = catalogue.add(store, checked, name=args.name or path.name, owner=None)
    console.print(f"uploaded {dataset.name!r}: {len(dataset.classes)} classes, "
                  f"{dataset.samples:,} samples, {dataset.bytes:,} bytes; a job names it:")
    print(dataset.dataset, flush=True)
    return 0


def _run_list(args: argparse.Namespace) -> int:
    from onegin.uploads import catalogue

    _, store = _store(args)
    rows = [("ID", "NAME", "KIND", "CLASSES", "SAMPLES", "BYTES", "CREATED (UTC)")]
    rows += [(d.id, d.name, d.kind, str(len(d.classes)), str(d.samples), str(d.bytes),
              d.created_at[:16].replace("T", " "))
             for d in catalogue.list_uploads(store, None)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    return 0


def _run_delete(args: argparse.Namespace) -> int:
    from onegin.uploads import catalogue

    _, store = _store(args)
    catalogue.check_id(args.id)
    found = catalogue.find(store, args.id)
    if found is None:
        raise ConfigError("id", f"no upload {args.id!r} (see 'onegin dataset list')")
    catalogue.delete(store, found)
    console.print(f"upload {found.id} ({found.name}) deleted")
    return 0
