"""The report as a PDF, laid out from the same blocks as the HTML page.

fpdf2: pure Python (its dependencies are Pillow and fontTools, wheels on PyPI), so it needs no
system library, unlike WeasyPrint (Pango) or xhtml2pdf's SVG stack (Cairo). It flows text over
pages, splits tables with their headings repeated, and embeds the PNGs. Its core fonts are
Latin-1 only, so the text (τ, −, ×) is set in DejaVu Sans, which matplotlib ships.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib
from fpdf import FPDF
from fpdf.fonts import FontFace

from orchestrator.comparison.content import (
    Block,
    Bullets,
    Document,
    Paragraph,
    Plot,
    Subheading,
    Table,
)

FONT = "DejaVu"
FONT_DIR = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
MARKED_FILL = (234, 246, 234)
HEADING_FILL = (243, 243, 243)


def _table(pdf: FPDF, table: Table) -> None:
    size = 8 if len(table.header) <= 5 else 6.5
    pdf.set_font(FONT, size=size)
    with pdf.table(headings_style=FontFace(emphasis="BOLD", fill_color=HEADING_FILL),
                   line_height=size * 0.5, text_align="LEFT",
                   col_widths=(2.0, *[1.0] * (len(table.header) - 1))) as rows:
        rows.row(list(table.header))
        for row, marked in zip(table.rows, table.marked, strict=True):
            style = FontFace(emphasis="BOLD", fill_color=MARKED_FILL) if marked else None
            rows.row(list(row), style=style)
    pdf.ln(3)


def _text(pdf: FPDF, text: str, size: float, style: str = "", height: float = 5) -> None:
    pdf.set_font(FONT, style, size)
    pdf.multi_cell(0, height, text, new_x="LMARGIN", new_y="NEXT")


def _block(pdf: FPDF, block: Block, out_dir: Path) -> None:
    match block:
        case Table():
            _table(pdf, block)
        case Plot():
            pdf.image(str(out_dir / block.file), w=pdf.epw)
            _text(pdf, block.caption, 8, height=4)
            pdf.ln(3)
        case Subheading():
            _text(pdf, block.text, 11, "B", 6)
        case Bullets():
            for item in block.items:
                _text(pdf, f"•  {item}", 9.5)
            pdf.ln(2)
        case Paragraph():
            _text(pdf, block.text, 9.5)
            pdf.ln(2)


def write_pdf(document: Document, out_dir: Path, path: Path) -> Path:
    """Writes ``document`` to ``path``; plots are read from ``out_dir``."""
    pdf = FPDF(format="A4")
    pdf.set_title(document.title)
    pdf.add_font(FONT, "", str(FONT_DIR / "DejaVuSans.ttf"))
    pdf.add_font(FONT, "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    _text(pdf, document.title, 15, "B", 8)
    for section in document.sections:
        pdf.ln(3)
        _text(pdf, section.title, 13, "B", 7)
        for block in section.blocks:
            _block(pdf, block, out_dir)
    pdf.output(str(path))
    return path
