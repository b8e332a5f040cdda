"""Pages as research groups publish them (fictional groups, real formats), through the real loaders,
profile and chunker: whose page it is is known, every visible fact is kept and quotable, and no
template syntax is ever indexed.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.core import chunking, loaders
from bot.core.ingest import read
from conftest import ROOT
from docs import pdf_bytes, write

REALDOCS = ROOT.parent / "shared" / "realdocs" / "corpus"
TEMPLATE_LEFTOVERS = ("{%", "{{", "[comment]:", "&amp;", "&nbsp;")

JEKYLL_PAGE = """---
title: "Openings | 加入我们"
layout: textlay
permalink: /openings/
---
{% include base_path %}
{% comment %} TODO: update every spring {% endcomment %}
[comment]: <> (old deadline removed)

<div class="row">
<div class="col-sm-6">

#### <b>PhD students</b>

We recruit 2-4 PhD students each year in glacier hydrology &amp; remote sensing.
Please write to us by [email]({{ site.url }}{{ site.baseurl }}/contact/).&nbsp;Include a CV and the names of two referees.

<ul>
<li>Strong programming skills</li>
<li>Fieldwork experience in cold regions</li>
</ul>
</div>
<div class="col-sm-6">
#### <b>博士研究生</b>
课题组每年招收2至4名博士研究生。
</div>
</div>
"""

SITE_CONFIG = """title: Glacier Dynamics Group
author:
  name: Mira Okafor
description: We study ice.
"""

CONTACT_HTML = """<!DOCTYPE html><html><head><title>Contact | Kestrel Photonics Laboratory</title>
<meta property="og:site_name" content="Kestrel Photonics Laboratory"></head>
<body class="fixed-top-nav">
<header><nav class="navbar"><a class="navbar-brand" href="/">KPL</a>
<ul><li><a href="/">Home</a></li><li><a href="/people/">People</a></li></ul></nav></header>
<div class="container">
<main><article>
<h1>Contact</h1>
<p>Prospective students and postdocs are welcome to visit the laboratory. Please arrange a visit in advance
with the group administrator, who coordinates the calendar of the optical tables and the clean room.</p>
<p>Visitors should report to the reception on the ground floor of the physics building, where a
temporary badge is issued for the duration of the visit.</p>
</article></main>
<aside class="sidebar">
<div class="card"><h4>Principal investigator</h4>
<div>Prof. Dr. Lena Vogt</div>
<div>Phone +49 6151 16-20431</div>
<div>Room 203-525</div>
<div>61231 Darmstadt</div>
<div>lena.vogt[at]kestrel-photonics[dot]example</div>
</div></aside>
</div>
<footer><p>© 2025 Kestrel Photonics Laboratory. All rights reserved.</p></footer>
</body></html>
"""

HOMEPAGE = """---
title: About
author: Tomas Lindqvist
---
I am an assistant professor of computational linguistics. My group studies how children learn the
sounds of their first language, with models trained on recordings from daycare centres.

I am looking for a PhD student to start in autumn 2026. The position is fully funded for four years.

Email: tomas . lindqvist AT northgate-uni . edu
"""

FAQ_FRONT_MATTER = """---
title: Graduate admissions FAQ
categories:
  - name: Admissions
    qa_list:
      - question: Do I need to contact you before applying?
        answer: |
          Yes. Please write to me two months before the application deadline with your transcript and a
          short statement of the research you would like to do in the group.
      - question: Is there a core time in the lab?
        answer: |
          There is no core time. Students organise their own days, and we meet once a week to discuss
          progress on each project.
