"""Ingestion against a real on-disk Chroma store with the real embedding model."""

from __future__ import annotations


import pytest

from bot.orchestrator.assistant import Assistant
from bot.core.embeddings import HashingEmbedder
from bot.core.ingest import ingest
from bot.core.store import Store
from bot.core.types import Question
from bot.errors import EmptyIndexError, IndexMismatchError
from docs import CAMPUS_A, CAMPUS_B, HIRING, pdf_bytes, write
from conftest import settings_for


def _ingest(settings, embedder, **kw):
    return ingest(settings, store=Store(settings), embedder=embedder, progress=False, **kw)


def _chunks(settings):
    store = Store(settings)
    store.open_for_query(store.indexed_model())
    return store.all_chunks()


def _paths(settings) -> set[str]:
    return {c.path for c in _chunks(settings)}


def _texts(settings) -> str:
    return "\n".join(c.text for c in _chunks(settings))


def test_incremental_unchanged_changed_deleted(tmp_path, embedder):
    kb = tmp_path / "kb"
    write(kb, "a.md", CAMPUS_A)
    write(kb, "b.md", CAMPUS_B)
    write(kb, "sub/hiring.md", HIRING)
    s = settings_for(tmp_path, knowledge=["kb"])

    first = _ingest(s, embedder)
    assert sorted(first.indexed) == ["kb/a.md", "kb/b.md", "kb/sub/hiring.md"]
    assert first.chunks >= 3 and not first.failed

    again = _ingest(s, embedder)
    assert again.indexed == [] and len(again.unchanged) == 3

    write(kb, "b.md", CAMPUS_B.replace("1,500 mu", "1,600 mu"))
    changed = _ingest(s, embedder)
    assert changed.indexed == ["kb/b.md"] and len(changed.unchanged) == 2
    assert "1,600 mu" in _texts(s) and "1,500 mu" not in _texts(s)

    (kb / "sub" / "hiring.md").unlink()
    removed = _ingest(s, embedder)
    assert removed.removed == ["kb/sub/hiring.md"]
    assert _paths(s) == {"kb/a.md", "kb/b.md"}
    assert "removed" in removed.summary() and "1 removed" in removed.summary()


def test_corrupt_pdf_binary_and_empty_files_are_reported_and_skipped(tmp_path, embedder):
    kb = tmp_path / "kb"
    write(kb, "good.md", HIRING)
    (kb / "broken.pdf").write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >>\ngarbage without xref")
    (kb / "image.txt").write_bytes(bytes(range(256)) * 10)
    write(kb, "empty.md", "")
    (kb / "real.pdf").write_bytes(pdf_bytes(["The observatory employs 42 astronomers in total."]))
    s = settings_for(tmp_path, knowledge=["kb"])

    report = _ingest(s, embedder)
    failed = dict(report.failed)
    assert set(failed) == {"kb/broken.pdf", "kb/image.txt", "kb/empty.md"}
    assert "PDF" in failed["kb/broken.pdf"]
    assert "binary" in failed["kb/image.txt"]
    assert "empty" in failed["kb/empty.md"]
    assert sorted(report.indexed) == ["kb/good.md", "kb/real.pdf"]
    assert "42 astronomers" in _texts(s)


def test_a_file_that_turns_corrupt_keeps_its_previous_chunks(tmp_path, embedder):
    kb = tmp_path / "kb"
    write(kb, "hiring.md", HIRING)
    s = settings_for(tmp_path, knowledge=["kb"])
    _ingest(s, embedder)
    (kb / "hiring.md").write_bytes(b"\x00\x01\x02 not text any more")

    report = _ingest(s, embedder)
    assert [p for p, _ in report.failed] == ["kb/hiring.md"]
    assert "marine biologists" in _texts(s)


