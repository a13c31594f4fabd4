"""Datasets people upload: checked on upload, kept in the artifact store, named by jobs.

``checked`` (what an accepted upload is, `check_upload`), ``image_zip`` and
``labelled_text`` (the pure checks, naming every bad file or line), ``catalogue``
(the store layout: staged, committed, listed, deleted) and ``specs`` (the
``upload:<id>`` spec for `onegin.datasets.get_spec`). The GPU worker fetches the
data into its cache (gpu_worker/datasets/uploads.py). See docs/datasets.md.
"""
