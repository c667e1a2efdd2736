"""Push vigil's hashes to, and pull them from, a bank of Meta's Hasher-Matcher-Actioner (HMA, the
"OpenMediaMatch" Flask app in facebook/ThreatExchange) over HMA's curation HTTP API (the ``/c`` routes,
served when HMA runs with ``ROLE_CURATOR``).

What HMA's API offers, and what that means here (checked against HMA 1.1.7):

- ``POST /c/bank/<bank>/signal`` adds one bank content from ``{signal_type: value, ..., "note": text}``.
  It takes no ``metadata`` (only the URL/file upload route does), so vigil's entry id and category travel
  in the content's note (at most 255 characters): ``vigil entry=12 category=A``. HMA does not refuse a
  hash it already holds, so push first reads the bank and adds only what is missing.
- ``PUT /c/bank/<bank>/content/<id>`` changes the note; ``DELETE`` removes the content (HMA deletes the
  content id whatever bank the URL names, so this module only deletes contents it has read from `bank`).
- There is no route that lists a bank's contents. ``GET /c/bank/<bank>/content/<id>`` returns any one
  content (of any bank), so `HMAClient.iter_contents` walks content ids upwards from 1 until it has seen as
  many hashes as HMA reports holding in all (``GET /c/signal_type/index``, ``db_size``). Cost: one request
  per content id up to the newest live one, deleted ids included (about 250 ids a second against HMA's
  single-process Flask development server).

Signal types map as in ThreatExchange signal files (`vigil.exchange.tefile`): ``pdq`` ↔ pdq,
``video_md5`` ↔ md5, ``video_sha256`` ↔ sha256; push sends md5/sha256 only for entries whose media type is
a video, and only the types the HMA instance has configured (``GET /c/signal_type``). A PDQ whose quality
is known to be below vigil's matching floor is not pushed (vigil itself does not match on it).

Push adds each active entry as one bank content (all its hashes together), brings the note of contents it
added earlier up to date when the entry's category changed, and removes contents it added (their note
starts with ``vigil ``) whose entry has since been retracted or graded known-good. Known-good entries are
never pushed unless asked for with ``category="G"``. Contents others put in the bank are never changed.

Pull reads every enabled content of the bank and imports it through the store's ordinary ingest path (one
transaction; a content is a record whose "line" is its content id), so pulling twice adds nothing. A
content's category comes from a vigil note if it has one, else from `category`.
"""

from __future__ import annotations

import re
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

from vigil import signals
from vigil.core.categories import KNOWN_GOOD, parse_category
from vigil.core.errors import ImportFormatError, VigilError
from vigil.core.records import ExportRecord, HashRecord
from vigil.exchange.base import parse_hash
from vigil.exchange.tefile import READ_TYPES, WRITE_TYPES
from vigil.store import Store
from vigil.store.ingest import ImportStats, import_records

DEFAULT_TIMEOUT = 30.0
WORKERS = 8
WINDOW = 4 * WORKERS  # content ids fetched concurrently per step of the walk
RECHECK_AFTER = 256  # consecutive missing ids after which the walk asks HMA for its hash count again
MAX_GAP = 1_000_000  # consecutive missing ids after which the walk gives up (HMA's count must be wrong)
NOTE_PREFIX = "vigil "
_NOTE = re.compile(r"^vigil entry=(\d+) category=([A-Za-z]|-)(?: |$)")


class HMAError(VigilError):
    """HMA refused a request or answered something this adapter does not understand (HMA's reason kept)."""


class HMAUnreachableError(HMAError):
    """Nothing answered at the HMA URL (connection refused, timeout, name not resolved)."""


class HMABankNotFoundError(HMAError):
    """The HMA instance has no bank of that name."""


@dataclass(frozen=True, slots=True)
class BankContent:
    """One content of an HMA bank: its hashes (HMA signal type -> value) and note."""

    id: int
    bank: str
    signals: dict[str, str]
    note: str | None
    enabled: bool


@dataclass(slots=True)
class PushReport:
    url: str
    bank: str
    bank_contents: int = 0  # contents the bank held before the push
    entries: int = 0  # vigil entries looked at
    added: int = 0  # bank contents added
    hashes_added: int = 0
    notes_updated: int = 0
    removed: int = 0  # contents removed (retracted or known-good entries)
    unchanged: int = 0  # entries already in the bank as they are
    skipped: int = 0  # entries with no hash this HMA takes
    low_quality: int = 0  # PDQ values left out for quality below vigil's matching floor

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(slots=True)
class PullReport:
    url: str
    bank: str
    source: str
    bank_contents: int = 0
    disabled: int = 0  # contents HMA has disabled for matching: not imported
    unsupported: int = 0  # contents with no hash vigil keeps (e.g. only TMK+PDQF)
    stats: ImportStats = field(default_factory=ImportStats)  # what the import did (records, entries, ...)

    def __getattr__(self, name: str) -> Any:  # report.entries_created etc. read the import's own counts
        if name == "stats":  # not set yet (e.g. while copying): no recursion
            raise AttributeError(name)
        return getattr(self.stats, name)

    def as_dict(self) -> dict[str, object]:
        head = {k: v for k, v in asdict(self).items() if k != "stats"}
        return head | self.stats.as_dict()