---
"""


def _sentences(path: Path, root: Path) -> tuple[loaders.Document, object, list[str]]:
    doc, owner = read(path, path.name, [root])
    pieces = chunking.split(doc.text, title=doc.title, chunk_chars=1200)
    return doc, owner, [s for p in pieces for s in p.sentences]


def test_a_jekyll_page_loses_its_template_syntax_and_knows_its_site(tmp_path):
    write(tmp_path, "_config.yml", SITE_CONFIG)
    page = write(tmp_path, "_pages/openings.md", JEKYLL_PAGE)
    doc, owner, sentences = _sentences(page, tmp_path)
    for leftover in (*TEMPLATE_LEFTOVERS, "<b>", "<li>", "TODO", "old deadline"):
        assert leftover not in doc.text, leftover
    assert owner.subject == "Glacier Dynamics Group" and "Mira Okafor" in owner.names
    assert "We recruit 2-4 PhD students each year in glacier hydrology & remote sensing." in sentences
    assert "Include a CV and the names of two referees." in sentences  # "…contact/).&nbsp;Include" still splits into sentences
    # <ul><li> inside Markdown is a list; a Markdown heading inside a <div> is a heading.
    assert "- Strong programming skills\n- Fieldwork experience in cold regions" in doc.text
    assert "#### 博士研究生" in doc.text.splitlines()


def test_a_contact_card_in_a_sidebar_is_kept_and_quotable(tmp_path):
    page = write(tmp_path, "contact.html", CONTACT_HTML)
    doc, owner, sentences = _sentences(page, tmp_path)
    text = " ".join(sentences)
    for fact in ("Phone +49 6151 16-20431", "Room 203-525", "61231 Darmstadt", "lena.vogt@kestrel-photonics.example",
                 "Prof. Dr. Lena Vogt"):
        assert fact in text, fact
    assert "Home" not in doc.text.split() and "People" not in doc.text  # the menu is not content
    assert "All rights reserved" not in doc.text
    assert doc.title == "Contact"
    assert owner.subject == "Kestrel Photonics Laboratory" and "KPL" in owner.names


def test_a_first_person_homepage_is_about_its_author(tmp_path):
    page = write(tmp_path, "about.md", HOMEPAGE)
    _, owner, sentences = _sentences(page, tmp_path)
    assert owner.first_person and owner.subject == "Tomas Lindqvist"
    assert "I am looking for a PhD student to start in autumn 2026." in sentences
    assert "Email: tomas.lindqvist@northgate-uni.edu" in sentences  # an address spelled out is one a candidate can use


def test_a_pdf_advert_with_ligatures_and_labelled_lines(tmp_path):
    page = tmp_path / "advert.pdf"
    page.write_bytes(pdf_bytes([
        "Postdoctoral researcher in ocean \ufb02uid dynamics",
        "The Tidal Mixing Group is \ufb01nancing a two-year position.",
        "Topic: internal waves and their role in mixing",
        "Appointment: 24 months, starting 1 March 2026",
        "Salary: EUR 52,000 per year",
        "Contact: Dr. Ines Moreau (ines.moreau@tidal.example)",
    ]))
    doc, _, sentences = _sentences(page, tmp_path)
    assert "fluid dynamics" in doc.title and "\ufb02" not in doc.text and "financing a two-year position" in doc.text
    # Each labelled line is a fact of its own, never merged into its neighbour.
    assert "Salary: EUR 52,000 per year" in sentences
    assert "Appointment: 24 months, starting 1 March 2026" in sentences


def test_a_folder_default_names_whose_pages_a_folder_holds(tmp_path):
    write(tmp_path, "partners/damo/.bot.toml", 'organisation = "DAMO Academy"\naliases = ["达摩院"]\n')
    page = write(tmp_path, "partners/damo/join.md", "# Join us\n\nWe hire research interns in speech and vision "
                                                    "every summer, in Hangzhou and Beijing.\n")
    _, owner, _ = _sentences(page, tmp_path)
    assert owner.names[:2] == ("DAMO Academy", "达摩院")
    assert [where for where, _ in owner.found][:1] == ["folder default (.bot.toml)"]


def test_a_faq_kept_in_the_front_matter_is_content(tmp_path):
    page = write(tmp_path, "faq.md", FAQ_FRONT_MATTER)
    doc, _, sentences = _sentences(page, tmp_path)
    assert "#### Do I need to contact you before applying?" in doc.text.splitlines()  # the question heads its answer
    assert "Students organise their own days, and we meet once a week to discuss progress on each project." in sentences


def test_ingest_explain_shows_the_profile_and_the_sentences(tmp_path):
    write(tmp_path, "_config.yml", SITE_CONFIG)
    page = write(tmp_path, "openings.md", JEKYLL_PAGE)
    out = subprocess.run([sys.executable, "-m", "bot", "ingest", "--explain", str(page)], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "subject: Glacier Dynamics Group" in out.stdout
    assert "from site config (_config.yml): Glacier Dynamics Group" in out.stdout
    assert "* We recruit 2-4 PhD students each year" in out.stdout


@pytest.mark.skipif(not REALDOCS.is_dir(), reason="the real-document set is not beside the checkout")
def test_every_real_page_is_read_with_an_owner_and_no_template_syntax():
    files = sorted(p for p in REALDOCS.iterdir() if p.suffix in (".md", ".html", ".pdf"))
    assert len(files) >= 40
    for path in files:
        doc, owner, sentences = _sentences(path, REALDOCS)  # a page that cannot be read raises here
        assert owner.subject, path.name
        assert sentences, path.name
        for leftover in TEMPLATE_LEFTOVERS:
            assert leftover not in doc.text and leftover not in doc.title, (path.name, leftover)


@pytest.mark.skipif(not REALDOCS.is_dir(), reason="the real-document set is not beside the checkout")
def test_loader_coverage_of_the_real_pages():
    out = subprocess.run([sys.executable, str(ROOT / "bench/loader_coverage.py"), "--json", str(REALDOCS)],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    facts = sum(r["n_facts"] for r in rows)
    kept = sum(r["facts"] * r["n_facts"] for r in rows)
    assert kept == facts, [(r["file"], r["lost"]) for r in rows if r["lost"]]
    quotable = sum(r["quotable"] * r["n_facts"] for r in rows)  # in a sentence a quote can carry
    assert quotable >= 0.99 * facts, [(r["file"], r["unquotable"]) for r in rows if r["unquotable"]]
    assert sum(r["words"] for r in rows) / len(rows) >= 0.95


@pytest.mark.skipif(not REALDOCS.is_dir(), reason="the real-document set is not beside the checkout")
def test_the_real_document_questions_are_read_with_their_folds_and_files():
    from bot import evaluation

    questions = evaluation.load_questions(REALDOCS.parent / "questions.jsonl")
    assert len(questions) >= 200
    assert {q.fold for q in questions} == {"tune", "holdout"}
    names = {p.name for p in REALDOCS.iterdir()}
    answerable = [q for q in questions if q.expect == "answer"]
    assert answerable and all(q.documents and set(q.documents) <= names and q.facts for q in answerable)
    assert all(not q.documents for q in questions if q.category in ("refuse", "injection"))


GROUP_CONTACT = """---
title: Contact
layout: page
---
**Phone:** {phone}

