"""How much of the demo's ground truth the scan found, per way of making an evidence file."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from vigil import signals

from .evidence import TRANSFORMS

RECALL_KINDS = ("exact", *TRANSFORMS)
LABELS = {
    "exact": "exact copies (known)",
    "resized_50": "resized to 50 %",
    "jpeg_q50": "re-encoded JPEG q50",
    "flip_h": "flipped horizontally",
    "rotate_90": "rotated 90°",
    "crop_5pct": "cropped 5 % each side",
    "greyscale": "greyscale",
    "unrelated_false_matches": "unrelated pictures matched (false)",
    "known_good": "known-good files (known_good)",
}


def measure(
    items: Iterable[Mapping[str, Any]], truth: Sequence[Mapping[str, Any]], root: str
) -> dict[str, Any]:
    """summary["recall"]: for each kind of evidence file, how many the scan reported as it should.

    An exact copy counts when its verdict is `known` with a match to its entry; a transformed copy when it
    is `known` or `similar` with a match to its entry; an unrelated picture is a false match when it is
    `known` or `similar` at all; a known-good file counts when its verdict is `known_good`.
    """
    by_path = {str(item["path"]): item for item in items}
    prefix = root.rstrip("/") + "/"
    found: dict[str, list[str]] = {k: [] for k in (*RECALL_KINDS, "unrelated", "known_good")}
    missed: dict[str, list[str]] = {k: [] for k in found}
    distances: dict[str, list[int]] = {k: [] for k in RECALL_KINDS}
    for row in truth:
        kind, path = str(row["kind"]), str(row["path"])
        if kind not in found:
            continue
        item = by_path.get(prefix + path) or {}
        verdict = item.get("verdict")
        to_entry = [m for m in item.get("matches") or [] if m.get("entry_id") == row.get("entry_id")]
        if kind == "exact":
            ok = verdict == "known" and any(_exact(m) for m in to_entry)
        elif kind in TRANSFORMS:
            ok = verdict in ("known", "similar") and bool(to_entry)
        elif kind == "unrelated":
            ok = verdict in ("known", "similar")  # here "found" is a false match
        else:
            ok = verdict == "known_good"
        (found if ok else missed)[kind].append(path)
        if ok and kind in distances:
            distances[kind] += [m["distance"] for m in to_entry if m["signal"] == "pdq"]
    recall: dict[str, Any] = {}
    for kind in RECALL_KINDS:
        recall[kind] = _rate(found[kind], missed[kind])
        if kind in TRANSFORMS:
            d = distances[kind]
            recall[kind]["pdq_distance_mean"] = round(sum(d) / len(d), 1) if d else None
            recall[kind]["pdq_distance_max"] = max(d) if d else None
    unrelated = found["unrelated"]
    recall["unrelated_false_matches"] = {
        "found": len(unrelated),
        "total": len(unrelated) + len(missed["unrelated"]),
        "files": unrelated,
    }
    recall["known_good"] = _rate(found["known_good"], missed["known_good"])
    return recall


def _exact(match: Mapping[str, Any]) -> bool:
    name = str(match.get("signal"))
    return name in signals.names() and signals.get(name).exact


def _rate(found: list[str], missed: list[str]) -> dict[str, Any]:
    total = len(found) + len(missed)
    return {
        "found": len(found),
        "total": total,
        "rate": round(len(found) / total, 3) if total else None,
        "missed": missed,
    }


def table(recall: Mapping[str, Any]) -> list[str]:
    """The recall as lines of text, for the terminal."""
    lines = [f"  {'':38} {'found':>5} / {'total':<5} {'rate':>6}   PDQ distance mean / max"]
    for key, label in LABELS.items():
        row = recall.get(key)
        if not row:
            continue
        rate = f"{row['rate'] * 100:5.1f}%" if row.get("rate") is not None else ""
        line = f"  {label:38} {row['found']:>5} / {row['total']:<5} {rate:>6}"
        if row.get("pdq_distance_mean") is not None:
            line += f"   {row['pdq_distance_mean']:>5} / {row['pdq_distance_max']}"
        lines.append(line.rstrip())
    return lines