def test_front_matter_and_html_boilerplate(tmp_path, embedder):
    kb = tmp_path / "kb"
    write(kb, "a.md", CAMPUS_A)
    write(kb, "bad-front.md", "---\ntitle: [unclosed\n---\n\nBody text long enough to index here.\n")
    write(kb, "page.html", """<html><head><title>Visiting us</title></head><body>
        <nav><a href="/">Home</a> <a href="/jobs">Jobs menu entry</a></nav>
        <div class="share-buttons">Share this on Twitter</div>
        <h1>Visiting us</h1><p>The visitor centre opens at nine o'clock every weekday morning.</p>
        <footer>Copyright footer text that must not be indexed</footer></body></html>""")
    s = settings_for(tmp_path, knowledge=["kb"])
    report = _ingest(s, embedder)
    assert [p for p, _ in report.failed] == ["kb/bad-front.md"]
    assert "front matter" in dict(report.failed)["kb/bad-front.md"]

    chunks = {c.path: c for c in _chunks(s)}
    a = chunks["kb/a.md"]
    assert (a.title, a.topic, a.url, a.updated, a.section) == (
        "Campus facts", "campus", "https://example.org/campus", "2024-01-02", "Land")
    page = chunks["kb/page.html"]
    assert page.title == "Visiting us" and "nine o'clock" in page.text
    for furniture in ("Jobs menu entry", "Share this", "Copyright footer"):
        assert furniture not in page.text


def test_missing_root_is_reported_and_removes_nothing(tmp_path, embedder):
    kb = tmp_path / "kb"
    write(kb, "hiring.md", HIRING)
    s = settings_for(tmp_path, knowledge=["kb"])
    _ingest(s, embedder)
    report = _ingest(s, embedder, paths=[tmp_path / "kb-typo"])
    assert report.failed == [("kb-typo", "not found")] and report.removed == []
    assert _paths(s) == {"kb/hiring.md"}


def test_querying_with_another_embedding_model_is_refused(tmp_path, embedder):
    kb = tmp_path / "kb"
    write(kb, "hiring.md", HIRING)
    s = settings_for(tmp_path, knowledge=["kb"])
    hashing = HashingEmbedder()
    _ingest(s, hashing)
    with pytest.raises(IndexMismatchError, match="re-index"):
        Assistant(s, store=Store(s), embedder=embedder)
    # Ingesting with the new model rebuilds the index instead of mixing vectors.
    report = _ingest(s, embedder)
    assert report.rebuilt_from == hashing.name and report.indexed == ["kb/hiring.md"]
    Assistant(s, store=Store(s), embedder=embedder)


def test_empty_store_is_refused_with_a_hint(tmp_path, embedder):
    s = settings_for(tmp_path)
    with pytest.raises(EmptyIndexError, match="ingest"):
        Assistant(s, store=Store(s), embedder=embedder)


def test_hashing_fallback_backend_answers_end_to_end(tmp_path):
    kb = tmp_path / "kb"
    write(kb, "hiring.md", HIRING)
    s = settings_for(tmp_path, knowledge=["kb"])
    hashing = HashingEmbedder()
    _ingest(s, hashing)
    answer = Assistant(s, store=Store(s), embedder=hashing).answer_sync(
        Question("Does the institute hire marine biologists?"))
    assert answer.grounded and "marine biologists" in answer.text and answer.sources[0].path == "kb/hiring.md"


def test_re_indexing_prunes_only_its_own_old_generations(tmp_path):
    """Two indexes in one store (as on a shared Chroma server), names of the same length."""
    hashing = HashingEmbedder()
    write(tmp_path / "kb", "a.md", CAMPUS_A)
    first = settings_for(tmp_path, knowledge=["kb"], collection="lab_knowledge")
    other = settings_for(tmp_path, knowledge=["kb"], collection="lab_documents")
    for settings in (first, other):
        _ingest(settings, hashing)
    for n in range(3):  # three publishes of the first index: it keeps two generations of its own
        write(tmp_path / "kb", "a.md", CAMPUS_A + f"\nRevision {n}.\n")
        _ingest(first, hashing)
    answer = Assistant(other, store=Store(other), embedder=hashing).answer_sync(Question("How big is the campus?"))
    assert answer.grounded and answer.sources, "the other index lost nothing"
    names = sorted(c.name for c in Store(first)._client.list_collections())
    assert len([n for n in names if n.startswith("lab_knowledge-g") and not n.endswith("-sentences")]) == 2


