"""The HTTP client of HMA's curation API (the ``/c`` routes): banks, signal types, and bank contents read,
added, re-noted and removed one by one, with HMA's errors turned into `HMAError`s. What the routes offer and
what they lack is in `vigil.exchange.hma`'s docstring.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from vigil.core.errors import VigilError

DEFAULT_TIMEOUT = 30.0
WORKERS = 8
WINDOW = 4 * WORKERS  # content ids fetched concurrently per step of the walk
RECHECK_AFTER = 256  # consecutive missing ids after which the walk asks HMA for its hash count again
MAX_GAP = 1_000_000  # consecutive missing ids after which the walk gives up (HMA's count must be wrong)


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
