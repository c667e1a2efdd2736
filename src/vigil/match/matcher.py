"""A snapshot of the store's known hashes, answering which entries hashes match.

Exact signals are looked up in sorted tables, perceptual ones in the store's memory-mapped index (brought up
to date with the store first). `Matcher.match` takes one hashed file and searches every variant
(rotations/flips) of its perceptual hashes in one call (the scan, the API's file lookup); `lookup_many`
takes a batch of bare hashes (the API's lookup and submit). For a scan the snapshot is built once in the
parent and inherited by the worker processes, which share the index's pages and never touch the database.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from vigil import signals
from vigil.core.categories import KNOWN_GOOD
from vigil.core.errors import VigilError
from vigil.hashing import FileHashes
from vigil.index import PDQIndex, sync
from vigil.match.matches import Match, rank
from vigil.match.tables import EntryTable, ExactTable, exact_tables
from vigil.signals.vpdq import Frames, VPDQSignal
from vigil.store import Store, queries
from vigil.store.bulk import iter_signal_rows

# What the matching API's batch lookup answers: per query, (entry id, distance) pairs; and per matched
# entry, (category, series, source).
Found = list[list[tuple[int, int]]]
Described = dict[int, tuple[str | None, str | None, str | None]]


class Matcher:
    def __init__(
        self,
        exact: dict[str, ExactTable],
        perceptual: dict[str, PDQIndex],
        entries: EntryTable,
        thresholds: dict[str, int],
        min_quality: dict[str, int],
        videos: dict[str, dict[int, list[Frames]]] | None = None,
    ) -> None:
        self.exact = exact
        self.perceptual = perceptual
        self.entries = entries
        self.thresholds = thresholds
        self.min_quality = min_quality
        self.videos = videos or {}

    @classmethod
    def from_store(
        cls, store: Store, *, pdq_threshold: int | None = None, pdq_min_quality: int | None = None
    ) -> Matcher:
        for report in sync.sync(store):  # the index is the store's, brought up to its latest change
            if report.problems:
                raise VigilError(f"{report.signal} index: {'; '.join(report.problems)}")
        perceptual: dict[str, PDQIndex] = {}
        thresholds: dict[str, int] = {}
        min_quality: dict[str, int] = {}
        for signal in sync.indexed_signals():
            threshold, floor = signal.threshold, signal.min_quality
            if signal.name == "pdq":
                threshold = pdq_threshold if pdq_threshold is not None else threshold
                floor = pdq_min_quality if pdq_min_quality is not None else floor
            thresholds[signal.name] = threshold
            min_quality[signal.name] = floor
            perceptual[signal.name] = PDQIndex.open(store.index_root / signal.name, create=False)
        with store.session() as session:
            entries = EntryTable(session)
            exact: dict[str, ExactTable] = {}
            videos: dict[str, dict[int, list[Frames]]] = {}
            for video in signals.video_signals():
                known: dict[int, list[Frames]] = defaultdict(list)
                for eid, value, _q in queries.iter_signals(session, video.name):
                    if eid in entries:
                        known[eid].append(video.frames(value))
                videos[video.name] = dict(known)
            sizes = {signal.name: signal.size for signal in signals.all_signals() if signal.exact}
            exact = exact_tables(iter_signal_rows(session.connection()), sizes)
        return cls(exact, perceptual, entries, thresholds, min_quality, videos)

    def is_known_good(self, digests: dict[str, bytes]) -> bool:
        """True when an exact hash of the file belongs to a known-good entry (skip decoding it)."""
        for name, value in digests.items():
            table = self.exact.get(name)
            if table is not None and any(self.entries.category_of(i) == KNOWN_GOOD for i in table.get(value)):
                return True
        return False

    def match(self, hashes: FileHashes) -> list[Match]:
        found: dict[tuple[str, int], Match] = {}
        for name, value in hashes.digests.items():
            table = self.exact.get(name)
            for eid in table.get(value) if table is not None else ():
                if eid in self.entries:  # retracted entries' hashes stay in the store but never match
                    found[(name, eid)] = self._match(name, 0, eid)
        for name, variants in hashes.variants.items():
            index = self.perceptual.get(name)
            quality = hashes.image[name].quality
            if (
                index is None
                or index.is_empty()
                or (quality is not None and quality < self.min_quality[name])
            ):
                continue
            queries_ = np.frombuffer(b"".join(variants), dtype=np.uint8).reshape(len(variants), -1)
            hits = index.search_variants(queries_, self.thresholds[name], min_quality=self.min_quality[name])
            for eid, dist in hits:
                if eid in self.entries:
                    found[(name, eid)] = self._match(name, dist, eid)
        for name, value in hashes.video.items():
            for match in self._match_video(name, value):
                found[(name, match.entry_id)] = match
        return sorted(found.values(), key=rank)

    def lookup_many(self, parsed: Sequence[tuple[str, bytes]]) -> tuple[Found, Described]:
        """A batch of bare hashes (the matching API's lookup): the entry ids and distances each
        (signal, value) matches, in order, and what each matched entry is. Exact signals by equality, PDQ
        within the threshold as given (no rotations or flips: a caller sends the hash it has); active
        entries only (retracted ones never match)."""
        raw: Found = [[] for _ in parsed]
        pdq_rows = [i for i, (name, _) in enumerate(parsed) if name == "pdq"]
        index = self.perceptual.get("pdq")
        if pdq_rows and index is not None and not index.is_empty():
            queries_ = np.frombuffer(b"".join(parsed[i][1] for i in pdq_rows), np.uint8).reshape(-1, 32)
            hits = index.search(queries_, self.thresholds["pdq"], min_quality=self.min_quality["pdq"])
            for i, row_hits in zip(pdq_rows, hits, strict=True):
                raw[i] = list(row_hits)
        for name, table in self.exact.items():
            rows = [i for i, (signal, _) in enumerate(parsed) if signal == name]
            if rows:
                for i, ids in zip(rows, table.get_many([parsed[i][1] for i in rows]), strict=True):
                    raw[i] = [(eid, 0) for eid in ids]
        described = self.entries.describe(eid for row in raw for eid, _ in row)
        return [[(eid, d) for eid, d in row if eid in described] for row in raw], described

    def _match_video(self, name: str, value: bytes) -> list[Match]:
        """Known videos sharing enough frames with this one, both ways (vpdq's rule)."""
        signal = signals.get(name)
        index = self.perceptual.get(name)
        if not isinstance(signal, VPDQSignal) or index is None or index.is_empty():
            return []
        frames = signal.frames(value)
        floor, radius = self.min_quality[name], self.thresholds[name]
        queries_ = frames.prepared(floor)
        if not len(queries_):
            return []
        nearest: dict[int, int] = {}
        for hits in index.search(queries_, radius, min_quality=floor):
            for eid, dist in hits:
                nearest[eid] = min(dist, nearest.get(eid, dist))
        out = []
        for eid, dist in nearest.items():
            if eid not in self.entries:
                continue
            known_values = self.videos.get(name, {}).get(eid, [])
            scores = [signal.compare(frames, known, floor) for known in known_values]
            if not scores:
                continue
            q, c = max(scores, key=lambda s: min(s))
            if q >= signal.match_percent and c >= signal.match_percent:
                e = self.entries[eid]
                out.append(Match(name, dist, eid, e.category, e.series, e.source, q, c))
        return out

    def _match(self, signal: str, distance: int, eid: int) -> Match:
        e = self.entries[eid]
        return Match(signal, distance, eid, e.category, e.series, e.source)
