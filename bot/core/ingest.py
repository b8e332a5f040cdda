"""load -> clean -> chunk -> hash -> embed -> upsert, and delete what disappeared.

Incremental by content hash: unchanged files are skipped, changed files replace their
chunks, deleted files lose theirs. A file that fails to load is reported and keeps
whatever it had in the index before.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bot.config import Settings
from bot.core import chunking, crawl, loaders, profile
from bot.core.nlp import paragraphs as text_paragraphs
from bot.core.embeddings import Embedder
from bot.core.store import Store
from bot.core.types import Chunk, chunk_id
from bot.errors import EmptyIndexError, RecordError, StoreError

_log = logging.getLogger(__name__)

# Bump when loading/chunking changes, so every file is re-indexed once.
PIPELINE_VERSION = "12"

# Files that are records rather than prose (position records) are read by the layer that knows them:
# it registers a reader here (bot.recruiting does when imported), and the record's JSON is stored with
# the file's chunks. A reader gets (front matter, body, key) and raises RecordError on a bad field.
RecordReader = Callable[[dict, str, str], str]
_RECORD_READERS: list[tuple[Callable[[str], bool], RecordReader]] = []


def register_record_reader(applies: Callable[[str], bool], read: RecordReader) -> None:
    if (applies, read) not in _RECORD_READERS:
        _RECORD_READERS.append((applies, read))


def _record(meta: dict, text: str, key: str) -> str:
    return next((read(meta, text, key) for applies, read in _RECORD_READERS if applies(key)), "")


@dataclass
class IngestReport:
    model: str
    indexed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    resumed: list[str] = field(default_factory=list)   # embedded by an interrupted ingest, carried on with
    failed: list[tuple[str, str]] = field(default_factory=list)
    chunks: int = 0
    seconds: float = 0.0
    rebuilt_from: str | None = None

    def summary(self) -> str:
        resumed = f", {len(self.resumed)} kept from the interrupted run" if self.resumed else ""
        return (f"{len(self.indexed)} indexed{resumed}, {len(self.unchanged)} unchanged, {len(self.removed)} removed, "
                f"{len(self.failed)} failed; {self.chunks} chunks in {self.seconds:.1f} s")


def index_key(path: Path, root: Path) -> str:
    """The path recorded in the index: relative to the project root when inside it."""
    path = path.resolve()
    try:
        return path.relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def discover(paths: list[Path]) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Supported files under `paths` (sorted, hidden ones skipped), and paths that are missing."""
    files: list[Path] = []
    missing: list[tuple[Path, str]] = []
    for p in paths:
        if p.is_file():
            files.append(p)
        elif p.is_dir():
            for dirpath, dirnames, filenames in os.walk(p):
                dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
                files.extend(Path(dirpath) / f for f in sorted(filenames)
                             if not f.startswith(".") and f.lower().endswith(loaders.SUPPORTED)
                             and f not in profile.FOLDER_FILES)
        else:
            missing.append((p, "not found"))
    return files, missing


def file_hash(raw: bytes, settings: Settings, path: Path, roots: list[Path], cache: dict | None = None) -> str:
    """The file's content, the folder defaults and site configuration its profile reads, and the
    pipeline's version. `cache`: the folders' settings, read once for a run over many files."""
    h = hashlib.sha256(raw)
    h.update(profile.settings_bytes(path, root_of(path, roots), cache))
    h.update(f"|{PIPELINE_VERSION}|{settings.retrieval.chunk_chars}".encode())
    return h.hexdigest()[:32]