**Office:** {office}

Write to {email} to arrange a visit.
"""


async def test_a_question_naming_the_owner_finds_the_page_that_never_names_it(tmp_path, embedder):
    """Two groups' contact pages say neither group's name; each folder's default says whose they are.
    The candidate asking about one group gets that group's phone, cited from its page."""
    from bot.orchestrator.assistant import Assistant
    from bot.core.ingest import ingest
    from bot.core.store import Store
    from conftest import settings_for

    for folder, name, phone, office, email in (
            ("kestrel", "Kestrel Photonics Laboratory", "+49 6151 16-20431", "Room 203-525", "office@kestrel.example"),
            ("glacier", "Glacier Dynamics Group", "+47 5558 3301", "Building C, room 14", "ice@glacier.example")):
        write(tmp_path, f"docs/{folder}/.bot.toml", f'organisation = "{name}"\n')
        write(tmp_path, f"docs/{folder}/contact.md", GROUP_CONTACT.format(phone=phone, office=office, email=email))
    settings = settings_for(tmp_path, knowledge=[str(tmp_path / "docs")])
    store = Store(settings)
    assert not ingest(settings, store=store, embedder=embedder, progress=False).failed
    assistant = Assistant(settings, store=store, embedder=embedder)
    hits = assistant.engine.retriever.search("What is the phone number of the Glacier Dynamics Group?").hits
    assert hits[0].chunk.path.endswith("glacier/contact.md") and hits[0].chunk.subject.startswith("Glacier Dynamics Group")
    from bot.core.types import Question
    answer = await assistant.answer(Question("What is the phone number of the Glacier Dynamics Group?"))
    assert answer.grounded and "+47 5558 3301" in answer.text, answer.text
    assert "16-20431" not in answer.text
    assert [s.path for s in answer.sources] == ["docs/glacier/contact.md"]


ZH_ADVERT = """# {name}招聘博士后

{name}实验室招博士后。希望申请人具有相关专业博士学位，具备独立开展研究的经验和良好的团队合作精神。
实验室招博士后时优先考虑具备哪些经验的申请人？有海外经验者优先。待遇从优，请将简历发送至课题组邮箱。

## 申请材料

个人简历、代表性论文、两封推荐信。
"""

EN_ADVERT = """# Postdoctoral position in the Halvorsen Lab

The Halvorsen Lab is hiring a postdoctoral researcher. We look for applicants with hands-on experience
in in-vivo electrophysiology and in writing analysis code in Python.

Send a CV and a short statement of research interests to the lab.
"""


