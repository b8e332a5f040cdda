"""Hybrid retrieval: dense search in Chroma fused with BM25 by reciprocal rank.

Dense vectors catch paraphrases and cross-language questions; BM25 catches names,
numbers and rare terms. Fusing ranks (not scores) needs no calibration between them.
The dense cosine of a passage decides whether it answers at all.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from rank_bm25 import BM25Okapi

from bot.config import RetrievalSettings
from bot.core import text as T
from bot.core.embeddings import Embedder
from bot.core.store import Store
from bot.core.types import Chunk


@dataclass(frozen=True)
class Hit:
    chunk: Chunk
    score: float        # fused RRF score
    similarity: float   # dense cosine to the question


@dataclass(frozen=True)
class Retrieval:
    query_vector: np.ndarray
    hits: tuple[Hit, ...]           # top-k after fusion, best first
    relevant: tuple[Hit, ...]       # those that pass the relevance threshold


class LexicalIndex:
    """BM25 over chunk texts with their heading context; rebuilt from the store."""

    def __init__(self, chunks: list[Chunk]):
        self.chunks = chunks
        corpus = [T.tokens(f"{c.title} {c.section} {c.text}") for c in chunks]
        self._bm25 = BM25Okapi(corpus) if chunks else None
        self._idf = self._bm25.idf if self._bm25 else {}

    def idf(self, token: str) -> float:
        return max(self._idf.get(token, 0.0), 0.0)

    def search(self, query_tokens: list[str], n: int) -> list[tuple[Chunk, float]]:
        if not self._bm25 or not query_tokens:
            return []
        scores = self._bm25.get_scores(query_tokens)
        order = np.argsort(-scores)[:n]
        return [(self.chunks[i], float(scores[i])) for i in order if scores[i] > 0]


class Retriever:
    def __init__(self, store: Store, embedder: Embedder, settings: RetrievalSettings):
        self.store = store
        self.embedder = embedder
        self.settings = settings
        self.min_similarity = embedder.min_similarity
        if settings.min_similarity:  # an explicit setting applies to every language
            self.min_similarity = {lang: settings.min_similarity for lang in embedder.min_similarity}
        self.lexical = LexicalIndex(store.all_chunks())

    def reload(self) -> None:
        """Rebuild the lexical index after the store changed (one assignment: readers never see half)."""
        self.lexical = LexicalIndex(self.store.all_chunks())

    def search(self, query: str, *, k: int | None = None, language: str = "en") -> Retrieval:
        """Top-k passages for `query` (k defaults to the configured top_k)."""
        s = self.settings
        qvec = self.embedder.embed_queries([query])[0]
        dense = self.store.query(qvec, s.candidates)
        lexical = self.lexical.search(T.tokens(query), s.candidates)

        fused: dict[str, float] = {}
        chunks: dict[str, Chunk] = {}
        for ranking in (dense, lexical):
            for rank, (chunk, _) in enumerate(ranking):
                fused[chunk.id] = fused.get(chunk.id, 0.0) + 1.0 / (s.rrf_k + rank + 1)
                chunks[chunk.id] = chunk
        similarity = {c.id: sim for c, sim in dense}
        missing = [cid for cid in fused if cid not in similarity]
        if missing:  # lexical-only hits: their stored vectors give the dense similarity too
            similarity.update({cid: float(v @ qvec) for cid, v in self.store.vectors(missing).items()})

        # (A chunk the lexical index still knows from a replaced generation has no vector: skip it.)
        ranked = [cid for cid in sorted(fused, key=lambda cid: -fused[cid]) if cid in similarity][: k or s.top_k]
        hits = tuple(Hit(chunks[cid], fused[cid], similarity[cid]) for cid in ranked)
        floor = self.min_similarity.get(language, self.min_similarity["en"])
        relevant = tuple(h for h in hits if h.similarity >= floor)
        return Retrieval(qvec, hits, relevant)

