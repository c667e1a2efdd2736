"""Signed deltas between vigil instances: every change since a point in the sender's change sequence,
signed with the sender's Ed25519 key (`cryptography`).

A bundle is a JSON file::

    {"format": "vigil-delta", "version": 1, "sender": "<key fingerprint>",
     "payload": "<base64 of the signed bytes>", "signature": "<hex Ed25519 signature of those bytes>"}

The payload is canonical JSON: ``{"from_seq", "to_seq", "created", "source", "records": [...]}``, each
record an entry as the sender has it (hashes by signal name in hex, qualities, category, series,
victim-identified, notes, size, status ``active`` or ``retracted``). Entries are matched between instances
by their hashes, never by ids.

The receiver accepts a bundle only from a key it trusts (`vigil keys trust PUBFILE --source NAME`), only
if the signature verifies over the exact payload bytes, and only in order: a bundle must start where the
last one from that key ended. The same bundle again is recognised and changes nothing; an older bundle
(a replay) or one that skips ahead is refused with the reason. Everything in a bundle is applied in one
transaction, as assessments from the partner's source (provenance kept: the partner's gradings never
overwrite anyone else's). A retraction by the partner retracts an entry only when no other source has
graded it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from vigil import signals
from vigil.core.categories import graded
from vigil.core.errors import VigilError
from vigil.core.fsio import write_text_atomic
from vigil.core.records import AsDict, HashRecord
from vigil.exchange.base import MAX_SIZE, record_problem
from vigil.store import queries
from vigil.store.bulk import lookup_signal_owners
from vigil.store.entries import get_or_create_source, set_status
from vigil.store.ingest import import_records
from vigil.store.models import Assessment, Change, PartnerKey, Source

FORMAT = "vigil-delta"
VERSION = 1


class DeltaError(VigilError):
    """A bundle that cannot be accepted: unknown sender, bad signature, replayed or out of order."""


# ---- keys ------------------------------------------------------------------------------------------


def generate_keys(out: Path) -> tuple[Path, Path]:
    """Write a new Ed25519 key pair: private.pem (mode 0600, PKCS#8) and public.pem."""
    out.mkdir(parents=True, exist_ok=True)
    private, public = out / "private.pem", out / "public.pem"
    if private.exists() or public.exists():
        raise VigilError(f"{out} already holds a key pair; choose another folder")
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(private, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return private, public


def fingerprint(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:32]


def load_public(pem: bytes, name: str) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError) as exc:
        raise VigilError(f"{name}: not a PEM public key ({exc})") from None
    if not isinstance(key, Ed25519PublicKey):
        raise VigilError(f"{name}: not an Ed25519 public key")
    return key


def load_private(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError) as exc:
        raise VigilError(f"{path}: not an unencrypted PEM private key ({exc})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise VigilError(f"{path}: not an Ed25519 private key")
    return key


def trust(session: Session, public_file: Path, source: str) -> str:
    """Register a partner's public key for a source; returns its fingerprint."""
    key = load_public(public_file.read_bytes(), str(public_file))
    fp = fingerprint(key)
    if session.scalar(select(PartnerKey.id).where(PartnerKey.fingerprint == fp)) is not None:
        raise VigilError(f"key {fp} is already trusted")
    source_id = get_or_create_source(session, source, kind="agency")
    pem = key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    session.add(PartnerKey(source_id=source_id, fingerprint=fp, public_key=pem.decode(), last_seq=0))
    session.flush()
    return fp


def trusted(session: Session) -> list[dict[str, Any]]:
    rows = session.execute(
        select(PartnerKey.fingerprint, Source.name, PartnerKey.last_seq, PartnerKey.created_at).join(
            Source, Source.id == PartnerKey.source_id
        )
    )
    return [
        {"fingerprint": f, "source": s, "last_seq": int(q), "trusted_at": t.isoformat()}
        for f, s, q, t in rows
    ]


# ---- export ----------------------------------------------------------------------------------------


def write_bundle(
    session: Session,
    path: Path,
    since: int,
    private_file: Path,
    source: str,
    *,
    include_untrusted: bool = False,
) -> int:
    """Sign every change after `since` into a bundle at `path` (atomically); returns the record count.
    Gradings still waiting for reviewers' consensus stay out unless `include_untrusted`."""
    key = load_private(private_file)
    to_seq = int(session.scalar(select(func.max(Change.seq))) or 0)
    if since > to_seq:
        raise VigilError(f"--since {since} is past the store's last change ({to_seq})")
    exported = queries.iter_export(
        session, since=since, include_retracted=True, include_untrusted=include_untrusted
    )
    records = [_record(r) for r in exported]
    payload = {
        "from_seq": since,
        "to_seq": to_seq,
        "created": datetime.now(UTC).isoformat(),
        "source": source,
        "records": records,
    }
    data = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    bundle = {
        "format": FORMAT,
        "version": VERSION,
        "sender": fingerprint(key.public_key()),
        "payload": base64.b64encode(data).decode(),
        "signature": key.sign(data).hex(),
    }
    write_text_atomic(path, json.dumps(bundle, indent=1) + "\n")
    return len(records)


def _record(r: Any) -> dict[str, Any]:
    return {
        "hashes": {name: signals.get(name).format(value) for name, value in sorted(r.hashes.items())},
        "quality": r.quality,
        "category": graded(r.category),  # a value outside the vocabulary goes out ungraded
        "series": r.series,
        "victim_identified": r.victim_identified,
        "notes": r.notes,
        "size": r.size,
        "status": r.status,
    }


# ---- import ----------------------------------------------------------------------------------------


@dataclass
class DeltaStats(AsDict):
    sender: str
    source: str
    from_seq: int
    to_seq: int
    records: int = 0
    entries_created: int = 0
    assessments_added: int = 0
    retracted: int = 0
    retractions_kept: int = 0  # retracted by the partner but graded by another source: left active
    already_applied: bool = False


def apply_bundle(session: Session, path: Path) -> DeltaStats:
    """Verify and apply a bundle in the caller's transaction (nothing is applied unless all of it is).

    The signature is checked over the raw payload bytes before they are parsed; then every record must
    pass the rules of every importer (`base.record_problem`): one bad record refuses the whole bundle."""
    bundle = _read(path)
    key_row = session.scalar(select(PartnerKey).where(PartnerKey.fingerprint == bundle["sender"]))
    if key_row is None:
        raise DeltaError(f"{path}: sender key {bundle['sender']} is not trusted (vigil keys trust PUBFILE)")
    data, signature = bundle["data"], bundle["signature"]
    try:
        load_public(key_row.public_key.encode(), "trusted key").verify(signature, data)
    except InvalidSignature:
        raise DeltaError(
            f"{path}: signature does not verify: the bundle was altered or not signed by {bundle['sender']}"
        ) from None
    payload = _payload(path, data)
    source = session.scalar(select(Source.name).where(Source.id == key_row.source_id)) or "?"
    records = _records(path, payload["records"], source)
    stats = DeltaStats(bundle["sender"], source, payload["from_seq"], payload["to_seq"], len(records))
    if payload["to_seq"] <= key_row.last_seq:
        if signature.hex() == key_row.last_signature:
            stats.already_applied = True
            return stats
        raise DeltaError(
            f"{path}: replayed bundle: it covers changes {payload['from_seq']}-{payload['to_seq']} of "
            f"{source}, already applied up to {key_row.last_seq}"
        )
    if payload["from_seq"] != key_row.last_seq:
        raise DeltaError(
            f"{path}: out of order: it starts after change {payload['from_seq']} of {source}, but changes "
            f"up to {key_row.last_seq} are applied here; apply the bundle that starts there first"
        )
    active = [rec for rec, status in records if status == "active"]
    retracted = [rec for rec, status in records if status != "active"]
    imported = import_records(session, iter(active), file=str(path), source=source)
    stats.entries_created = imported.entries_created
    stats.assessments_added = imported.assessments_added
    stats.retracted, stats.retractions_kept = _retract(session, retracted, key_row.source_id)
    key_row.last_seq = payload["to_seq"]
    key_row.last_signature = signature.hex()
    session.flush()
    return stats


def _read(path: Path) -> dict[str, Any]:
    try:
        bundle = json.loads(path.read_text(encoding="utf-8"))
    except RecursionError:
        raise DeltaError(f"{path}: not a delta bundle (JSON nested too deeply)") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise DeltaError(f"{path}: not a delta bundle ({exc})") from None
    if not isinstance(bundle, dict) or bundle.get("format") != FORMAT:
        raise DeltaError(f"{path}: not a {FORMAT} bundle")
    if bundle.get("version") != VERSION:
        raise DeltaError(f"{path}: bundle version {bundle.get('version')!r} is not supported")
    try:
        data = base64.b64decode(str(bundle["payload"]), validate=True)
        signature = bytes.fromhex(str(bundle["signature"]))
        sender = str(bundle["sender"])
    except (KeyError, ValueError, binascii.Error) as exc:
        raise DeltaError(f"{path}: malformed bundle ({exc})") from None
    return {"data": data, "signature": signature, "sender": sender}


def _seq(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_SIZE


def _payload(path: Path, data: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(data)
    except RecursionError:
        raise DeltaError(f"{path}: signed payload is malformed (JSON nested too deeply)") from None
    except ValueError as exc:
        raise DeltaError(f"{path}: signed payload is malformed ({exc})") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("records"), list):
        raise DeltaError(f"{path}: signed payload is malformed (expected an object with a records list)")
    if not (_seq(payload.get("from_seq")) and _seq(payload.get("to_seq"))):
        raise DeltaError(f"{path}: signed payload is malformed (sequence numbers must be 0..{MAX_SIZE})")
    if payload["from_seq"] > payload["to_seq"]:
        raise DeltaError(f"{path}: signed payload is malformed (sequence numbers)")
    return dict(payload)


def _records(path: Path, records: list[Any], source: str) -> list[tuple[HashRecord, str]]:
    """Every record with its status, each checked: DeltaError `path: record N: reason` on a bad one."""
    out = []
    for n, r in enumerate(records, 1):
        try:
            out.append(_record_of(r, n, source))
        except ValueError as exc:
            raise DeltaError(f"{path}: record {n}: {exc}") from None
    return out


def _record_of(r: Any, n: int, source: str) -> tuple[HashRecord, str]:
    if not isinstance(r, dict):
        raise ValueError(f"expected an object, got {type(r).__name__}")
    status = r.get("status")
    if status not in ("active", "retracted"):
        raise ValueError(f"status must be 'active' or 'retracted', got {status!r}")
    hashes, quality = r.get("hashes"), r.get("quality") or {}
    if not isinstance(hashes, dict) or not all(isinstance(v, str) for v in hashes.values()):
        raise ValueError("hashes must be an object of signal name: hex value")
    if not isinstance(quality, dict):
        raise ValueError("quality must be an object of signal name: 0..100")
    category = r.get("category")
    record = HashRecord(
        line=n,
        hashes={str(name): signals.get(str(name)).parse(value) for name, value in hashes.items()},
        quality=dict(quality),
        category=None if category == "" else category,
        series=r.get("series"),
        victim_identified=r.get("victim_identified"),
        source=source,
        notes=r.get("notes"),
        size=r.get("size"),
    )
    problem = record_problem(record)
    if problem is not None:
        raise ValueError(problem)
    return record, status


def _retract(session: Session, records: list[HashRecord], source_id: int) -> tuple[int, int]:
    """Retract the entries the partner retracted, unless another source has graded them."""
    conn = session.connection()
    owners: set[int] = set()
    for r in records:
        for name, raw in r.hashes.items():
            owner = lookup_signal_owners(conn, name, [raw]).get(raw)
            if owner is not None:
                owners.add(owner)
    if not owners:
        return 0, 0
    others = {
        int(e)
        for (e,) in session.execute(
            select(Assessment.entry_id).where(
                Assessment.entry_id.in_(owners), Assessment.source_id != source_id
            )
        )
    }
    changed = set_status(session, owners - others, "retracted") if owners - others else []
    return len(changed), len(owners & others)