async def test_a_chinese_question_naming_a_group_in_latin_letters_finds_its_english_page(tmp_path, embedder):
    """Chinese adverts of other groups share every Chinese word of the question; the Latin name is what
    finds the one page that answers, and "Halvorsen 实验室" is that group's lab, not the bot's own."""
    from bot.orchestrator.assistant import Assistant
    from bot.core.ingest import ingest
    from bot.core.store import Store
    from conftest import settings_for

    for i, name in enumerate(("海洋生态", "材料计算", "神经工程", "遥感水文", "冰川冻土", "量子器件", "合成生物", "大气化学")):
        write(tmp_path, f"docs/zh{i}.md", ZH_ADVERT.format(name=name))
    write(tmp_path, "docs/halvorsen-postdoc.md", EN_ADVERT)
    settings = settings_for(tmp_path, knowledge=[str(tmp_path / "docs")])
    store = Store(settings)
    assert not ingest(settings, store=store, embedder=embedder, progress=False).failed
    engine = Assistant(settings, store=store, embedder=embedder).engine
    question = "Halvorsen 实验室招博士后时，希望申请人具备哪些经验？"
    query = engine.search_query(question, [])
    assert query == question
    files = list(dict.fromkeys(h.chunk.path for h in engine.retriever.search(query, language="zh").hits))
    assert files[0] == "docs/halvorsen-postdoc.md", files


CARD_OF_HEADINGS = """---
layout: page
title: Contact
---
<h4>Email:</h4>
<h6 style="font-size:18px">Mira Kovacs: mira@fjord.example<h6>
<h4>    Address:</h4>
<h6 style="font-size:18px">Fjord Omics Lab<h6>
<h6 style="font-size:18px">Room 107, Fjell Building<h6>
<h6 style="font-size:18px">Mail Code: 5020<h6>
<script>var map = new Map("container");</script>

## Postdoctoral opening (14 Feb 2027)

The application deadline is Oct. 1st, 2027. Assoc. Prof. Kovacs reads every application.
"""


def test_lines_of_unclosed_headings_are_read_as_a_browser_shows_them(tmp_path):
    """`<h6>line<h6>` (no closing tag) is two lines in a browser (the HTML5 parsing rules), not one
    heading holding the rest of the page; the card's lines are quoted together, and a heading that
    states a date can be quoted."""
    _, _, sentences = _sentences(write(tmp_path, "contact.md", CARD_OF_HEADINGS), tmp_path)
    card = next(s for s in sentences if "Room 107" in s)
    assert "Fjord Omics Lab" in card and "Fjell Building" in card and "Mail Code: 5020" in card
    assert any("mira@fjord.example" in s for s in sentences)
    assert "Postdoctoral opening (14 Feb 2027)" in sentences
    assert "The application deadline is Oct. 1st, 2027." in sentences
    assert "Assoc. Prof. Kovacs reads every application." in sentences
    assert not any("new Map" in s for s in sentences)


def test_a_unit_before_its_number_and_an_initial_end_no_sentence():
    """Adverts write "Rs. 31,000" and "M. Tech": the pay and the degree stay in their sentence."""
    from bot.core.nlp import sentences
    assert sentences("Pay: between Rs. 31,000 and Rs. 55,000 per month. Duration: 1 year.") == [
        "Pay: between Rs. 31,000 and Rs. 55,000 per month.", "Duration: 1 year."]
    assert sentences("Qualification: M. Tech or Ph.D. in Physics. Apply by mail.") == [
        "Qualification: M. Tech or Ph.D. in Physics.", "Apply by mail."]
    assert sentences("We moved in 2019. 2020 was hard.") == ["We moved in 2019.", "2020 was hard."]


async def test_a_first_person_page_answers_for_its_owner_named_only_in_its_file_name(tmp_path, embedder):
    """The recruiting page says "I" and never the name; its file name runs the name together. Another
    page says the name. The question naming her is answered from the recruiting page."""
    from bot.orchestrator.assistant import Assistant
    from bot.core.ingest import ingest
    from bot.core.store import Store
    from bot.core.types import Question
    from conftest import settings_for

    write(tmp_path, "docs/d1-mirakovacs-about.md", "# About\n\nMira Kovacs leads the Fjord Omics Lab at the "
                                                 "University of Bergen, where the lab studies fish genomes.\n")
    write(tmp_path, "docs/d2-mirakovacs-phd.md", "# PhD positions\n\nI am looking for two PhD students in 2027. "
                                               "The position comes with a living stipend of NOK 532,000 per year.\n")
    write(tmp_path, "docs/d3-tidewater-phd.md", "# PhD positions\n\nThe Tidewater Group offers PhD students a "
                                              "stipend of NOK 480,000 per year.\n")
    settings = settings_for(tmp_path, knowledge=[str(tmp_path / "docs")])
    store = Store(settings)
    assert not ingest(settings, store=store, embedder=embedder, progress=False).failed
    answer = await Assistant(settings, store=store, embedder=embedder).answer(
        Question("What living stipend comes with a PhD position in Mira Kovacs's group?"))
    assert answer.grounded and "532,000" in answer.text and "480,000" not in answer.text, answer.text


