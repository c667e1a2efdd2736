"""Every registered hash-set format passes the shared conformance tests (tests/exchange/formats.py)."""

from __future__ import annotations

from tests.exchange.formats import FormatConformance, fake_hash
from vigil import exchange

MD5 = fake_hash("md5", "x").hex()
CSV_COLUMNS = (
    "md5",
    "sha1",
    "sha256",
    "pdq",
    "pdq_quality",
    "vpdq",
    "category",
    "series",
    "victim_identified",
)
SHA1 = fake_hash("sha1", "x").hex()
SHA256 = fake_hash("sha256", "x").hex()


def csv_row(**cells: str) -> str:
    """A row for the csv writer's header: md5,sha1,sha256,pdq,pdq_quality,vpdq,category,...,source,notes."""
    return ",".join(cells.get(c, "") for c in CSV_COLUMNS) + ",,"


class TestCSV(FormatConformance):
    format_name = "csv"
    carries = frozenset({"category", "series", "victim_identified", "source", "notes", "quality"})
    header_lines = 1
    bad_lines = (
        ("this is not a hash line", "expected"),
        (csv_row(md5=MD5, category="Q"), "unknown category"),
        (csv_row(md5=MD5[:-1], category="A"), "32 hex digits"),
        (csv_row(category="A"), "no hash"),
        (csv_row(md5=MD5, victim_identified="perhaps"), "true/false"),
    )


class ChecksumConformance(FormatConformance):
    bad_lines = (
        ("this is not a hash line", "not a checksum line"),
        (f"{MD5[:-1]}  name", "31 hex digits"),
        (f"{'g' * 32}  name", "not hexadecimal"),
        ("MD5 (name) = " + SHA1, "32 hex digits"),
        ("SHA512 (name) = " + SHA256 * 2, "not a hash vigil stores"),
        (f"\\{MD5}  bad\\tescape", "bad escape"),
    )


class TestMD5Sum(ChecksumConformance):
    format_name = "md5sum"
    written_signals = ("md5",)


class TestSHA1Sum(ChecksumConformance):
    format_name = "sha1sum"
    written_signals = ("sha1",)


class TestSHA256Sum(ChecksumConformance):
    format_name = "sha256sum"
    written_signals = ("sha256",)


class TestHashdeep(FormatConformance):
    format_name = "hashdeep"
    written_signals = ("md5", "sha1", "sha256")
    needs_all_signals = True
    needs_size = True
    carries = frozenset({"size"})
    header_lines = 5
    bad_lines = (
        ("this is not a hash line", "expected 5 fields"),
        (f"12,{MD5},{SHA1}", "expected 5 fields"),
        (f"twelve,{MD5},{SHA1},{SHA256},name", "size must be a whole number"),
        (f"-1,{MD5},{SHA1},{SHA256},name", "size must be a whole number"),
        (f"12,{SHA1},{SHA1},{SHA256},name", "md5 value must be 32 hex digits"),
        ("%%%% size,md5,filename", "unexpected header line"),
    )


class TestThreatExchange(FormatConformance):
    format_name = "te"
    written_signals = ("pdq",)  # md5/sha256 only for videos (the samples are not)
    bad_lines = (
        ("this-is-not-a-hash-line", "expected 'SIGNAL_TYPE VALUE'"),
        ("url https://example.org/x", "is not one vigil keeps"),
        ("pdq 1234", "64 hex digits"),
    )


def test_every_format_has_a_conformance_class() -> None:
    def subclasses(cls: type) -> list[type]:
        return [c for sub in cls.__subclasses__() for c in (sub, *subclasses(sub))]

    tested = {c.format_name for c in subclasses(FormatConformance) if "format_name" in vars(c)}
    assert tested >= {"csv", "md5sum", "sha1sum", "sha256sum", "hashdeep"}
    # Read-only formats cannot round-trip: vpdq (one video per file, test_video.py) and nsrl (a
    # database, test_nsrl.py) have their own tests, as has vics (JSON, not lines: test_vics.py).
    assert set(exchange.names(writable=False)) == {"vpdq", "nsrl"}
    assert tested >= set(exchange.names(writable=True)) - {"vics"}