def _chunks_of(doc: loaders.Document, key: str, doc_hash: str, settings: Settings, record: str = "",
               owner: profile.Profile = profile.Profile()):
    pieces = chunking.split(doc.text, title=doc.title, chunk_chars=settings.retrieval.chunk_chars)
    prefix = hashlib.sha1(key.encode()).hexdigest()[:12]
    lead = next((p for p in text_paragraphs(doc.text) if not p.startswith("#")), "")[:400]
    names = owner.text()
    chunks, contexts, sentences, sentence_texts = [], [], [], []
    for i, piece in enumerate(pieces):
        chunk = Chunk(id=chunk_id(prefix, i), text=piece.text, path=key, title=doc.title, section=piece.section,
                      topic=doc.topic, url=doc.url, updated=doc.updated, doc_hash=doc_hash, handoff=doc.handoff,
                      organisation=doc.organisation, lead=lead, record=record, sentences=len(piece.sentences),
                      subject=names)
        chunks.append(chunk)
        # Whose page it is travels with every chunk, so that a contact card is found for a question
        # naming the page's owner. A sentence carries the title and section only: the owner's name on
        # every sentence made a page's least relevant sentence win any question naming the owner.
        contexts.append(piece.context(doc.title, owner=names))
        for j, s in enumerate(piece.sentences):
            sentences.append((chunk.id, j, s))
            sentence_texts.append(f"{piece.heading(doc.title)}: {s}")
    return chunks, contexts, sentences, sentence_texts


