"""render_report writes the HTML page, the PDF, analysis.json and the plots."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from onegin.errors import ConfigErrors
from orchestrator.comparison.report import render_report
from tests.orchestrator.comparison.summaries import example, holdout, summary

PNG = b"\x89PNG\r\n\x1a\n"


def test_the_example_renders_every_file(tmp_path: Path) -> None:
    files = render_report(example(), tmp_path / "report")
    assert {p.name for p in files.paths} == {
        "report.html", "report.pdf", "analysis.json", "differences.png", "correlations.png",
        "health_vs_gap.png"}
    assert all(p.parent == tmp_path / "report" for p in files.paths)
    html = files.html.read_text()
    assert "<table>" in html and "worst-class accuracy (higher is better)" in html
    assert "No difference between the arms&#39; best models is established" in html  # 3 seeds
    assert html.count('src="data:image/png;base64,') == 3  # self-contained
    assert files.pdf.read_bytes().startswith(b"%PDF")
    assert json.loads(files.analysis.read_text())["id"] == "cmp-digits-example"
    for plot in files.plots:
        assert plot.read_bytes().startswith(PNG)


def test_verdicts_and_the_learner_section_reach_both_documents(tmp_path: Path) -> None:
    lower = [0.04, 0.03, 0.05, 0.045, 0.035, 0.04, 0.05, 0.03]
    files = render_report(summary([holdout(ece=0.10) for _ in lower],
                                  [holdout(ece=0.10 - d) for d in lower]), tmp_path)
    html = files.html.read_text()
    verdict = "The health-aware search&#39;s best models were better calibrated: ECE 0.040 lower"
    assert verdict in html
    assert '<tr class="marked"><td>ECE (lower is better)' in html
    assert "What this means, for a learner" in html
    pdf = files.pdf.read_bytes()
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000


def test_a_bad_summary_names_the_field_and_writes_nothing(tmp_path: Path) -> None:
    data = example()
    data["arms"]["health"]["runs"][0]["trials"][0]["holdout"] = {"accuracy": 0.9}
    with pytest.raises(ConfigErrors) as caught:
        render_report(data, tmp_path / "out")
    assert caught.value.as_dict()["arms.health.runs[0].trials[0].holdout.ece"] == "is missing"
    assert not (tmp_path / "out").exists()
