"""Project VIC VICS JSON: Media and Cases files (2.0 and 1.x), categories both ways, bad records."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from tests.exchange.formats import fake_hash, sample_records
from vigil import exchange
from vigil.cli import main

MD5 = [fake_hash("md5", str(i)).hex() for i in range(4)]
SHA1 = [fake_hash("sha1", str(i)).hex() for i in range(4)]


def run(db: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["--db", str(db), *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def media_file(path: Path, *, cases: bool = False, v1: bool = False, bom: bool = False) -> Path:
    media = [
        {
            "MediaID": 1,
            "Category": 1,
            "MD5": MD5[0].upper(),
            "SHA1": SHA1[0].upper(),
            "MediaSize": 2835,
            "VictimIdentified": True,
            "Series": "harbour",
            "IsPrecategorized": "true",
            "MediaFiles": [{"FileName": "x.jpg", "FilePath": "/a", "Deleted": False}],
        },
        {
            "MediaID": 2,
            "Category": 2,
            "MD5": MD5[1],
            "VictimIdentified": "false",
            "Comments": 'a, "quoted" note',
        },
        {"MediaID": 3, "Category": 0, "SHA1": SHA1[2]},
        {
            "MediaID": 4,
            "Category": 1,
            "MD5": MD5[0].upper(),
            "SHA1": SHA1[0].upper(),
        },  # repeated, as in real files
    ]
    key = "odata.metadata" if v1 else "@odata.context"
    base = (
        "http://github.com/ICMEC/ProjectVic/DataModels/1.3.xml"
        if v1
        else "http://x/2.0.xml/Default/$metadata"
    )
    doc = (
        {
            key: base + "#Cases",
            "value": [{"CaseID": "c1", "Media": media[:2]}, {"CaseID": "c2", "Media": media[2:]}],
        }
        if cases
        else {key: base + "#Media", "value": media}
    )
    path.write_text(("\ufeff" if bom else "") + json.dumps(doc), encoding="utf-8")
    return path


def test_media_and_case_files_read_the_same(tmp_path: Path) -> None:
    fmt = exchange.get("vics")
    variants = [
        media_file(tmp_path / "media.json"),
        media_file(tmp_path / "cases.json", cases=True),
        media_file(tmp_path / "v1.json", v1=True, bom=True),
    ]
    results = [exchange.read_file(p, fmt) for p in variants]
    assert results[0] == results[1] == results[2]
    first, second, third, _again = results[0]
    assert first.hashes == {"md5": bytes.fromhex(MD5[0]), "sha1": bytes.fromhex(SHA1[0])}
    assert (first.category, first.series, first.victim_identified, first.size) == ("I", "harbour", True, 2835)
    assert (second.category, second.victim_identified, second.notes) == ("X", False, 'a, "quoted" note')
    assert third.category == "G" and third.hashes == {"sha1": bytes.fromhex(SHA1[2])}


def test_import_export_round_trip_keeps_vics_categories(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    code, out, err = run(db, "--json", "import", str(media_file(tmp_path / "in.json")), "--format", "vics")
    assert code == 0, err
    assert json.loads(out)[str(tmp_path / "in.json")]["entries_created"] == 3
    code, out, _ = run(db, "--json", "export", str(tmp_path / "out.json"), "--format", "vics")
    assert code == 0 and json.loads(out)["records"] == 2  # the SHA1-only entry has no MD5 to key on
    doc = json.loads((tmp_path / "out.json").read_text())
    assert doc["@odata.context"].endswith("$metadata#Media")
    by_md5 = {m["MD5"].lower(): m for m in doc["value"]}
    assert by_md5[MD5[0]]["Category"] == 1 and by_md5[MD5[0]]["Series"] == "harbour"
    assert by_md5[MD5[0]]["VictimIdentified"] is True and by_md5[MD5[0]]["MediaSize"] == 2835
    assert by_md5[MD5[1]]["Category"] == 2 and by_md5[MD5[1]]["Comments"] == 'a, "quoted" note'


def test_uk_grades_are_written_as_vics_category_1(tmp_path: Path) -> None:
    path = tmp_path / "out.json"
    exchange.write_file_atomic(path, exchange.get("vics"), iter(sample_records()))
    values = json.loads(path.read_text())["value"]
    cats = {m["MediaID"]: m.get("Category") for m in values}
    assert cats == {1: 1, 2: 1, 5: 0, 7: 3, 12: 1}  # A, B, G, P, C; records without MD5 are not written


def test_bad_records_name_their_position_and_import_nothing(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    cases = [
        ({"value": [{"MD5": MD5[0]}, {"MediaID": 9}]}, "media record 2 has neither MD5 nor SHA1"),
        ({"value": [{"MD5": MD5[0], "Category": 7}]}, "unknown VICS category 7"),
        ({"value": [{"MD5": "xyz"}]}, "media record 1"),
        ({"value": [{"MD5": MD5[0], "VictimIdentified": "maybe"}]}, "VictimIdentified must be true or false"),
        ({"items": []}, 'expected an object with a "value" list'),
    ]
    for i, (doc, reason) in enumerate(cases):
        path = tmp_path / f"bad{i}.json"
        path.write_text(json.dumps(doc))
        code, _, err = run(db, "import", str(path), "--format", "vics")
        assert code == 1 and reason in err, err
    (tmp_path / "broken.json").write_text('{"value": [\n{"MD5": 1,\n')
    code, _, err = run(db, "import", str(tmp_path / "broken.json"), "--format", "vics")
    assert code == 1 and "not JSON" in err
    code, out, _ = run(db, "--json", "db", "stats")
    assert json.loads(out)["entries"] == 0