def _text_hash(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def _embed(embedder: Embedder, groups: list[list[str]], hashes: tuple[list[str], ...],
           known: dict[str, np.ndarray]) -> list[np.ndarray]:
    """Vectors for each group of texts (a file's chunk contexts, its sentences): those `known` by
    the hash of their text reused, the others embedded in one batch per group."""
    out = []
    for texts, keys in zip(groups, hashes):
        missing = list(dict.fromkeys(t for t, k in zip(texts, keys) if k not in known))
        made = dict(zip(missing, embedder.embed_passages(missing))) if missing else {}
        rows = [known[k] if k in known else made[t] for t, k in zip(texts, keys)]
        out.append(np.stack(rows).astype(np.float32) if rows else np.zeros((0, embedder.dim), np.float32))
    return out


def root_of(path: Path, roots: list[Path]) -> Path | None:
    """The ingested folder a file was found under (its own folder when it was named itself)."""
    path = path.resolve()
    for r in roots:
        if r == path:
            return r.parent
        if r in path.parents:
            return r
    return None


def read(path: Path, key: str, roots: list[Path]) -> tuple[loaders.Document, profile.Profile]:
    """A file loaded, with its profile (whose page it is)."""
    doc = loaders.load(path, key)
    doc.url = crawl.source_url(path) or doc.url  # a page read from the web is cited by its address
    return doc, profile.build(doc, path, root_of(path, roots))


_PROGRESS_EVERY_S = 15.0


def _progress(done: int, total: int, chunks: int, seconds: float) -> str:
    left = (total - done) * seconds / done if done else 0.0
    return (f"indexing: {done}/{total} files, {chunks} chunks, {chunks / seconds:.1f} chunks/s, "
            f"about {left / 60:.0f} min left")


def ingest(settings: Settings, *, store: Store, embedder: Embedder, paths: list[Path] | None = None,
           rebuild: bool = False, progress: bool | None = None) -> IngestReport:
    """Index `paths` (default: the knowledge folders) into a new generation of the index and
    publish it; readers switch to it in one step. Nothing changed: nothing is published."""
    started = time.perf_counter()
    report = IngestReport(model=embedder.name)
    indexed_model = store.indexed_model()
    if indexed_model not in (None, embedder.name):
        report.rebuilt_from = indexed_model
    known: dict[str, str] = {}
    if not rebuild and not report.rebuilt_from and indexed_model:
        try:
            store.open_for_query(embedder.name)
            known = store.file_hashes()
        except EmptyIndexError:  # every file was removed last time
            pass
    roots = [p.resolve() for p in (paths or settings.knowledge_paths)]
    files, missing = discover(roots)
    report.failed.extend((index_key(p, settings.root), why) for p, why in missing)

    # Files an interrupted ingest embedded already are not embedded again (if they did not change since).
    building = {} if rebuild else store.resume(embedder.name)

    from tqdm import tqdm
    show = sys.stderr.isatty() if progress is None else progress
    lines = progress is None and not show  # a log, not a terminal: a plain line now and then instead of a bar
    said = time.monotonic()
    folders: dict = {}  # each folder's defaults and site configuration, read once
    try:
        for done, path in enumerate(tqdm(files, desc="indexing", unit="file", disable=not show, leave=False)):
            if lines and time.monotonic() - said >= _PROGRESS_EVERY_S:
                said = time.monotonic()
                print(_progress(done, len(files), report.chunks, time.perf_counter() - started), file=sys.stderr,
                      flush=True)
            key = index_key(path, settings.root)
            try:
                raw = path.read_bytes()
                doc_hash = file_hash(raw, settings, path, roots, folders)
                if building.get(key) == doc_hash:
                    report.resumed.append(key)
                    continue
                if known.get(key) == doc_hash:
                    report.unchanged.append(key)
                    continue
                doc, owner = read(path, key, roots)
                # A position record is used whole or not at all: a bad field skips the file.
                record = _record(doc.meta, doc.text, key)
            except OSError as e:
                report.failed.append((key, f"cannot read: {e.strerror or e}"))
                continue
            except (loaders.LoadError, RecordError) as e:
                report.failed.append((key, str(e)))
                continue
            chunks, contexts, sentences, sentence_texts = _chunks_of(doc, key, doc_hash, settings, record, owner)
            # An edited file: the vectors of the text that did not change are the live generation's.
            reuse = store.embedded(key) if key in known else {}
            embedded = ([_text_hash(t) for t in contexts], [_text_hash(t) for t in sentence_texts])
            vectors, sentence_vectors = _embed(embedder, [contexts, sentence_texts], embedded, reuse)
            if store.building is None:
                store.begin_generation(embedder.name, embedder.dim)
            if building.pop(key, None):  # changed since the interrupted run embedded it
                store.remove_files([key])
            store.add_file(key, chunks, vectors, sentences, sentence_vectors, embedded)
            report.indexed.append(key)
            report.chunks += len(chunks)

        # Files indexed before under these roots that are gone now. Roots that are
        # missing altogether are left alone: a typo must not wipe the index.
        seen = {index_key(p, settings.root) for p in files}
        live_roots = [index_key(r, settings.root) for r in roots if r.exists()]
        for key in sorted(known):
            under = any(key == r or key.startswith(r.rstrip("/") + "/") for r in live_roots)
            if under and key not in seen and not (settings.resolve(key)).exists():
                report.removed.append(key)
        if report.indexed or report.removed or report.resumed:
            if store.building is None:
                store.begin_generation(embedder.name, embedder.dim)
            # What the interrupted run embedded of files gone or changed since is taken out again.
            store.remove_files(sorted(set(building) - set(report.resumed)))
            # Unchanged files, files that failed to load now, and files outside `paths` keep their chunks.
            store.copy_files(sorted(set(known) - set(report.indexed) - set(report.removed) - set(report.resumed)))
            store.publish(embedder.name)
        else:
            store.abandon()  # nothing changed: a carried-on generation holds nothing new either
    except BaseException:
        # Readers never see a half-built generation; the next ingest carries on with it.
        store.suspend()
        raise
    report.seconds = time.perf_counter() - started
    _log.info("ingest: %s", report.summary())
    return report


def is_stale(settings: Settings, store: Store, model: str) -> bool:
    """True when the configured knowledge differs from what the index holds."""
    try:
        store.open_for_query(model)
    except StoreError:  # empty, or built with another model
        return True
    known = store.file_hashes()
    roots = [p.resolve() for p in settings.knowledge_paths]
    files, _ = discover(roots)
    current, folders = {}, {}
    for path in files:
        try:
            current[index_key(path, settings.root)] = file_hash(path.read_bytes(), settings, path, roots, folders)
        except OSError:
            continue
    return any(known.get(k) != h for k, h in current.items()) or any(
        k not in current and not settings.resolve(k).exists() for k in known)
