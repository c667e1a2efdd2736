"""Settings (pydantic-settings): every value can be set with a VIGIL_ environment variable.

Built once at the edge (the CLI's context, the server's app factory) and passed down; a `Store` carries the
settings it was opened with, so library code below the edge reads them from there, never from the
environment itself.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url


def default_db_path() -> Path:
    return Path.home() / ".local" / "share" / "vigil" / "vigil.db"


def side_dir(url: str, kind: str, override: str | None) -> Path:
    """A folder that belongs to the store at `url` (a SQLAlchemy URL): `override` if given, else beside a
    SQLite file (``vigil.db.index``), else one per database under the default data folder."""
    if override:
        return Path(override).expanduser()
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        return Path(f"{parsed.database}.{kind}")
    name = (
        f"{parsed.get_backend_name()}-{parsed.host or 'local'}-{parsed.port or 'default'}-"
        f"{parsed.database or 'db'}"
    )
    return default_db_path().parent / kind / name


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VIGIL_", extra="ignore")

    db: str = Field(default_factory=lambda: str(default_db_path()), description="store URL or SQLite path")
    index_dir: str | None = Field(
        default=None,
        description="perceptual index directory (default: beside a SQLite store, else per database)",
    )
    pdq_threshold: int = Field(default=31, ge=0, le=256, description="max Hamming distance for a PDQ match")
    pdq_min_quality: int = Field(
        default=50, ge=0, le=100, description="PDQ hashes below this quality never match"
    )
    max_image_pixels: int = Field(
        default=178_956_970, gt=0, description="larger images are error items, not decoded"
    )
    decode_size: int = Field(
        default=512, ge=64, description="JPEGs are decoded at reduced size, no smaller than this"
    )
    max_depth: int = Field(default=4, ge=0, description="containers inside containers looked into")
    max_ratio: float = Field(
        default=200.0, gt=1, description="expanded/stored size past which an archive member is a bomb"
    )
    max_members: int = Field(default=1_000_000, gt=0, description="members listed per container")
    file_seconds: float = Field(default=300.0, ge=0, description="time budget for one file (0 = none)")
    shard_bytes: int = Field(
        default=64 << 20, ge=0, description="disk images and zips larger than this are split over the workers"
    )
    workers: int = Field(default=0, ge=0, description="hashing processes; 0 means one per core")
    thumbnails: bool = Field(
        default=True, description="embed blurred greyscale thumbnails of matches in report.html"
    )
    data_dir: str | None = Field(
        default=None,
        description="the deployment's private data (thumbnail cache, rate-limit state, scans started from "
        "the web app); default: beside a SQLite store, else per database",
    )
    review_votes: int = Field(
        default=3, ge=1, le=20, description="independent agreeing grades that make a review grade trusted"
    )
    review_group_distance: int = Field(
        default=31, ge=0, le=128, description="PDQ distance within which unknown items are grouped for review"
    )
    session_hours: float = Field(default=12.0, gt=0, description="a review-app login lasts this long")
    session_idle_minutes: float = Field(
        default=30.0, gt=0, description="a review-app login unused this long ends (the idle timeout)"
    )
    cookie_secure: bool = Field(
        default=True,
        description="session cookies only over HTTPS (set false for plain-HTTP tests on 127.0.0.1)",
    )
    api_max_upload: int = Field(
        default=64 << 20, gt=0, description="largest file POST /api/v1/lookup/file accepts, in bytes"
    )
    api_max_pixels: int = Field(
        default=50_000_000,
        gt=0,
        description="POST /api/v1/lookup/file refuses (413) larger images that cannot be decoded at reduced "
        "size (every format but JPEG): decoding one holds all its pixels",
    )
    api_max_decodes: int = Field(
        default=2,
        ge=1,
        description="uploads POST /api/v1/lookup/file hashes at once (per worker); others wait",
    )

    # The review web app (vigil.server.web).
    evidence_roots: str = Field(
        default="",
        description="colon-separated folders the web app may scan and show thumbnails from (none: neither)",
    )
    scan_roots: str = Field(
        default="",
        description="colon-separated folders holding finished `vigil scan --out` folders that may be "
        "attached from the web (besides the evidence roots and the data folder's scans/)",
    )
    scan_workers: int = Field(default=0, ge=0, description="hashing processes for scans started from the web")
    login_attempts_per_minute: int = Field(
        default=20, ge=0, description="login attempts one client address may make a minute (0 = no limit)"
    )
    thumb_cache_mb: int = Field(
        default=1024, ge=1, description="the thumbnail cache's size; the least recently shown go first"
    )

    def index_root(self, url: str) -> Path:
        """Where the perceptual indexes of the store at `url` live: $VIGIL_INDEX_DIR, else beside a SQLite
        file, else per database."""
        return side_dir(url, "index", self.index_dir)

    def data_root(self, url: str) -> Path:
        """The deployment's private data: $VIGIL_DATA_DIR, else beside a SQLite file, else per database."""
        return side_dir(url, "data", self.data_dir)
