"""Small documents the tests write, and a real (minimal) PDF built by hand."""

from __future__ import annotations

from pathlib import Path


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def pdf_bytes(lines: list[str]) -> bytes:
    """A valid one-page PDF whose text layer holds `lines` (ASCII)."""
    content = "BT /F1 12 Tf 72 720 Td 14 TL " + " ".join(
        "(" + ln.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ") '" for ln in lines) + " ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        "/Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(content)} >>\nstream\n{content}\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
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
