"""The store's reads: an index past the size one SQLite read allows (32,767 records), built, asked and
re-ingested (cheap vectors, feature hashing at 32 dimensions, keep it fast); a small one read from memory."""

from __future__ import annotations

import numpy as np

from bot.config import RetrievalSettings
from bot.orchestrator.assistant import Assistant
from bot.core.embeddings import HashingEmbedder
from bot.core.ingest import ingest
from bot.core.store import Store
from bot.core.types import Question
from conftest import settings_for
from docs import write

FILES, PARAGRAPHS = 35, 1000  # about 35,000 chunks (and as many sentences)


def _paragraph(f: int, p: int) -> str:
    return (f"Survey log {f}-{p}: station {p % 97} recorded tide level {p % 13} and wind bearing {p % 360} "
            f"degrees during the morning watch of expedition {f}.")


def test_an_index_past_the_sqlite_read_limit_answers_and_reingests_incrementally(tmp_path):
    for f in range(FILES):
        text = "\n\n".join(_paragraph(f, p) for p in range(PARAGRAPHS))
        if f == 7:
            text += "\n\nThe observatory archive holds 4,217 glass photographic plates from the first survey."
        write(tmp_path / "kb", f"log-{f:02d}.md", f"# Expedition log {f}\n\n{text}\n")
    settings = settings_for(tmp_path, knowledge=["kb"])
    settings = settings.model_copy(update={"retrieval": RetrievalSettings(chunk_chars=200)})
    embedder = HashingEmbedder(dim=32)
    report = ingest(settings, store=Store(settings, writing=True), embedder=embedder, progress=False)
    assert not report.failed and report.chunks > 32_767, report.summary()

    assistant = Assistant(settings, store=Store(settings), embedder=embedder)
    answer = assistant.answer_sync(Question("How many glass photographic plates does the observatory archive hold?"))
    assert "4,217" in answer.text and answer.sources[0].path == "kb/log-07.md"

    write(tmp_path / "kb", "log-03.md", "# Expedition log 3\n\nThe third expedition was cancelled because of storms.\n")
    again = ingest(settings, store=Store(settings, writing=True), embedder=embedder, progress=False)
    assert again.indexed == ["kb/log-03.md"] and len(again.unchanged) == FILES - 1, again.summary()
    assert assistant.engine.refresh(force=True)
    assert "cancelled" in assistant.answer_sync(Question("Why was the third expedition cancelled?")).text


def test_a_small_generation_is_read_from_memory_and_answers_as_chroma_does(kb_assistant, embedder):
    """[store] memory_mb: the same neighbours, texts and vectors as Chroma's, without a round trip."""
    kb_settings = kb_assistant.settings
    in_memory = Store(kb_settings)
    in_memory.open_for_query(embedder.name)
    on_disk = Store(kb_settings.model_copy(update={"store": kb_settings.store.model_copy(update={"memory_mb": 0})}))
    on_disk.open_for_query(embedder.name)
    assert in_memory._memory is not None and on_disk._memory is None
    for question in ("How big is the campus?", "实验室主任是谁？", "Which partners fund the joint labs?"):
        vector = embedder.embed_queries([question])[0]
        near, far = in_memory.query(vector, 6), on_disk.query(vector, 6)
        assert [c.id for c, _ in near] == [c.id for c, _ in far]
        assert [round(s, 4) for _, s in near] == [round(s, 4) for _, s in far]
        near_sentences, far_sentences = in_memory.query_sentences([vector], 8), on_disk.query_sentences([vector], 8)
        assert [(c, round(s, 4)) for c, s in near_sentences] == [(c, round(s, 4)) for c, s in far_sentences]
        chunks = [c for c, _ in near]
        assert {(s.chunk_id, s.position, s.text) for s in in_memory.sentences_for(chunks)} == \
               {(s.chunk_id, s.position, s.text) for s in on_disk.sentences_for(chunks)}
    ids = [c.id for c, _ in near]
    assert in_memory.chunks(ids) == on_disk.chunks(ids)
    assert all(np.allclose(in_memory.vectors(ids)[i], v) for i, v in on_disk.vectors(ids).items())