class _Counting:
    """Cheap vectors; counts the embedding calls (each file makes two: its chunks, its sentences) and
    is interrupted, as by Ctrl-C, at call `stop`."""

    def __init__(self, stop: int = 0):
        self._real = HashingEmbedder(dim=64)
        self.name, self.dim, self.min_similarity = self._real.name, self._real.dim, self._real.min_similarity
        self.stop, self.calls, self.texts = stop, 0, 0

    def embed_queries(self, texts):
        return self._real.embed_queries(texts)

    def embed_passages(self, texts):
        self.calls += 1
        self.texts += len(texts)
        if self.calls == self.stop:
            raise KeyboardInterrupt
        return self._real.embed_passages(texts)


@pytest.mark.parametrize("first_run", [True, False])
def test_an_interrupted_ingest_publishes_nothing_and_the_next_does_not_redo_finished_files(tmp_path, first_run):
    files = {f"f{n}.md": f"# Station {n}\n\nStation {n} records the tide code T{n}{n}{n}.\n" for n in range(6)}
    for name, text in files.items():
        write(tmp_path / "kb", name, text)
    settings = settings_for(tmp_path, knowledge=["kb"])
    if not first_run:
        _ingest(settings, _Counting())
        for name in files:  # every file changes
            write(tmp_path / "kb", name, files[name].replace("tide code", "new tide code"))

    with pytest.raises(KeyboardInterrupt):
        _ingest(settings, _Counting(stop=2 * 3 + 1))  # three files embedded, then the fourth is interrupted
    if first_run:  # nothing was published: the index is still empty
        assert Store(settings).indexed_model() is None
    else:  # readers still see the previous generation, unchanged
        assert "new tide code" not in " ".join(c.text for c in _chunks(settings))

    again = _Counting()
    report = _ingest(settings, again)
    assert len(report.resumed) == 3 and len(report.indexed) == 3, report.summary()
    assert again.calls == 2 * 3  # only the three files not finished before were embedded
    chunks = _chunks(settings)
    assert sorted(c.path for c in chunks) == [f"kb/f{n}.md" for n in range(6)]  # each file once
    assert all(("new tide code" in c.text) != first_run for c in chunks)
    names = [c.name for c in Store(settings)._client.list_collections() if not c.name.endswith("-sentences")]
    assert len(names) <= 3, names  # the pointer, the live generation and the previous one


def test_editing_one_paragraph_of_a_long_file_embeds_only_that_paragraph(tmp_path):
    paragraphs = [f"Station {n} on the northern coast logs the tide height every morning at six and sends it to the "
                  f"harbour office. Its keeper files the result under code T{n:03d} in the station register." for n in range(50)]
    write(tmp_path / "kb", "log.md", "# Stations\n\n" + "\n\n".join(paragraphs) + "\n")
    settings = settings_for(tmp_path, knowledge=["kb"])
    settings = settings.model_copy(update={"retrieval": settings.retrieval.model_copy(update={"chunk_chars": 200})})
    first = _Counting()
    assert _ingest(settings, first).chunks == 50 and first.texts == 50 * 3  # each chunk, its two sentences

    paragraphs[20] = paragraphs[20].replace("every morning at six", "every evening at nine")
    write(tmp_path / "kb", "log.md", "# Stations\n\n" + "\n\n".join(paragraphs) + "\n")
    again = _Counting()
    report = _ingest(settings, again)
    assert report.indexed == ["kb/log.md"] and report.chunks == 50
    assert again.texts == 1 + 1  # the changed chunk and its changed sentence; everything else was reused
    chunks = {c.id: c for c in _chunks(settings)}
    assert sum("every evening at nine" in c.text for c in chunks.values()) == 1 and len(chunks) == 50
    store = Store(settings)
    store.open_for_query(again.name)
    hits = store.query(again.embed_queries(["T020 evening tide"])[0], 3)
    assert any("every evening at nine" in chunk.text for chunk, _ in hits)
