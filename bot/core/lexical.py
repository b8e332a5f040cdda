"""The lexical (BM25) index of one index generation, written beside it when it is published and
memory-mapped by readers, so that starting, following a new generation and answering cost about
the same at 100k chunks as at 1k.

The scores are rank_bm25's BM25Okapi (k1 1.5, b 0.75, negative idf floored at 0.25 x the average
idf), which the retriever used before; what changed is where they are computed. Every (term,
chunk) weight is computed once at build time and stored column by column (one slice of chunk
rows and weights per term, as in a CSC matrix), so a question only touches the slices of its own
terms, never every chunk.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import shutil
from array import array
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from bot.core.types import document_of

_log = logging.getLogger(__name__)

K1, B, EPSILON = 1.5, 0.75, 0.25
_FILES = ("indptr.npy", "rows.npy", "weights.npy", "idf.npy")
# What a chunk's terms are read from (bot.core.store): a saved index of another format is built again.
# 2: a document's profile names (its owner) are terms of its first chunk.
# 3: Latin letters with diacritics are read as their base letters ("André" -> "andre").
FORMAT = 3


class LexicalIndex:
    def __init__(self, ids: list[str], terms: list[str], idf: np.ndarray, indptr: np.ndarray, rows: np.ndarray,
                 weights: np.ndarray):
        self.ids = ids                                   # row -> chunk id
        self._column = {t: i for i, t in enumerate(terms)}
        self._terms = terms
        self._idf, self._indptr, self._rows, self._weights = idf, indptr, rows, weights

    # --- building -------------------------------------------------------------------------------

    @classmethod
    def build(cls, documents: Iterable[tuple[str, list[str]]]) -> LexicalIndex:
        """From (chunk id, tokens) pairs, read once (a generator is fine: nothing per chunk is kept
        but its length and its term counts, in flat arrays)."""
        ids: list[str] = []
        columns: dict[str, int] = {}
        doc_of, term_of, tf, lengths = array("i"), array("i"), array("f"), array("i")
        for row, (cid, tokens) in enumerate(documents):
            ids.append(cid)
            lengths.append(len(tokens))
            for term, count in Counter(tokens).items():
                doc_of.append(row)
                term_of.append(columns.setdefault(term, len(columns)))
                tf.append(count)
        n, terms = len(ids), list(columns)
        if n == 0:
            return cls([], [], np.zeros(0, np.float64), np.zeros(1, np.int64), np.zeros(0, np.int32),
                       np.zeros(0, np.float32))
        doc_of_a, term_of_a = np.frombuffer(doc_of, np.int32), np.frombuffer(term_of, np.int32)
        tf_a, lengths_a = np.frombuffer(tf, np.float32).astype(np.float64), np.frombuffer(lengths, np.int32)
        df = np.bincount(term_of_a, minlength=len(terms)).astype(np.float64)
        idf = np.log(n - df + 0.5) - np.log(df + 0.5)
        idf[idf < 0] = EPSILON * idf.mean()
        avgdl = lengths_a.mean() or 1.0
        norm = K1 * (1 - B + B * lengths_a[doc_of_a] / avgdl)
        weights = idf[term_of_a] * tf_a * (K1 + 1) / (tf_a + norm)
        order = np.argsort(term_of_a, kind="stable")
        indptr = np.concatenate([[0], np.cumsum(df.astype(np.int64))])
        return cls(ids, terms, idf, indptr, doc_of_a[order].copy(), weights[order].astype(np.float32))

    # --- on disk --------------------------------------------------------------------------------

    def save(self, folder: Path) -> None:
        """Written to a temporary folder and renamed: a reader sees all of it or nothing."""
        tmp = folder.with_name(f".{folder.name}.{os.getpid()}.tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        for name, values in zip(_FILES, (self._indptr, self._rows, self._weights, self._idf)):
            np.save(tmp / name, values)
        (tmp / "ids.json").write_text(json.dumps(self.ids), encoding="utf-8")
        (tmp / "terms.json").write_text(json.dumps(self._terms, ensure_ascii=False), encoding="utf-8")
        (tmp / "format").write_text(str(FORMAT), encoding="utf-8")
        if folder.is_dir() and not _current(folder):
            shutil.rmtree(folder, ignore_errors=True)  # one of an older format: replaced
        try:
            tmp.rename(folder)
        except OSError:  # another process wrote the same generation's index first
            shutil.rmtree(tmp, ignore_errors=True)

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex | None:
        """The saved index (arrays memory-mapped), or None when there is none (or it is unreadable,
        or of another format)."""
        if folder.is_dir() and not _current(folder):
            _log.info("lexical index at %s is of an older format: rebuilding it", folder)
            return None
        try:
            arrays = [np.load(folder / name, mmap_mode="r") for name in _FILES]
            ids = json.loads((folder / "ids.json").read_text(encoding="utf-8"))
            terms = json.loads((folder / "terms.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            if folder.exists():
                _log.warning("lexical index at %s not readable (%s): rebuilding it", folder, e)
            return None
        indptr, rows, weights, idf = arrays
        return cls(ids, terms, idf, indptr, rows, weights)

    # --- reading --------------------------------------------------------------------------------

    def idf(self, token: str) -> float:
        column = self._column.get(token)
        return max(float(self._idf[column]), 0.0) if column is not None else 0.0

    def weight(self, token: str) -> float:
        """How much a question's word counts in an overlap: its IDF; a word no passage holds
        counts as much as the rarest word that one does (else "the weather in Paris" would be all
        said by any sentence holding the possessive "s" of "what's")."""
        if token in self._column:
            return self.idf(token)
        return max(float(self._idf.max()), 0.0) if len(self._idf) else 1.0

    def documents_holding(self, tokens: Iterable[str]) -> set[str]:
        """The documents with a chunk that holds every one of `tokens`."""
        return {document_of(cid) for cid in self.holding_all(tokens)}

    def chunks_of(self, document: str) -> list[str]:
        return self._by_document.get(document, [])

    @functools.cached_property
    def _by_document(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for cid in self.ids:
            out.setdefault(document_of(cid), []).append(cid)
        return out

    def holding_all(self, tokens: Iterable[str]) -> set[str]:
        """The chunks that hold every one of `tokens` (none when one is in no chunk)."""
        rows = None
        for t in tokens:
            c = self._column.get(t)
            if c is None:
                return set()
            here = np.asarray(self._rows[self._indptr[c]:self._indptr[c + 1]])
            rows = here if rows is None else np.intersect1d(rows, here, assume_unique=True)
        return set() if rows is None else {self.ids[r] for r in rows.tolist()}

    def search(self, query_tokens: list[str], n: int) -> list[tuple[str, float]]:
        """The `n` best chunks (id, score) by BM25; a repeated query word counts each time."""
        spans = [(self._indptr[c], self._indptr[c + 1]) for c in (self._column.get(t) for t in query_tokens)
                 if c is not None]
        if not spans or not self.ids:
            return []
        rows = np.concatenate([self._rows[a:b] for a, b in spans])
        weights = np.concatenate([self._weights[a:b] for a, b in spans])
        found, inverse = np.unique(rows, return_inverse=True)
        scores = np.bincount(inverse, weights=weights.astype(np.float64))
        top = np.argsort(-scores, kind="stable")[:n]
        return [(self.ids[found[i]], float(scores[i])) for i in top if scores[i] > 0]


def _current(folder: Path) -> bool:
    try:
        return (folder / "format").read_text(encoding="utf-8").strip() == str(FORMAT)
    except OSError:
        return False


def prune(root: Path, keep: set[str]) -> None:
    """Delete the saved indexes of generations no longer kept."""
    if not root.is_dir():
        return
    for folder in root.iterdir():
        if folder.is_dir() and folder.name not in keep and not folder.name.startswith("."):
            shutil.rmtree(folder, ignore_errors=True)
