"""Small documents the tests write, and real PDFs (one built by hand, brochures built with fpdf2)."""

from __future__ import annotations

from pathlib import Path


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def brochure_pdf(path: Path, pages: list[list[str]], *, header: str, title: str, author: str = "") -> Path:
    """A PDF as labs print them (fpdf2): a running header and "Page N of M" on every page; a line
    starting "## " is a bold heading; a line ending in "-" is a word hyphenated across lines."""
    from fpdf import FPDF

    class Brochure(FPDF):
        def header(self):
            self.set_font("Helvetica", "I", 9)
            self.cell(0, 8, header, align="C")
            self.ln(12)

        def footer(self):
            self.set_y(-15)
            self.set_font("Helvetica", "", 9)
            self.cell(0, 8, f"Page {self.page_no()} of {{nb}}", align="C")

    pdf = Brochure()
    pdf.set_title(title)
    pdf.set_author(author)
    pdf.set_auto_page_break(True, margin=20)
    for lines in pages:
        pdf.add_page()
        for line in lines:
            heading = line.startswith("## ")
            pdf.set_font("Helvetica", "B" if heading else "", 14 if heading else 11)
            pdf.multi_cell(0, 8 if heading else 6, line.removeprefix("## "), new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))
    return path


def pdf_bytes(lines: list[str]) -> bytes:
    """A valid one-page PDF whose text layer holds `lines` (ASCII, and the ligatures "ﬁ" and "ﬂ", which
    are drawn as the font's /fi and /fl glyphs, as word processors write them)."""
    def escape(ln: str) -> str:
        ln = ln.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        return ln.replace("\ufb01", "\\001").replace("\ufb02", "\\002")

    content = "BT /F1 12 Tf 72 720 Td 14 TL " + " ".join("(" + escape(ln) + ") '" for ln in lines) + " ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        "/Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(content)} >>\nstream\n{content}\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding << /Type /Encoding "
        "/BaseEncoding /WinAnsiEncoding /Differences [1 /fi /fl] >> >>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for i, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n{body}\nendobj\n".encode()
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


CAMPUS_A = """---
title: Campus facts
topic: campus
updated: 2024-01-02
url: https://example.org/campus
---

# Campus facts

## Land

The research park covers 90.5 hectares, which is 1,358 mu, on the edge of the city.
"""

CAMPUS_B = """# Land grant

The provincial government granted 1,500 mu of land for the research park and its laboratories.
"""

HIRING = """---
title: Hiring
topic: positions
---

# Hiring

The institute hires marine biologists and oceanographers for its coral reef programme.
Applications go to jobs@reef.example by email.
"""
