"""The Chroma store: an embedded PersistentClient, or an HttpClient when a URL is set.

Two collections live side by side: chunks (what retrieval ranks and answers cite) and
their sentences (pre-embedded, so composing an answer costs no embedding calls). The
embedding model's name is stored on the chunk collection; querying with another model
is refused, because its vectors would be compared against meaningless neighbours.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlparse

import numpy as np

from bot.config import Settings
from bot.core.types import Chunk
from bot.errors import EmptyIndexError, IndexMismatchError, StoreError

_BATCH = 500


@dataclass(frozen=True)
class Sentence:
    chunk_id: str
    position: int
    text: str
    vector: np.ndarray


def _client(settings: Settings):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.store.url:
        u = urlparse(settings.store.url)
        if u.scheme not in ("http", "https") or not u.hostname:
            raise StoreError(f"[store] url: expected http(s)://host:port, got {settings.store.url!r}")
        try:
            return chromadb.HttpClient(host=u.hostname, port=u.port or (443 if u.scheme == "https" else 8000),
                                       ssl=u.scheme == "https", settings=chroma_settings)
        except Exception as e:
            raise StoreError(f"cannot reach the Chroma server at {settings.store.url}: {e}") from e
    path = settings.store_path
    try:
        path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(path), settings=chroma_settings)
    except Exception as e:
        raise StoreError(f"cannot open the index at {path}: {e}") from e


class Store:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.location = settings.store.url or str(settings.store_path)
        self._client = _client(settings)
        self._name = settings.store.collection
        self._chunks = None
        self._sentences = None

    # --- opening -------------------------------------------------------------------

    def _existing(self):
        try:
            return self._client.get_collection(self._name)
        except Exception:  # chromadb raises NotFoundError / ValueError by version
            return None

    def indexed_model(self) -> str | None:
        col = self._existing()
        return (col.metadata or {}).get("embedding_model") if col is not None else None

    def open_for_query(self, model: str) -> None:
        col = self._existing()
        if col is None or col.count() == 0:
            raise EmptyIndexError(f"the index at {self.location} is empty: run `python -m bot ingest` first")
        indexed = (col.metadata or {}).get("embedding_model")
        if indexed != model:
            raise IndexMismatchError(
                f"the index at {self.location} was built with the embedding model '{indexed}', "
                f"but '{model}' is configured: re-index with `python -m bot ingest --rebuild`"
            )
        self._chunks = col
        self._sentences = self._client.get_or_create_collection(f"{self._name}_sentences", embedding_function=None)

    def open_for_write(self, model: str, dim: int, *, rebuild: bool = False) -> str | None:
        """Open (creating if needed); returns the previous model when the index had to be rebuilt."""
        previous = self.indexed_model()
        replaced = previous if previous not in (None, model) else None
        if rebuild or replaced:
            self.drop()
        meta = {"hnsw:space": "cosine", "embedding_model": model, "embedding_dim": dim}
        self._chunks = self._client.get_or_create_collection(self._name, embedding_function=None, metadata=meta)
        self._sentences = self._client.get_or_create_collection(
            f"{self._name}_sentences", embedding_function=None, metadata={"hnsw:space": "cosine"})
        return replaced

    def drop(self) -> None:
        for name in (self._name, f"{self._name}_sentences"):
            try:
                self._client.delete_collection(name)
            except Exception:
                pass

    # --- writing -------------------------------------------------------------------

    def file_hashes(self) -> dict[str, str]:
        """path -> content hash of every indexed file."""
        got = self._chunks.get(include=["metadatas"])
        return {m["path"]: m["doc_hash"] for m in got["metadatas"] or []}

    def replace_file(self, path: str, chunks: list[Chunk], vectors: np.ndarray,
                     sentences: list[tuple[str, int, str]], sentence_vectors: np.ndarray) -> None:
        """Swap a file's chunks and sentences for new ones."""
        self.delete_file(path)
        for i in range(0, len(chunks), _BATCH):
            part = chunks[i:i + _BATCH]
            self._chunks.add(
                ids=[c.id for c in part],
                embeddings=vectors[i:i + _BATCH].tolist(),
                documents=[c.text for c in part],
                metadatas=[_chunk_meta(c) for c in part],
            )
        for i in range(0, len(sentences), _BATCH):
            part = sentences[i:i + _BATCH]
            self._sentences.add(
                ids=[f"{cid}:{pos}" for cid, pos, _ in part],
                embeddings=sentence_vectors[i:i + _BATCH].tolist(),
                documents=[s for _, _, s in part],
                metadatas=[{"chunk_id": cid, "path": path, "position": pos} for cid, pos, _ in part],
            )

    def delete_file(self, path: str) -> None:
        self._chunks.delete(where={"path": path})
        self._sentences.delete(where={"path": path})

    # --- reading -------------------------------------------------------------------

    def count(self) -> int:
        return self._chunks.count()

    def query(self, vector: np.ndarray, n: int) -> list[tuple[Chunk, float]]:
        """Nearest chunks with their cosine similarity."""
        n = min(n, self.count())
        if n == 0:
            return []
        got = self._chunks.query(query_embeddings=[vector.tolist()], n_results=n,
                                 include=["documents", "metadatas", "distances"])
        return [
            (_chunk(cid, doc, meta), 1.0 - float(dist))
            for cid, doc, meta, dist in zip(got["ids"][0], got["documents"][0], got["metadatas"][0], got["distances"][0])
        ]

    def vectors(self, chunk_ids: list[str]) -> dict[str, np.ndarray]:
        got = self._chunks.get(ids=list(chunk_ids), include=["embeddings"])
        return {cid: np.asarray(v, dtype=np.float32) for cid, v in zip(got["ids"], got["embeddings"])}

    def all_chunks(self) -> list[Chunk]:
        got = self._chunks.get(include=["documents", "metadatas"])
        return [_chunk(cid, doc, meta) for cid, doc, meta in zip(got["ids"], got["documents"], got["metadatas"])]

    def sentences_for(self, chunk_ids: list[str]) -> list[Sentence]:
        if not chunk_ids:
            return []
        got = self._sentences.get(where={"chunk_id": {"$in": list(chunk_ids)}},
                                  include=["documents", "metadatas", "embeddings"])
        return [
            Sentence(meta["chunk_id"], int(meta["position"]), doc, np.asarray(vec, dtype=np.float32))
            for doc, meta, vec in zip(got["documents"], got["metadatas"], got["embeddings"])
        ]


def _chunk_meta(c: Chunk) -> dict:
    return {"path": c.path, "title": c.title, "section": c.section, "topic": c.topic,
            "url": c.url, "updated": c.updated, "doc_hash": c.doc_hash, "handoff": c.handoff}


def _chunk(cid: str, doc: str, meta: dict) -> Chunk:
    return Chunk(id=cid, text=doc, path=meta["path"], title=meta.get("title", ""),
                 section=meta.get("section", ""), topic=meta.get("topic", ""), url=meta.get("url", ""),
                 updated=meta.get("updated", ""), doc_hash=meta.get("doc_hash", ""),
                 handoff=bool(meta.get("handoff", False)))
