"""Renders a comparison's report: HTML page, PDF, analysis.json and the plot PNGs.

The thin I/O shell around the pure parts: check the summary, analyse it, build the content
once, then write it out. The HTML is one self-contained file (inline CSS, plots embedded as
data URIs), so it reads the same downloaded as served; the PNGs are also written beside it for
anyone who wants them alone.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from orchestrator.comparison.analysis import analyse
from orchestrator.comparison.content import build_document
from orchestrator.comparison.pdf import write_pdf
from orchestrator.comparison.plots import render_plots
from orchestrator.comparison.summary import parse_summary

_TEMPLATES = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                         autoescape=select_autoescape(["html"]))


@dataclass(frozen=True)
class ReportFiles:
    """The files one report wrote, all inside its ``out_dir``."""

    html: Path
    pdf: Path
    analysis: Path
    plots: tuple[Path, ...]

    @property
    def paths(self) -> tuple[Path, ...]:
        return (self.html, self.pdf, self.analysis, *self.plots)


def _data_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def render_report(summary: dict[str, Any], out_dir: Path) -> ReportFiles:
    """Writes the report of ``summary`` (the comparison summary, docs/api.md) into ``out_dir``.

    Raises `onegin.errors.ConfigErrors` naming every bad field before writing anything.
    """
    analysis = analyse(parse_summary(summary))
    out_dir.mkdir(parents=True, exist_ok=True)
    plots = render_plots(analysis, out_dir)
    document = build_document(analysis, {p.stem: p.name for p in plots})
    analysis_path = out_dir / "analysis.json"
    analysis_path.write_text(json.dumps(analysis.to_dict(), indent=2, ensure_ascii=False,
                                        allow_nan=False), encoding="utf-8")
    html_path = out_dir / "report.html"
    html_path.write_text(_TEMPLATES.get_template("report.html").render(
        document=document, images={p.name: _data_uri(p) for p in plots}), encoding="utf-8")
    pdf_path = write_pdf(document, out_dir, out_dir / "report.pdf")
    return ReportFiles(html_path, pdf_path, analysis_path, plots)
