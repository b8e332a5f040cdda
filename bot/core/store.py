"""The Chroma store: an embedded PersistentClient, or an HttpClient when a URL is set.

Two collections make up a generation of the index: chunks (what retrieval ranks and answers cite) and
their sentences (pre-embedded, so composing an answer costs no embedding calls). The
embedding model's name is stored on the chunk collection; querying with another model
is refused, because its vectors would be compared against meaningless neighbours.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator
import re
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

from bot.config import Settings
from bot.core import lexical
from bot.core import nlp
from bot.core.types import Chunk, opens_document
from bot.errors import EmptyIndexError, IndexMismatchError, StoreError

_log = logging.getLogger(__name__)
_BATCH = 500
# Records per read. Embedded Chroma (SQLite) refuses one read of 32,767 records or more ("too many SQL
# variables"), so every read of a collection, or of many ids or paths, goes in pages.
_PAGE = 5000
_GENERATION = re.compile(r"^-g\d+(-sentences)?$")  # what follows the index name in a generation's name


@dataclass(frozen=True)
class Sentence:
    chunk_id: str
    position: int
    text: str
    vector: np.ndarray


def _client(settings: Settings, timeout: float):
    import chromadb
    import httpx
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.store.url:
        u = urlparse(settings.store.url)
        if u.scheme not in ("http", "https") or not u.hostname:
            raise StoreError(f"[store] url: expected http(s)://host:port, got {settings.store.url!r}")
        client = _wait_for_server(settings.store.url, settings.store.connect_timeout_s, lambda: chromadb.HttpClient(
            host=u.hostname, port=u.port or (443 if u.scheme == "https" else 8000), ssl=u.scheme == "https",
            settings=chroma_settings))
        # chromadb's HTTP client waits forever (httpx timeout=None): a hung server would hang every
        # question and the worker threads with it. Its session is the one place to set a limit.
        client._server._session.timeout = httpx.Timeout(timeout)
        return client
    path = settings.store_path
    try:
        path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(path), settings=chroma_settings)
    except Exception as e:
        raise StoreError(f"cannot open the index at {path}: {e}") from e


def _wait_for_server(url: str, timeout: float, connect):
    """Connect, retrying with backoff for up to `timeout` seconds (the server may still be starting)."""
    deadline = time.monotonic() + timeout
    delay = 0.5
    for attempt in itertools.count(1):
        try:
            return connect()
        except Exception as e:
            left = deadline - time.monotonic()
            if left <= 0:
                raise StoreError(f"cannot reach the Chroma server at {url} (gave up after {timeout:.0f} s: {e}); "
                                 "check that it is running and [store] url / BOT_STORE_URL") from e
            delay = min(delay, left)
            _log.warning("waiting for the Chroma server at %s (attempt %d failed: %s); retrying in %.1f s",
                         url, attempt, e, delay)
            time.sleep(delay)
            delay = min(delay * 2, 10.0)


class Store:
    """One index, published in generations so that readers never see a half-written one.

    Collection `<name>` is a pointer whose metadata names the live generation; a generation is a
    pair of collections `<name>-g<stamp>` (chunks) and `<name>-g<stamp>-sentences`. `ingest`
    writes a new generation and then switches the pointer in one update; readers (other
    processes too) move to it on `refresh()`. The previous generation is kept for readers
    still on it; older ones are deleted.
    """

    def __init__(self, settings: Settings, *, writing: bool = False):
        """`writing`: for an ingest, whose batches may take longer than a question's requests."""
        self.settings = settings
        self.location = settings.store.url or str(settings.store_path)
        self._client = _client(settings, settings.store.request_timeout_s * (20 if writing else 1))
        self._name = settings.store.collection
        self.generation: str | None = None
        self._chunks = None
        self._sentences = None
        self._sizes = (0, 0)                # chunks and sentences of the generation being read
        self._records = (frozenset(), 0)    # its position records' chunk ids, and their sentence count
        self._fits_memory = False              # the generation being read fits [store] memory_mb...
        self._in_memory: _InMemory | None = None  # ...and is read into memory at its first question
        self._writing: tuple | None = None  # (name, chunks, sentences) of the generation being built

    # --- opening -------------------------------------------------------------------

    def _pointer(self) -> dict:
        from chromadb.errors import NotFoundError

        try:
            return self._client.get_collection(self._name).metadata or {}
        except NotFoundError:
            return {}

    def indexed_model(self) -> str | None:
        pointer = self._pointer()
        return pointer.get("embedding_model") if pointer.get("live") else None

    def open_for_query(self, model: str) -> None:
        pointer = self._pointer()
        live = pointer.get("live")
        if not live:
            raise EmptyIndexError(f"the index at {self.location} is empty: run `python -m bot ingest` first")
        if pointer.get("embedding_model") != model:
            raise IndexMismatchError(
                f"the index at {self.location} was built with the embedding model '{pointer.get('embedding_model')}', "
                f"but '{model}' is configured: re-index with `python -m bot ingest --rebuild`"
            )
        self._chunks = self._client.get_collection(live)
        self._sentences = self._client.get_collection(f"{live}-sentences")
        self.generation = live
        # A published generation never changes (an ingest writes a new one), so its sizes are read once.
        self._sizes = (self._chunks.count(), self._sentences.count())
        if self._sizes[0] == 0:
            raise EmptyIndexError(f"the index at {self.location} is empty: run `python -m bot ingest` first")
        ids = [cid for _, chunk_ids in self.records().values() for cid in chunk_ids]
        sentences = sum(len(got["ids"]) for got in _read(self._sentences, [], "chunk_id", ids))
        self._records = (frozenset(ids), sentences)
        dim = int((self._chunks.metadata or {}).get("embedding_dim") or 384)
        self._fits_memory = sum(self._sizes) * (dim * 4 + _TEXT_BYTES) <= self.settings.store.memory_mb * 2**20
        self._in_memory = None

    @property
    def _memory(self) -> _InMemory | None:
        """The generation being read, in memory, when it fits (read at the first question, so that an
        ingest, which opens the live generation only to compare and copy, never reads it whole)."""
        if self._fits_memory and self._in_memory is None:
            self._in_memory = _InMemory(self._chunks, self._sentences)
        return self._in_memory

    def refresh(self, model: str) -> bool:
        """Move to the generation an ingest published since; True when it changed."""
        if self._pointer().get("live") in (None, self.generation):
            return False
        self.open_for_query(model)
        return True

    def reachable(self) -> bool:
        try:
            self._client.heartbeat()
            return True
        except Exception:
            return False

    # --- writing: build a generation, then publish it ------------------------------

    def file_hashes(self) -> dict[str, str]:
        """path -> content hash of every file in the generation being read."""
        return {m["path"]: m["doc_hash"] for got in _read(self._chunks, ["metadatas"]) for m in got["metadatas"] or []}

    @property
    def building(self) -> str | None:
        """The generation being built, if any."""
        return self._writing[0] if self._writing else None

    def begin_generation(self, model: str, dim: int) -> str:
        name = f"{self._name}-g{time.time_ns() // 1_000_000}"
        meta = {"hnsw:space": "cosine", "embedding_model": model, "embedding_dim": dim}
        chunks = self._client.create_collection(name, embedding_function=None, metadata=meta)
        sentences = self._client.create_collection(f"{name}-sentences", embedding_function=None,
                                                   metadata={"hnsw:space": "cosine"})
        self._writing = (name, chunks, sentences)
        return name

    def add_file(self, path: str, chunks: list[Chunk], vectors: np.ndarray,
                 sentences: list[tuple[str, int, str]], sentence_vectors: np.ndarray,
                 embedded: tuple[list[str], list[str]] = ([], [])) -> None:
        """Add a file's chunks and sentences to the generation being built. `embedded`: the hashes of
        the texts their vectors were made from (chunks', sentences'), so a later edit reuses them."""
        _, chunk_col, sentence_col = self._writing
        chunk_hashes, sentence_hashes = embedded
        _add(chunk_col, [c.id for c in chunks], vectors, [c.text for c in chunks],
             [{**_chunk_meta(c), **({"embedded": chunk_hashes[i]} if chunk_hashes else {})}
              for i, c in enumerate(chunks)])
        _add(sentence_col, [f"{cid}:{pos}" for cid, pos, _ in sentences], sentence_vectors,
             [s for _, _, s in sentences],
             [{"chunk_id": cid, "path": path, "position": pos,
               **({"embedded": sentence_hashes[i]} if sentence_hashes else {})}
              for i, (cid, pos, _) in enumerate(sentences)])

    def embedded(self, path: str) -> dict[str, np.ndarray]:
        """The vectors the live generation holds for a file's chunks and sentences, by the hash of the
        text each was made from: re-indexing an edited file embeds only what changed."""
        found: dict[str, np.ndarray] = {}
        for collection in (self._chunks, self._sentences):
            if collection is None:
                continue
            for got in _read(collection, ["embeddings", "metadatas"], "path", [path]):
                for vector, meta in zip(got["embeddings"], got["metadatas"]):
                    if meta.get("embedded"):
                        found[meta["embedded"]] = np.asarray(vector, dtype=np.float32)
        return found

    def copy_files(self, paths: list[str]) -> None:
        """Carry files over unchanged from the generation being read (no re-embedding)."""
        if not paths:
            return
        _, chunk_col, sentence_col = self._writing
        for source, target in ((self._chunks, chunk_col), (self._sentences, sentence_col)):
            for got in _read(source, ["embeddings", "documents", "metadatas"], "path", list(paths)):
                if got["ids"]:
                    _add(target, got["ids"], np.asarray(got["embeddings"]), got["documents"], got["metadatas"])

    def publish(self, model: str) -> None:
        """Make the generation being built the live one (one metadata update), then prune. Its lexical
        index is written first, so a reader that follows the new generation finds it ready."""
        name, chunks, sentences = self._writing
        self._save_lexical(name, self._build_lexical(chunks))
        previous = self._pointer().get("live", "")
        pointer = self._client.get_or_create_collection(self._name, embedding_function=None)
        if pointer.count():  # an index from before generations: its chunks lived here
            self._client.delete_collection(self._name)
            pointer = self._client.create_collection(self._name, embedding_function=None)
        pointer.modify(metadata={"live": name, "previous": previous, "embedding_model": model,
                                 "published": time.time()})
        self._writing = None
        self._chunks, self._sentences, self.generation = chunks, sentences, name
        keep = {name, previous}
        lexical.prune(self.lexical_root, keep)
        for other in (c.name for c in self._client.list_collections()):
            base = other.removesuffix("-sentences")
            mine = other.startswith(self._name) and _GENERATION.match(other[len(self._name):])
            stale = mine and base not in keep
            if stale or other == f"{self._name}_sentences":
                try:
                    self._client.delete_collection(other)
                except Exception:  # another ingest may have deleted it first
                    pass

    def suspend(self) -> None:
        """An ingest was interrupted: keep what it built, unpublished, for the next ingest to carry on
        with (`begin_generation`); readers never see it. Nothing built: nothing kept."""
        if not self._writing:
            return
        if not self._writing[1].count():
            self.abandon()
            return
        pointer = self._client.get_or_create_collection(self._name, embedding_function=None)
        pointer.modify(metadata={**(pointer.metadata or {}), "resume": self._writing[0]})
        self._writing = None

    def resume(self, model: str) -> dict[str, str]:
        """Carry on with the generation an interrupted ingest left (see `suspend`), if it was built with
        `model`: it becomes the one being built. path -> content hash of the files already in it."""
        from chromadb.errors import NotFoundError

        pointer = self._pointer()
        name = pointer.get("resume")
        if not name or name == pointer.get("live"):
            return {}
        try:
            chunks = self._client.get_collection(name)
            sentences = self._client.get_collection(f"{name}-sentences")
        except NotFoundError:  # pruned by another ingest's publish since
            return {}
        if (chunks.metadata or {}).get("embedding_model") != model:
            return {}
        self._writing = (name, chunks, sentences)
        return {m["path"]: m["doc_hash"] for got in _read(chunks, ["metadatas"]) for m in got["metadatas"] or []}

    def remove_files(self, paths: list[str]) -> None:
        """Take files out of the generation being built (changed or gone since it was started)."""
        for collection in self._writing[1:]:
            for i in range(0, len(paths), _BATCH):
                collection.delete(where={"path": {"$in": paths[i:i + _BATCH]}})

    def abandon(self) -> None:
        """Delete a generation that was being built when something failed."""
        if self._writing:
            for name in (self._writing[0], f"{self._writing[0]}-sentences"):
                try:
                    self._client.delete_collection(name)
                except Exception:
                    pass
            self._writing = None

    # --- reading -------------------------------------------------------------------

    def count(self) -> int:
        return self._chunks.count()

    # Position records are listed and matched from their fields (bot.recruiting), not searched as
    # documents: their short, similar sentences would crowd out the pages that answer questions.

    def query(self, vector: np.ndarray, n: int) -> list[tuple[Chunk, float]]:
        """Nearest chunks (position records aside) with their cosine similarity."""
        records, _ = self._records
        wanted = min(n + len(records), self._sizes[0])
        if wanted == 0:
            return []
        if self._memory:
            return [(c, s) for c, s in self._memory.nearest_chunks(vector, wanted) if c.id not in records][:n]
        got = self._chunks.query(query_embeddings=[vector.tolist()], n_results=wanted,
                                 include=["documents", "metadatas", "distances"])
        return [
            (_chunk(cid, doc, meta), 1.0 - float(dist))
            for cid, doc, meta, dist in zip(got["ids"][0], got["documents"][0], got["metadatas"][0], got["distances"][0])
            if cid not in records
        ][:n]

    def query_sentences(self, vectors: list[np.ndarray], n: int) -> list[tuple[str, float]]:
        """Chunks holding the sentences nearest to any of `vectors`, with that sentence's cosine: a
        fact in one sentence of a long, many-topic passage is found even when the passage is not."""
        records, record_sentences = self._records
        wanted = min(n + record_sentences, self._sizes[1])
        if wanted == 0 or not vectors:
            return []
        if self._memory:
            nearest = [self._memory.nearest_sentences(v, wanted) for v in vectors]
        else:
            got = self._sentences.query(query_embeddings=[v.tolist() for v in vectors], n_results=wanted,
                                        include=["metadatas", "distances"])
            nearest = [[(m["chunk_id"], 1.0 - float(d)) for m, d in zip(metas, dists)]
                       for metas, dists in zip(got["metadatas"], got["distances"])]
        best: dict[str, float] = {}
        for found in nearest:
            for chunk_id, similarity in [(c, s) for c, s in found if c not in records][:n]:
                best[chunk_id] = max(best.get(chunk_id, -1.0), similarity)
        return sorted(best.items(), key=lambda pair: -pair[1])

    def chunks(self, chunk_ids: list[str]) -> dict[str, Chunk]:
        if self._memory:
            return self._memory.chunks(chunk_ids)
        return {cid: _chunk(cid, doc, meta) for got in _read(self._chunks, ["documents", "metadatas"], "id", chunk_ids)
                for cid, doc, meta in zip(got["ids"], got["documents"], got["metadatas"])}

    def vectors(self, chunk_ids: list[str]) -> dict[str, np.ndarray]:
        if self._memory:
            return self._memory.vectors(chunk_ids)
        return {cid: np.asarray(v, dtype=np.float32) for got in _read(self._chunks, ["embeddings"], "id", chunk_ids)
                for cid, v in zip(got["ids"], got["embeddings"])}

    def records(self) -> dict[str, tuple[str, list[str]]]:
        """path -> (position record JSON, its chunk ids) for every record file in the generation."""
        out: dict[str, tuple[str, list[str]]] = {}
        for got in _read(self._chunks, ["metadatas"], where={"record": {"$ne": ""}}):
            for cid, meta in zip(got["ids"], got["metadatas"]):
                if meta.get("record"):
                    out.setdefault(meta["path"], (meta["record"], []))[1].append(cid)
        return out

    # --- the lexical index of a generation (bot.core.lexical), saved beside the store --------------

    @property
    def lexical_root(self) -> Path:
        return self.settings.store_path / "lexical" / self._name

    def lexical_index(self) -> lexical.LexicalIndex:
        """The generation's lexical index: memory-mapped from disk, else built from paged reads
        (a Chroma server's generation seen first by this machine) and saved for next time."""
        saved = lexical.LexicalIndex.load(self.lexical_root / self.generation)
        if saved is not None:
            return saved
        index = self._build_lexical(self._chunks)
        self._save_lexical(self.generation, index)
        return index

    def _build_lexical(self, collection) -> lexical.LexicalIndex:
        # Position records are listed from their fields, never searched as documents (see query).
        # Whose page it is (its profile's names) is read with its first chunk, as a page's header is.
        return lexical.LexicalIndex.build(
            (cid, nlp.tokens(f"{meta.get('title', '')} {meta.get('subject', '') if opens_document(cid) else ''} "
                             f"{meta.get('section', '')} {doc}"))
            for got in _read(collection, ["documents", "metadatas"])
            for cid, doc, meta in zip(got["ids"], got["documents"], got["metadatas"]) if not meta.get("record"))

    def _save_lexical(self, generation: str, index: lexical.LexicalIndex) -> None:
        try:
            index.save(self.lexical_root / generation)
        except OSError as e:  # a read-only volume: each reader builds it in memory instead
            _log.warning("could not save the lexical index under %s: %s", self.lexical_root, e)

    def all_chunks(self) -> list[Chunk]:
        return [_chunk(cid, doc, meta) for got in _read(self._chunks, ["documents", "metadatas"])
                for cid, doc, meta in zip(got["ids"], got["documents"], got["metadatas"])]

    def sentences_for(self, chunks: list[Chunk | str]) -> list[Sentence]:
        """The stored sentences of `chunks`. A chunk that records how many it has is read by the
        sentences' ids (an indexed lookup); otherwise by a metadata filter, which costs more the larger
        the index (about 20 ms per answer at 100k chunks)."""
        if self._memory:
            return self._memory.sentences_for([c if isinstance(c, str) else c.id for c in chunks])
        counted = [c for c in chunks if not isinstance(c, str) and c.sentences >= 0]
        ids = [f"{c.id}:{n}" for c in counted for n in range(c.sentences)]
        others = [c if isinstance(c, str) else c.id for c in chunks if isinstance(c, str) or c.sentences < 0]
        include = ["documents", "metadatas", "embeddings"]
        pages = itertools.chain(_read(self._sentences, include, "id", ids) if ids else (),
                                _read(self._sentences, include, "chunk_id", others) if others else ())
        return [Sentence(meta["chunk_id"], int(meta["position"]), doc, np.asarray(vec, dtype=np.float32))
                for got in pages for doc, meta, vec in zip(got["documents"], got["metadatas"], got["embeddings"])]


