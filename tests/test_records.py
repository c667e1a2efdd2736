"""The records passed between stages (vigil.core.records): items.jsonl objects round-trip exactly."""

from __future__ import annotations

import json

from vigil.core.records import ItemRecord


def full() -> dict:
    return {
        "path": "ev/disk.E01!/p1/a.zip!/b.jpg",
        "size": 1234,
        "md5": "0" * 32,
        "sha1": "1" * 40,
        "sha256": "2" * 64,
        "pdq": "3" * 64,
        "pdq_quality": 87,
        "vpdq": None,
        "media_type": "image/jpeg",
        "deleted": True,
        "status": "ok",
        "error": None,
        "verdict": "similar",
        "matches": [{"signal": "pdq", "distance": 12, "entry_id": 7, "category": "B", "series": None}],
    }


def test_an_items_jsonl_object_round_trips_with_its_key_order() -> None:
    data = full()
    record = ItemRecord.from_json(json.loads(json.dumps(data)))
    assert record.hashes == {
        "md5": "0" * 32,
        "sha1": "1" * 40,
        "sha256": "2" * 64,
        "pdq": "3" * 64,
        "vpdq": None,
    }
    assert record.quality == {"pdq": 87}
    assert record.deleted is True and record.verdict == "similar" and record.matches[0]["entry_id"] == 7
    assert list(record.as_json().items()) == list(data.items())


def test_keys_a_newer_version_wrote_are_kept() -> None:
    data = full() | {"exif": {"Make": "x"}, "faces": []}
    again = ItemRecord.from_json(data).as_json()
    assert again == data and list(again)[-2:] == ["exif", "faces"]


def test_fail_adds_the_reason_and_turns_an_unmatched_item_into_an_error() -> None:
    record = ItemRecord("a.zip", 10, verdict="unknown", status="ok")
    record.fail("zip: bad central directory")
    record.fail("too deep")
    assert (record.status, record.verdict) == ("error", "error")
    assert record.error == "zip: bad central directory; too deep"
    known = ItemRecord("b.zip", 10, verdict="known", status="ok")
    known.fail("truncated")
    assert (known.status, known.verdict, known.error) == ("error", "known", "truncated")