# ---- the HTTP client ---------------------------------------------------------------------------------------


class HMAClient:
    """The few curation routes vigil needs, with HMA's errors turned into `HMAError`s."""

    def __init__(self, base_url: str, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.url = base_url.rstrip("/")
        if not re.match(r"^https?://[^/]", self.url):
            raise HMAError(f"HMA URL must start with http:// or https://, got {base_url!r}")
        self._http = httpx.Client(base_url=self.url, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> HMAClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- plumbing --

    def _request(self, method: str, path: str, **kw: Any) -> httpx.Response:
        try:
            return self._http.request(method, path, **kw)
        except httpx.TransportError as exc:
            reason = str(exc) or type(exc).__name__
            raise HMAUnreachableError(f"cannot reach HMA at {self.url}: {reason}") from None
        except httpx.InvalidURL as exc:
            raise HMAError(f"bad HMA URL {self.url}{path}: {exc}") from None

    def _fail(self, method: str, path: str, resp: httpx.Response) -> HMAError:
        message = _message(resp)
        if message is None:
            hint = " (is this an HMA with the curator role, ROLE_CURATOR?)" if resp.status_code == 404 else ""
            message = f"{resp.reason_phrase or 'error'}{hint}"
        return HMAError(f"HMA at {self.url} answered {resp.status_code} to {method} {path}: {message}")

    def _json(self, method: str, path: str, **kw: Any) -> Any:
        resp = self._request(method, path, **kw)
        if resp.status_code >= 400:
            raise self._fail(method, path, resp)
        try:
            return resp.json()
        except ValueError:
            raise HMAError(
                f"HMA at {self.url} answered {method} {path} with something that is not JSON "
                "(is this an HMA with the curator role, ROLE_CURATOR?)"
            ) from None

    # -- banks and configuration --

    def banks(self) -> list[str]:
        data = self._json("GET", "/c/banks")
        if not isinstance(data, list):
            raise HMAError(f"HMA at {self.url}: /c/banks did not return a list")
        return sorted(str(b["name"]) for b in data if isinstance(b, dict) and "name" in b)

    def check_bank(self, bank: str) -> None:
        """Raise HMABankNotFoundError, naming the banks there are, unless `bank` exists."""
        path = f"/c/bank/{_seg(bank)}"
        resp = self._request("GET", path)
        if resp.status_code == 404 and (_message(resp) or "").startswith("bank"):
            known = ", ".join(self.banks()) or "none"
            raise HMABankNotFoundError(f"HMA at {self.url} has no bank {bank!r} (its banks: {known})")
        if resp.status_code >= 400:
            raise self._fail("GET", path, resp)

    def create_bank(self, bank: str) -> None:
        self._json("POST", "/c/banks", json={"name": bank})

    def signal_types(self) -> list[str]:
        """The signal types this HMA is configured with (e.g. pdq, video_md5)."""
        data = self._json("GET", "/c/signal_type")
        return sorted(str(t["name"]) for t in data if isinstance(t, dict) and "name" in t)

    def hash_count(self) -> int:
        """How many hashes (content signals) HMA holds in all its banks."""
        data = self._json("GET", "/c/signal_type/index")
        return sum(int(v.get("db_size", 0)) for v in data.values() if isinstance(v, dict))

    # -- bank contents --

    def content(self, bank: str, content_id: int) -> BankContent | None:
        """One content by id (None if there is none); HMA returns it whatever bank it is in."""
        path = f"/c/bank/{_seg(bank)}/content/{content_id}"
        resp = self._request("GET", path, params={"include_signals": "true", "include_metadata": "false"})
        if resp.status_code == 404:
            if (_message(resp) or "").startswith("bank"):
                raise HMABankNotFoundError(f"HMA at {self.url} has no bank {bank!r}")
            return None
        if resp.status_code >= 400:
            raise self._fail("GET", path, resp)
        try:
            data = resp.json()
            return BankContent(
                id=int(data["id"]),
                bank=str(data["bank"]["name"]),
                signals={str(k): str(v) for k, v in (data.get("signals") or {}).items()},
                note=data.get("note"),
                enabled=_enabled(int(data.get("disable_until_ts", 1))),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise HMAError(f"HMA at {self.url}: unexpected answer to GET {path}: {exc}") from None

    def iter_contents(self, bank: str) -> Iterator[BankContent]:
        """Every content of `bank`, in id order (HMA has no listing route: see the module docstring)."""
        self.check_bank(bank)
        types = set(self.signal_types())
        total = self.hash_count()
        seen = misses = unchecked = 0
        next_id = 1
        with ThreadPoolExecutor(WORKERS) as pool:
            while seen < total:
                ids = range(next_id, next_id + WINDOW)
                next_id += WINDOW
                for found in pool.map(lambda i: self.content(bank, i), ids):
                    if found is None:
                        misses += 1
                        unchecked += 1
                        continue
                    misses = unchecked = 0
                    seen += sum(1 for t in found.signals if t in types)
                    if found.bank == bank:
                        yield found
                if unchecked >= RECHECK_AFTER:
                    # A long run of deleted ids, or contents deleted while we walk: if HMA now holds no
                    # more hashes than we have seen, we are done; otherwise some lie further on.
                    total, unchecked = self.hash_count(), 0
                if misses >= MAX_GAP and seen < total:
                    raise HMAError(
                        f"HMA at {self.url}: no content among ids {next_id - misses} to {next_id - 1}, yet "
                        f"{total - seen} of its {total} hashes are unseen; listing bank {bank!r} gave up"
                    )

    def add(self, bank: str, hashes: dict[str, str], note: str | None) -> int:
        body: dict[str, str] = dict(hashes)
        if note:
            body["note"] = note
        data = self._json("POST", f"/c/bank/{_seg(bank)}/signal", json=body)
        return int(data["id"])

    def set_note(self, bank: str, content_id: int, note: str) -> None:
        self._json("PUT", f"/c/bank/{_seg(bank)}/content/{content_id}", json={"note": note})

    def remove(self, bank: str, content_id: int) -> int:
        data = self._json("DELETE", f"/c/bank/{_seg(bank)}/content/{content_id}")
        return int(data.get("deleted", 0))


def _seg(text: str) -> str:
    return quote(text, safe="")


def _message(resp: httpx.Response) -> str | None:
    """HMA's JSON error message ({"message": ...}), or None if the answer is not one."""
    try:
        data = resp.json()
    except ValueError:
        return None
    if isinstance(data, dict) and isinstance(data.get("message"), str):
        return str(data["message"])
    return None


def _enabled(disable_until_ts: int) -> bool:
    # HMA's BankContentConfig: 0 disabled, 1 enabled, else disabled until that Unix time.
    return disable_until_ts == 1 or (disable_until_ts != 0 and disable_until_ts <= time.time())


# ---- notes -------------------------------------------------------------------------------------------------


def make_note(entry_id: int, category: str | None) -> str:
    return f"{NOTE_PREFIX}entry={entry_id} category={category or '-'}"


def parse_note(note: str | None) -> tuple[int, str | None] | None:
    """(entry id, category) from a note vigil wrote, else None."""
    match = _NOTE.match(note or "")
    if match is None:
        return None
    category = match.group(2)
    return int(match.group(1)), None if category == "-" else category


# ---- push --------------------------------------------------------------------------------------------------


def push(
    store: Store,
    base_url: str,
    bank: str,
    *,
    category: str | None = None,
    since: int | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    actor: str | None = None,
) -> PushReport:
    """Bring `bank` in line with the store's entries (those of `category`, changed after change `since`).

    With `actor`, the push is written to the audit chain as an export by that actor."""
    from vigil.store import queries

    wanted = _category(category)
    with HMAClient(base_url, timeout=timeout) as client:
        report = PushReport(client.url, bank)
        existing = list(client.iter_contents(bank))
        types = {vigil: hma for vigil, hma in WRITE_TYPES.items() if hma in set(client.signal_types())}
        report.bank_contents = len(existing)
        holders: dict[tuple[str, str], list[BankContent]] = defaultdict(list)
        for content in existing:
            for kind, value in content.signals.items():
                holders[(kind, value.lower())].append(content)
        with store.session() as session:
            records = queries.iter_export(session, since=since, include_retracted=True)
            plan = list(_plan(records, holders, types, wanted, report))
        with ThreadPoolExecutor(WORKERS) as pool:  # each action touches its own content: any order will do
            for done in pool.map(lambda action: action.run(client, bank), plan):
                for name, count in done.items():
                    setattr(report, name, getattr(report, name) + count)
    if actor is not None:
        from vigil.store import audit

        audit.record(store, audit.Event(actor, "export", f"{report.url}/c/bank/{bank}", _audit(report)))
    return report


@dataclass(frozen=True, slots=True)
class _Add:
    hashes: dict[str, str]
    note: str

    def run(self, client: HMAClient, bank: str) -> dict[str, int]:
        client.add(bank, self.hashes, self.note)
        return {"added": 1, "hashes_added": len(self.hashes)}


@dataclass(frozen=True, slots=True)
class _SetNote:
    content_id: int
    note: str

    def run(self, client: HMAClient, bank: str) -> dict[str, int]:
        client.set_note(bank, self.content_id, self.note)
        return {"notes_updated": 1}


@dataclass(frozen=True, slots=True)
class _Remove:
    content_id: int

    def run(self, client: HMAClient, bank: str) -> dict[str, int]:
        return {"removed": client.remove(bank, self.content_id)}


def _plan(
    records: Iterable[ExportRecord],
    holders: dict[tuple[str, str], list[BankContent]],
    types: dict[str, str],
    wanted: str | None,
    report: PushReport,
) -> Iterator[_Add | _SetNote | _Remove]:
    pdq_floor = signals.get("pdq").min_quality
    for rec in records:
        if wanted is not None and rec.category != wanted:
            continue
        report.entries += 1
        video = bool(rec.media_type and rec.media_type.startswith("video/"))
        hashes = {
            types[sig]: value.hex()
            for sig, value in sorted(rec.hashes.items())
            if sig in types and (sig == "pdq" or video)
        }
        mine = {
            c.id: c
            for kind, value in hashes.items()
            for c in holders.get((kind, value), [])
            if c.note and c.note.startswith(NOTE_PREFIX)
        }
        if rec.status != "active" or (rec.category == KNOWN_GOOD and wanted != KNOWN_GOOD):
            for content_id in sorted(mine):
                yield _Remove(content_id)
            continue
        quality = rec.quality.get("pdq")
        if "pdq" in hashes and quality is not None and quality < pdq_floor:
            del hashes["pdq"]
            report.low_quality += 1
        if not hashes:
            report.skipped += 1
            continue
        note = make_note(rec.entry_id, rec.category)
        missing = {kind: value for kind, value in hashes.items() if (kind, value) not in holders}
        stale = [
            c.id
            for c in mine.values()
            if c.note != note and (parsed := parse_note(c.note)) is not None and parsed[0] == rec.entry_id
        ]
        if missing:
            yield _Add(missing, note)
        for content_id in sorted(stale):
            yield _SetNote(content_id, note)
        if not missing and not stale:
            report.unchanged += 1


# ---- pull --------------------------------------------------------------------------------------------------


def pull(
    store: Store,
    base_url: str,
    bank: str,
    *,
    source: str,
    category: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    actor: str | None = None,
) -> PullReport:
    """Import every enabled content of `bank` as entries from `source` (idempotent), in one transaction.

    `category` grades contents that carry no vigil note. With `actor`, the pull is written to the audit
    chain as an import by that actor, in the same transaction."""
    default = _category(category)
    if not source.strip():
        raise VigilError("a pull needs a source name (who the hashes come from)")
    with HMAClient(base_url, timeout=timeout) as client:
        report = PullReport(client.url, bank, source)
        contents = list(client.iter_contents(bank))
    report.bank_contents = len(contents)
    where = f"{report.url}/c/bank/{bank}/content"
    records = list(_records(contents, where, report))
    with store.transaction() as session:
        report.stats = import_records(session, records, file=where, source=source, default_category=default)
        if actor is not None:
            from vigil.store import audit

            audit.append(session, audit.Event(actor, "import", f"{report.url}/c/bank/{bank}", _audit(report)))
    return report


def _records(contents: Iterable[BankContent], where: str, report: PullReport) -> Iterator[HashRecord]:
    for content in contents:
        if not content.enabled:
            report.disabled += 1
            continue
        hashes = {
            READ_TYPES[kind]: parse_hash(READ_TYPES[kind], value.lower(), where, content.id)
            for kind, value in sorted(content.signals.items())
            if kind in READ_TYPES
        }
        if not hashes:
            report.unsupported += 1
            continue
        parsed = parse_note(content.note)
        category = None
        if parsed is not None and parsed[1] is not None:
            try:
                category = parse_category(parsed[1])
            except ValueError as exc:
                raise ImportFormatError(where, content.id, str(exc)) from None
        notes = f"HMA content {content.id}"
        if content.note and parsed is None:
            notes += f": {content.note}"
        yield HashRecord(line=content.id, hashes=hashes, category=category, notes=notes)


# ---- helpers -----------------------------------------------------------------------------------------------


def _category(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return parse_category(value)
    except ValueError as exc:
        raise VigilError(str(exc)) from None


def _audit(report: PushReport | PullReport) -> dict[str, object]:
    return {"format": "hma", **report.as_dict()}
