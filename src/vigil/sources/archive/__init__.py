"""Archives: zip (incl. zip64), tar (plain, gzip, bzip2, xz), 7z; single compressed files (.gz/.bz2/.xz);
RAR is recognised and reported, not opened. One module per format; shared arithmetic in `common`.

Nothing is extracted to disk by name: members are read as streams, so `../` or absolute member names
cannot write anywhere; they are still reported (the member is hashed, with a warning), because a name
crafted to escape an extraction folder is itself worth a reviewer's attention.

Bombs are stopped by arithmetic before decompression where the format declares sizes (zip, 7z) and by
counting while reading where it does not (tar streams, .gz): a member whose expanded size passes
`Limits.max_ratio` times its stored size (or the whole archive's), `Limits.max_member` or the
container's `Limits.max_total` becomes an error item. Encrypted members are error items ("encrypted"),
never silently skipped. Links and device nodes inside archives are listed, never followed.
"""

from __future__ import annotations

from vigil.sources.archive.rar import RarArchive
from vigil.sources.archive.sevenzip import SevenZipArchive
from vigil.sources.archive.tar import TarArchive
from vigil.sources.archive.zip import ZipArchive
from vigil.sources.base import Container

# The order `vigil.sources.detect` tries them in.
ARCHIVES: tuple[type[Container], ...] = (ZipArchive, SevenZipArchive, TarArchive, RarArchive)

__all__ = ["ARCHIVES", "RarArchive", "SevenZipArchive", "TarArchive", "ZipArchive"]