_TEXT_BYTES = 400  # a record's text and metadata in memory, on average (chunks are longer, sentences shorter)


class _InMemory:
    """A generation read whole into memory (it fits `[store] memory_mb`): nearest neighbours by one
    matrix product, texts and vectors by id, so that a question makes no round trip to Chroma. A
    published generation never changes; a new one is read when the store moves to it."""

    def __init__(self, chunks, sentences):
        include = ["documents", "metadatas", "embeddings"]
        self._chunks = _Rows(chunks, include)
        self._sentences = _Rows(sentences, include)
        self._by_chunk: dict[str, list[int]] = {}
        for row, meta in enumerate(self._sentences.metas):
            self._by_chunk.setdefault(meta["chunk_id"], []).append(row)
        for rows in self._by_chunk.values():
            rows.sort(key=lambda r: int(self._sentences.metas[r]["position"]))

    def nearest_chunks(self, vector: np.ndarray, n: int) -> list[tuple[Chunk, float]]:
        return [(self._chunk(row), similarity) for row, similarity in self._chunks.nearest(vector, n)]

    def nearest_sentences(self, vector: np.ndarray, n: int) -> list[tuple[str, float]]:
        metas = self._sentences.metas
        return [(metas[row]["chunk_id"], similarity) for row, similarity in self._sentences.nearest(vector, n)]

    def chunks(self, chunk_ids: list[str]) -> dict[str, Chunk]:
        rows = self._chunks.row
        return {cid: self._chunk(rows[cid]) for cid in chunk_ids if cid in rows}

    def vectors(self, chunk_ids: list[str]) -> dict[str, np.ndarray]:
        rows = self._chunks.row
        return {cid: self._chunks.vectors[rows[cid]] for cid in chunk_ids if cid in rows}

    def sentences_for(self, chunk_ids: list[str]) -> list[Sentence]:
        s = self._sentences
        return [Sentence(s.metas[r]["chunk_id"], int(s.metas[r]["position"]), s.docs[r], s.vectors[r])
                for cid in chunk_ids for r in self._by_chunk.get(cid, ())]

    def _chunk(self, row: int) -> Chunk:
        c = self._chunks
        return _chunk(c.ids[row], c.docs[row], c.metas[row])


