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

Modules: `client` (HMA's HTTP API) and `sync` (push and pull, to and from the store).
"""

from vigil.exchange.hma.client import (
    DEFAULT_TIMEOUT,
    BankContent,
    HMABankNotFoundError,
    HMAClient,
    HMAError,
    HMAUnreachableError,
)
from vigil.exchange.hma.sync import NOTE_PREFIX, PullReport, PushReport, make_note, parse_note, pull, push

__all__ = [
    "DEFAULT_TIMEOUT",
    "NOTE_PREFIX",
    "BankContent",
    "HMABankNotFoundError",
    "HMAClient",
    "HMAError",
    "HMAUnreachableError",
    "PullReport",
    "PushReport",
    "make_note",
    "parse_note",
    "pull",
    "push",
]
