"""Hybrid retrieval: dense search in Chroma (over chunks and over their sentences) fused with
BM25 by reciprocal rank.

Dense vectors catch paraphrases and cross-language questions; BM25 catches names,
numbers and rare terms. Fusing ranks (not scores) needs no calibration between them.
The dense cosine of a passage, above its question/passage language pair's floor, decides whether
it is on topic; whether a sentence of it answers is decided in compose (answerability).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from bot.config import RetrievalSettings
from bot.core import nlp
from bot.core.embeddings import Embedder
from bot.core.store import Store
from bot.core.types import Chunk, document_of


_SENTENCE_HITS = 6  # passages of the nearest sentences that always join the top-k
_LEXICAL_HITS = 2   # and of the best word matches
_SUBJECT_PAGES = 6     # a name held by more pages than this names no one page's subject
_PAGE_PASSAGES = 40    # passages of a page about it read for the one nearest to what is asked
_SUBJECT_PASSAGES = 2  # such passages that join the found ones


@dataclass(frozen=True)
class Hit:
    chunk: Chunk
    score: float        # fused RRF score
    similarity: float   # dense cosine to the question
    floor: float = 0.0  # the relevance floor for this pair of question and passage language

    @property
    def margin(self) -> float:
        """How far above its floor: comparable across languages, unlike the raw cosine."""
        return self.similarity - self.floor


@dataclass(frozen=True)
class Retrieval:
    query_vector: np.ndarray
    hits: tuple[Hit, ...]           # top-k after fusion, best first; then the passages of the nearest
                                    # sentences, of the best word matches, and the best in the other language
    relevant: tuple[Hit, ...]       # those that pass the relevance threshold
    floors: dict[str, float] = field(default_factory=dict)  # passage language -> floor, for this question
    language: str = "en"                                    # the question's


class Retriever:
    def __init__(self, store: Store, embedder: Embedder, settings: RetrievalSettings):
        self.store = store
        self.embedder = embedder
        self.settings = settings
        self.min_similarity = dict(embedder.min_similarity)
        if settings.min_similarity:  # an explicit setting applies to every pair of languages
            self.min_similarity = {pair: settings.min_similarity for pair in ("en-en", "en-zh", "zh-en", "zh-zh")}
        self.reload()

    def reload(self) -> None:
        """Load the generation's lexical index after the store moved (one assignment: readers never see half)."""
        self.lexical = self.store.lexical_index()

    def search(self, query: str, *, k: int | None = None, language: str = "en",
               vector: np.ndarray | None = None, predicate: np.ndarray | None = None,
               names: tuple = ()) -> Retrieval:
        """Top-k passages for `query` (k defaults to the configured top_k); `vector`: its embedding,
        when the caller has it already; `predicate`: the embedding of what is asked without the
        names in it ("Who is the director of it?"), which finds the sentence that says it; `names`:
        for each name the question uses, the word sets that say it whole and in part (`Entity.forms`,
        `Entity.parts`)."""
        s = self.settings
        qvec = self.embedder.embed_queries([query])[0] if vector is None else vector
        dense = self.store.query(qvec, s.candidates)
        words = nlp.tokens(query)
        # Words in the other script than the question's ("Denolle 课题组…", "the 之江 campus") get a
        # ranking of their own: among the question's many own-script words they count for little, yet
        # they are what finds the other language's pages about the same names.
        other = [w for w in words if bool(nlp.CJK_RUN.match(w)) != (language == "zh")]
        # A Chinese question's words in English (their dictionary senses: 托福 -> TOEFL) find the English
        # pages that say what it asks in their own words, which closeness across languages ranks low.
        glossed = sorted({g for w in words for g in nlp.gloss(w)}) if language == "zh" else []
        # (word search results, weight in the fusion): the question's words, its other script's, its glosses
        word_searches = [(self.lexical.search(words, s.candidates), 1),
                         (self.lexical.search(other, s.candidates) if other and len(other) < len(words) else [], 2),
                         (self.lexical.search(glossed, s.candidates) if glossed else [], 1)]
        by_sentence = self.store.query_sentences([qvec] if predicate is None else [qvec, predicate], s.candidates)

        chunks: dict[str, Chunk] = {c.id: c for c, _ in dense}
        matched = [cid for found, _ in word_searches for cid, _ in found] + [cid for cid, _ in by_sentence]
        unseen = list(dict.fromkeys(cid for cid in matched if cid not in chunks))
        if unseen:  # lexical-only and sentence-only hits, read in one request
            chunks.update(self.store.chunks(unseen))
        # A word match whose chunk is gone (a replaced generation's) is dropped.
        word_searches = [([cid for cid, _ in found if cid in chunks], weight) for found, weight in word_searches]
        lang = {cid: nlp.language(c.text) for cid, c in chunks.items()}
        floor = {cid: self.floor(language, lang[cid]) for cid in chunks}
        similarity = {c.id: sim for c, sim in dense}
        missing = [cid for cid in chunks if cid not in similarity]
        if missing:  # lexical-only and sentence-only hits: their stored vectors give the dense similarity
            similarity.update({cid: float(v @ qvec) for cid, v in self.store.vectors(missing).items()})

        # Dense candidates and sentences are ranked by how far they clear their language pair's floor:
        # a passage in the other language scores lower cosines for the same relevance.
        dense_ids = sorted((c.id for c, _ in dense), key=lambda cid: floor[cid] - similarity[cid])
        sentence_ids = [cid for cid, sim in sorted((p for p in by_sentence if p[0] in chunks),
                                                    key=lambda p: floor[p[0]] - p[1])]
        fused: dict[str, float] = {}
        # The other script's words count twice: in a question of one script they are nearly always the
        # names of whom it asks about ("Eckhardt 实验室…"), while the question's own words also match every
        # page of its language (realdocs: Chinese questions' recall@5 .78 -> .87; tune .90 -> .92, holdout
        # .91 -> .92).
        rankings = ((dense_ids, 1), *word_searches, (sentence_ids, 1))
        for ranking, weight in rankings:
            for rank, cid in enumerate(ranking):
                fused[cid] = fused.get(cid, 0.0) + weight / (s.rrf_k + rank + 1)

        order = [cid for cid in sorted(fused, key=lambda cid: -fused[cid]) if cid in similarity]
        ranked = order[: k or s.top_k]
        # The best passage of a second page joins when one page took every place: a page that
        # names the subject in every passage (its title, its owner) would hide the one that answers.
        if len({chunks[cid].path for cid in ranked}) == 1:
            other = next((cid for cid in order if chunks[cid].path != chunks[ranked[0]].path), None)
            ranked += [other] if other else []
        # The best passage in another language than the top ones joins them when it clears its
        # floor: lexical search never finds it, so fusion alone would bury it.
        for cid in dense_ids:
            if similarity[cid] >= floor[cid] and lang[cid] not in {lang[r] for r in ranked}:
                ranked.append(cid)
        # Passages holding the very nearest sentences, and the best word matches, join too: in long
        # articles the one sentence that answers is what matters, not the passage around it.
        word_matches = [cid for found, _ in word_searches for cid in found[:_LEXICAL_HITS]]
        for cid in sentence_ids[:_SENTENCE_HITS] + word_matches:
            if cid not in ranked and cid in similarity:
                ranked.append(cid)
        for cid, chunk, sim, chunk_floor in self._subject_passages(names, ranked, qvec, predicate, language):
            chunks[cid], similarity[cid], floor[cid] = chunk, sim, chunk_floor
            fused.setdefault(cid, 0.0)
            ranked.append(cid)
        hits = tuple(Hit(chunks[cid], fused[cid], similarity[cid], floor[cid]) for cid in ranked)
        relevant = tuple(h for h in hits if h.margin >= 0)
        return Retrieval(qvec, hits, relevant, {p: self.floor(language, p) for p in ("en", "zh")}, language)

    def _subject_pages(self, names: tuple, found: set[str]) -> set[str]:
        """The documents about the names a question uses: for each name, those holding it whole
        (all its words, or its letters run together as an address writes them; a page's profile
        counts, read with its first chunk) where few do, and of the pages `found` those holding a
        word of it ("Dr. Shu" for "Lele Shu")."""
        out: set[str] = set()
        for whole, parts in names:
            for form in whole:
                held = self.lexical.documents_holding(form)
                out |= held if len(held) <= _SUBJECT_PAGES else set()
            for form in parts:
                out |= self.lexical.documents_holding(form) & found
        return out

    def _subject_passages(self, names: tuple, ranked: list[str], qvec: np.ndarray, predicate: np.ndarray | None,
                          language: str) -> list[tuple[str, Chunk, float, float]]:
        """The passage of each page about a name the question uses that is nearest to what is asked,
        when fusion left it out: on a lab's short pages the row that answers ("Postdoc: 1-2") is
        seldom near the whole question, whose names and generic words many pages share, yet it is
        the nearest of its own page's passages."""
        pages = self._subject_pages(names, {document_of(cid) for cid in ranked})
        ids = [cid for page in sorted(pages) for cid in self.lexical.chunks_of(page)[:_PAGE_PASSAGES]]
        if not ids:
            return []
        chunks, vectors = self.store.chunks(ids), self.store.vectors(ids)
        best: dict[str, tuple[float, str, float, float]] = {}  # page -> (nearness above the floor, chunk, cosine, floor)
        for cid, v in vectors.items():
            if cid not in chunks:
                continue
            sim = float(v @ qvec)
            chunk_floor = self.floor(language, nlp.language(chunks[cid].text))
            near = max(sim, float(v @ predicate) if predicate is not None else sim) - chunk_floor
            page = document_of(cid)
            if near > best.get(page, (-9.0, "", 0.0, 0.0))[0]:
                best[page] = (near, cid, sim, chunk_floor)
        order = sorted(best.values(), reverse=True)
        return [(cid, chunks[cid], sim, f) for _, cid, sim, f in order if cid not in ranked][:_SUBJECT_PASSAGES]

    def floor(self, question_language: str, passage_language: str) -> float:
        table = self.min_similarity
        own = table.get(f"{question_language}-{question_language}", table.get("en-en", 0.0))
        return table.get(f"{question_language}-{passage_language}", own)