class _Rows:
    """One collection's records, in memory."""

    def __init__(self, collection, include: list[str]):
        self.ids, self.docs, self.metas, vectors = [], [], [], []
        for got in _read(collection, include):
            self.ids += got["ids"]
            self.docs += got["documents"]
            self.metas += got["metadatas"]
            vectors += list(got["embeddings"])
        self.vectors = np.asarray(vectors, dtype=np.float32).reshape(len(self.ids), -1)
        norms = np.linalg.norm(self.vectors, axis=1)
        self._norms = np.where(norms == 0, 1.0, norms)  # cosine, as the collections measure it
        self.row = {cid: row for row, cid in enumerate(self.ids)}

    def nearest(self, vector: np.ndarray, n: int) -> list[tuple[int, float]]:
        if not self.ids:
            return []
        similarity = (self.vectors @ vector) / (self._norms * (np.linalg.norm(vector) or 1.0))
        n = min(n, len(self.ids))
        top = np.argpartition(-similarity, n - 1)[:n]
        return [(int(row), float(similarity[row])) for row in top[np.argsort(-similarity[top], kind="stable")]]


def _read(collection, include: list[str], field: str = "", values: list[str] | None = None, *,
          where: dict | None = None) -> Iterator[dict]:
    """`collection.get` in pages: all of it (or what `where` selects), or the records whose `field`
    ("id" or a metadata key) is one of `values`, a batch of values at a time."""
    if values is not None:
        for i in range(0, len(values), _BATCH):
            batch = list(values[i:i + _BATCH])
            if field == "id":
                yield collection.get(ids=batch, include=include)
            else:
                yield from _read(collection, include, where={field: {"$in": batch}})
        return
    offset = 0
    while True:
        got = collection.get(where=where, include=include, limit=_PAGE, offset=offset)
        yield got
        if len(got["ids"]) < _PAGE:
            return
        offset += _PAGE


