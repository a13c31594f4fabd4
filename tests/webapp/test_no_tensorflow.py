"""Serving requests never imports TensorFlow: jobs, studies and downloads all stay light."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = """
import sys
from onegin.records.migrate import upgrade
from onegin.settings import load_settings
from webapp.app import create_app

home = sys.argv[1]
url = f"sqlite:///{home}/web.db"
upgrade(url)
app = create_app(load_settings(env={}, overrides={
    "home": home, "database_url": url, "broker_url": "memory://", "auth": "off"}))
client = app.test_client()
job = client.post("/api/v1/jobs", json={"dataset": "imdb", "trials": 1}).get_json()
for path in ("/api/v1/datasets", "/api/v1/search-space", "/api/v1/hyperparameters",
             "/api/v1/scoring",
             f"/api/v1/jobs/{job['id']}", f"/api/v1/jobs/{job['id']}/trials",
             f"/api/v1/jobs/{job['id']}/study", f"/api/v1/jobs/{job['id']}/best",
             "/api/v1/readyz", "/metrics", "/"):
    assert client.get(path).status_code < 500, path
print("tensorflow" in sys.modules, "keras" in sys.modules)
"""


def test_requests_do_not_import_tensorflow(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path)], capture_output=True,
                         text=True, timeout=120, check=True,
                         cwd=Path(__file__).resolve().parents[2]).stdout.split()
    assert out[-2:] == ["False", "False"]
