"""Writes raw/zju-alibaba-brochure.pdf: a brochure as labs print them, with a running header,
page numbers and words hyphenated across lines, so the PDF loader is measured on real layout.

    python tests/eval/make_raw_pdf.py        (needs fpdf2, in the [test] extra)
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/, for the shared PDF writer
from docs import brochure_pdf  # noqa: E402

HEADER = "Zhejiang University and Alibaba | Cooperation Brochure"

# (heading, paragraphs); a "~" marks where a word is broken with a hyphen at the end of a line.
SECTIONS = [
    ("A Partnership Between Neighbours", [
        "The School of Software Technology of Zhejiang University and Alibaba Group have a long record of "
        "school-enterprise cooperation.",
        "On March 27, 2020 the two sides signed the Zhejiang University-Alibaba Group Comprehensive Strategic "
        "Cooperation Framework Agreement at Alibaba's Xixi Park. It opened the second phase of their strategic "
        "co~operation, after a first agreement signed in May 2017.",
    ]),
    ("Joint Institute of Frontier Technologies", [
        "The Alibaba-Zhejiang University Joint Institute of Frontier Technologies was set up in April 2017. "
        "Professor Bu Jiajun, executive vice-president of the School of Software Technology, serves as its "
        "deputy director.",
        "Under the 2020 agreement the institute is being up~graded.",
    ]),
    ("Research Together", [
        "Taking part in China's push for new infrastructure, the partners plan joint research on 5G-based "
        "Internet of Things, industrial Internet, smart parks, the Internet of Vehicles, smart medicine and "
        "smart logistics.",
        "Eleven senior technical experts from Alibaba have become part-time PhD supervisors at Zhejiang "
        "University, and each of them may recruit full-time doctoral students.",
        "In November 2019 the two schools and Alibaba published the enrolment brochure of the 2020 PhD "
        "programme in Intelligent Internet Technology.",
    ]),
    ("Training Talent", [
        "The Zhejiang University-Alibaba Joint Training Base for Innovative Talents was approved by the "
        "provincial Ministry of Education in December 2019, making it a joint training base for post~graduate "
        "students in Zhejiang.",
    ]),
]


def write_pdf(path: Path) -> Path:
    # Two sections a page; "~" marks a word broken with a hyphen at the end of a line.
    pages = []
    for i, (heading, paragraphs) in enumerate(SECTIONS):
        lines = [f"## {heading}"] + [part + "-" if n < len(p.split("~")) - 1 else part
                                     for p in paragraphs for n, part in enumerate(p.split("~"))]
        if i % 2 == 0:
            pages.append(lines)
        else:
            pages[-1].extend(lines)
    return brochure_pdf(path, pages, header=HEADER, title="Zhejiang University and Alibaba: Cooperation Brochure",
                        author="Zhejiang University School of Software Technology")


if __name__ == "__main__":
    print(write_pdf(Path(__file__).parent / "raw" / "zju-alibaba-brochure.pdf"))