def _add(collection, ids: list[str], vectors: np.ndarray, documents: list[str], metadatas: list[dict]) -> None:
    for i in range(0, len(ids), _BATCH):
        collection.add(ids=ids[i:i + _BATCH], embeddings=vectors[i:i + _BATCH].tolist(),
                       documents=documents[i:i + _BATCH], metadatas=metadatas[i:i + _BATCH])


def _chunk_meta(c: Chunk) -> dict:
    return {"path": c.path, "title": c.title, "section": c.section, "topic": c.topic,
            "url": c.url, "updated": c.updated, "doc_hash": c.doc_hash, "handoff": c.handoff,
            "organisation": c.organisation, "lead": c.lead, "record": c.record, "sentences": c.sentences,
            "subject": c.subject}


def _chunk(cid: str, doc: str, meta: dict) -> Chunk:
    return Chunk(id=cid, text=doc, path=meta["path"], title=meta.get("title", ""),
                 section=meta.get("section", ""), topic=meta.get("topic", ""), url=meta.get("url", ""),
                 updated=meta.get("updated", ""), doc_hash=meta.get("doc_hash", ""),
                 handoff=bool(meta.get("handoff", False)), organisation=meta.get("organisation", ""),
                 lead=meta.get("lead", ""), record=meta.get("record", ""), sentences=int(meta.get("sentences", -1)),
                 subject=meta.get("subject", ""))
