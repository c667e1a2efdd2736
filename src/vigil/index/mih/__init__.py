"""A memory-mapped, exact, incremental multi-index hash (MIH) for 256-bit perceptual hashes.

Layout (one directory per index)::

    MANIFEST.json          which segment and log are current, the store position they reflect
    seg-000007/            the base segment: immutable .npy arrays, memory-mapped read-only
        hashes.npy         uint8[n, 32], rows sorted by their first 16-bit chunk
        ids.npy            uint32[n] (or int64[n] when an id does not fit)
        quality.npy        uint8[n] (255 = unknown)
        offsets.npy        uint32[16, 65537]: rows whose chunk j has value v are
                           offsets[j, v] .. offsets[j, v+1] in chunk j's order
        perm.npy           uint32[15, n]: chunk j's order (j = 1..15) as row numbers
    log-000007             append-only log of adds, removes and store marks since the segment

A hash is cut into 16 chunks of 16 bits. If two hashes differ in at most r bits, then (pigeonhole, in the
tighter form of Norouzi et al., "Fast search in Hamming space with multi-index hashing", 2012) with
r = 16·q + a, one of the first a+1 chunks differs in at most q bits or one of the others in at most q-1.
A query therefore looks up, per chunk, every 16-bit value within that many bits of its own chunk
(17 values per chunk at r = 31), gathers the rows filed under them and keeps those whose full distance is
within r: every hash within the radius is found, none is approximate.

The segment costs 32 + 4 + 1 + 15·4 = 97 bytes per hash plus 4 MB of offsets. Opening maps the files and
replays the log, so it takes milliseconds and almost no memory; processes that open the same index share
the page cache. Adds and removes go to the log (one checksummed record per call, fsynced) and are visible
at once: added rows are searched by brute force until `save()` folds them into a new segment, removed ids
are filtered out. A record torn by a crash is ignored when the index is next opened, so an add is either
wholly there or not at all; a crash during `save()` leaves the previous segment and log in force.

Modules: `segment` (the segment's arrays, their files and the probe plan), `search` (searching one
segment), `log` (the change log, the manifest, the writer lock, switching generations), `index`
(`PDQIndex`, which puts them together).
"""

from vigil.index.mih.index import Hit, PDQIndex
from vigil.index.mih.segment import NBYTES, UNKNOWN_QUALITY, IndexError_, probe_plan

__all__ = ["NBYTES", "UNKNOWN_QUALITY", "Hit", "IndexError_", "PDQIndex", "probe_plan"]