def _news(i: int) -> str:
    award = (f"In year {2010 + i}, PhD students of Anneli Varga won {i + 2} funded awards; Anneli Varga thanked "
             f"the funders of the PhD years. ")
    return f"## News {i}\n\n" + award * 4 + "\n"


async def test_a_page_that_names_its_owner_everywhere_leaves_a_place_for_another_page(tmp_path, embedder):
    """A homepage whose every news passage names the professor fills the top places for any question
    naming her; the best passage of a second page still joins, so the recruiting page's answer is seen."""
    from bot.orchestrator.assistant import Assistant
    from bot.core.ingest import ingest
    from bot.core.store import Store
    from conftest import settings_for

    write(tmp_path, "docs/varga-home.md", "# Anneli Varga\n\n" + "\n".join(_news(i) for i in range(8)))
    write(tmp_path, "docs/varga-recruiting.md", "# Recruiting\n\nStudentships last up to four years, "
                                                "tuition included.\n")
    for name in ("lighthouse", "pier", "dock"):
        write(tmp_path, f"docs/{name}.md", f"# {name}\n\nThe {name} keeper logs every ship.\n")
    settings = settings_for(tmp_path, knowledge=[str(tmp_path / "docs")])
    store = Store(settings)
    assert not ingest(settings, store=store, embedder=embedder, progress=False).failed
    engine = Assistant(settings, store=store, embedder=embedder).engine
    hits = engine.retriever.search("For how many years is a PhD with Anneli Varga funded?").hits
    paths = [h.chunk.path for h in hits]
    assert paths[:settings.retrieval.top_k] == ["docs/varga-home.md"] * settings.retrieval.top_k
    assert "docs/varga-recruiting.md" in paths, paths


def test_a_chinese_site_name_in_the_title_is_the_owner(tmp_path):
    page = write(tmp_path, "join.html", "<html><head><title>加入我们 | Halvorsen 神经实验室</title></head><body><main>"
                                        "<h1>加入我们</h1><p>实验室位于卑尔根大学医学院三楼，每年招收博士研究生。</p></main></body></html>")
    _, owner, _ = _sentences(page, tmp_path)
    assert owner.subject == "Halvorsen 神经实验室"


async def test_a_question_about_a_person_is_not_answered_from_other_groups_adverts(tmp_path, embedder):
    """Eight groups' adverts say how many letters *they* want; the asked person's page never spells her
    name apart ("miraholloway@…") and says nothing of letters. The candidate gets a refusal that names
    her, not another group's count."""
    from bot.orchestrator.assistant import Assistant
    from bot.core.ingest import ingest
    from bot.core.store import Store
    from bot.core.types import Question
    from conftest import settings_for

    write(tmp_path, "docs/holloway.md", "# Tidal Energy Group\n\nThe group measures tidal currents off the coast. "
                                        "Write to miraholloway@tide.example to join.\n")
    for i, name in enumerate(("Ferro Lab", "Amsel Group", "Keel Lab", "Brine Group", "Dune Lab", "Fjord Group",
                              "Moss Lab", "Reed Group")):
        write(tmp_path, f"docs/advert{i}.md", f"# Postdoc at the {name}\n\nThe {name} asks postdoc applicants for "
                                              f"{i + 2} letters of recommendation and a CV.\n")
    settings = settings_for(tmp_path, knowledge=[str(tmp_path / "docs")])
    store = Store(settings)
    assert not ingest(settings, store=store, embedder=embedder, progress=False).failed
    answer = await Assistant(settings, store=store, embedder=embedder).answer(
        Question("How many recommendation letters must postdoc applicants send to Mira Holloway?"))
    assert not answer.grounded and "Mira Holloway" in answer.text, answer.text
    assert not any(ch.isdigit() for ch in answer.text.split("@")[0]), answer.text
