"""The persisted lexical index: the same BM25 scores as rank_bm25 (the reference it replaces), written
at publish time beside each generation, memory-mapped by readers, pruned with its generation."""

from __future__ import annotations

import numpy as np
import pytest
from rank_bm25 import BM25Okapi

from bot.core import lexical
from bot.core import nlp
from bot.core.ingest import ingest
from bot.core.lexical import LexicalIndex
from bot.core.store import Store
from conftest import indexed_kb
from docs import write

# BM25 gives a word in half the documents or more no weight: a few other documents make "crane" rare.
OTHERS = {f"{name}.md": f"# {name}\n\nThe {name} keeper logs every ship.\n" for name in ("lighthouse", "pier", "dock")}
QUERIES = ["How big is the campus?", "Zhejiang Lab DAMO Academy USTC joint lab", "之江实验室 园区 面积",
           "machine learning machine learning", "intelligent computing", "nothingmatcheswordzzz"]


def test_scores_and_ranking_match_rank_bm25_on_the_knowledge_index(kb_assistant):
    chunks = [c for c in kb_assistant.store.all_chunks() if not c.record]
    corpus = [nlp.tokens(f"{c.title} {c.section} {c.text}") for c in chunks]
    reference = BM25Okapi(corpus)
    ours = LexicalIndex.build((c.id, tokens) for c, tokens in zip(chunks, corpus))
    for query in QUERIES:
        tokens = nlp.tokens(query)
        expected = reference.get_scores(tokens)
        got = dict(ours.search(tokens, len(chunks)))
        assert {c.id for c, s in zip(chunks, expected) if s > 0} == set(got), query
        for chunk, score in zip(chunks, expected):
            if score > 0:
                assert got[chunk.id] == pytest.approx(score, rel=1e-5), query
        for token in tokens:
            assert ours.idf(token) == pytest.approx(max(reference.idf.get(token, 0.0), 0.0), rel=1e-6)


def test_written_at_publish_memory_mapped_by_readers_and_pruned_with_its_generation(tmp_path, embedder):
    settings = indexed_kb(tmp_path, embedder, {"a.md": "# A\n\nThe harbour crane lifts forty tonnes.\n", **OTHERS})
    store = Store(settings)
    store.open_for_query(embedder.name)
    root = store.lexical_root
    assert [p.name for p in root.iterdir()] == [store.generation]  # written by the ingest, before publishing
    index = store.lexical_index()
    assert isinstance(index._weights, np.memmap)  # read from disk, not rebuilt
    [(best, _)] = index.search(nlp.tokens("crane tonnes"), 5)
    assert store.chunks([best])[best].path == "kb/a.md"

    generations = [store.generation]
    for n in range(3):
        write(tmp_path / "kb", "a.md", f"# A\n\nThe harbour crane lifts {50 + n} tonnes.\n")
        ingest(settings, store=Store(settings, writing=True), embedder=embedder, progress=False)
        assert store.refresh(embedder.name)
        generations.append(store.generation)
    # The live generation and the previous one (readers may still be on it), like their collections.
    assert sorted(p.name for p in root.iterdir()) == sorted(generations[-2:])


def test_a_reader_builds_and_saves_a_missing_index(tmp_path, embedder):
    import shutil

    settings = indexed_kb(tmp_path, embedder, {"a.md": "# A\n\nThe harbour crane lifts forty tonnes.\n", **OTHERS})
    store = Store(settings)
    store.open_for_query(embedder.name)
    shutil.rmtree(store.lexical_root)  # e.g. a Chroma server's generation this machine has not seen
    index = store.lexical_index()
    assert index.search(nlp.tokens("crane"), 3) and (store.lexical_root / store.generation / "ids.json").exists()


def test_whose_page_it_is_is_searched_with_every_passage(tmp_path, embedder):
    """A page's owner (its profile: here the site name in the title) is a word of every passage of
    it, as its title is: "Tidal Energy Group" finds the passage that only says "we"."""
    page = ("<html><head><title>Join | Tidal Energy Group</title></head><body><main><h1>Join</h1>"
            "<p>We take two doctoral students each autumn; write to the group secretary.</p></main></body></html>")
    settings = indexed_kb(tmp_path, embedder, {"join.html": page, **OTHERS})
    store = Store(settings)
    store.open_for_query(embedder.name)
    index = store.lexical_index()
    [(best, _)] = index.search(nlp.tokens("Tidal Energy doctoral"), 1)
    assert store.chunks([best])[best].path == "kb/join.html"
    assert best in index.holding_all(nlp.tokens("Tidal Energy Group"))
    assert index.holding_all(nlp.tokens("Tidal Nowhere")) == set()


def test_an_index_saved_in_an_older_format_is_built_again(tmp_path, embedder):
    settings = indexed_kb(tmp_path, embedder, {"a.md": "# A\n\nThe harbour crane lifts forty tonnes.\n", **OTHERS})
    store = Store(settings)
    store.open_for_query(embedder.name)
    saved = store.lexical_root / store.generation
    (saved / "format").write_text("1")
    assert LexicalIndex.load(saved) is None
    assert store.lexical_index().search(nlp.tokens("crane"), 3)
    assert (saved / "format").read_text() == str(lexical.FORMAT) and LexicalIndex.load(saved) is not None
