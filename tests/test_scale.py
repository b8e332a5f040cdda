"""An index past the size one SQLite read allows (32,767 records): built, asked and re-ingested.

Cheap vectors (feature hashing, 32 dimensions) keep it fast; what is tested is the store's reads."""

from __future__ import annotations


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
