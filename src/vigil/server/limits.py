"""Request limits shared by every `vigil serve` worker: body sizes and per-key rate limits.

`BodyLimit` is pure ASGI middleware: it counts the bytes a request body really carries (a missing or false
Content-Length does not get past it) and answers 413 with the reason. `SharedLimiter` keeps one token
bucket per key (an API key's id, or a string such as a login client's address) in a small file under the
deployment's data directory, locked with `fcntl.lockf`, so uvicorn's worker processes on one machine share
each budget instead of multiplying it.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import struct
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_BUCKET = struct.Struct("<dd")  # tokens, wall-clock time of the last update


class _TooLarge(Exception):
    pass


class BodyLimit:
    """413 for a body over `default` bytes, or over `per_path[path]` for the paths listed there."""

    def __init__(self, app: ASGIApp, default: int, per_path: dict[str, int] | None = None) -> None:
        self.app = app
        self.default = default
        self.per_path = per_path or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.per_path.get(scope.get("path", ""), self.default)
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _reject(send, limit)
            return
        seen = 0
        started = rejected = False

        async def counting_receive() -> Message:
            # The 413 goes out as soon as the body passes the limit: frameworks turn errors raised while
            # reading a body into their own 400, which `tracking_send` then drops.
            nonlocal seen, rejected
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    if not started and not rejected:
                        rejected = True
                        await _reject(send, limit)
                    raise _TooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if rejected:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        with contextlib.suppress(_TooLarge):  # the 413 went out from counting_receive
            await self.app(scope, counting_receive, tracking_send)


async def _reject(send: Send, limit: int) -> None:
    body = json.dumps({"detail": f"request body over {limit} bytes"}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


class SharedLimiter:
    """Per-key token buckets (`rate` requests a second, bursts up to `rate`) in files every worker
    process of this machine opens; a process-local lock orders its own threads (lockf locks are
    per process)."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.folder = folder
        self._fds: dict[int, int] = {}
        self._lock = threading.Lock()

    def _open(self, key: int | str) -> tuple[int, bool]:
        """The bucket file's descriptor, and whether it stays open: API keys are few and kept open;
        other keys (client addresses: unbounded in number) are opened for the one call."""
        if isinstance(key, int):
            fd = self._fds.get(key)
            if fd is None:
                fd = self._fds[key] = self._create(f"key-{key}")
            return fd, True
        return self._create("k-" + hashlib.sha256(key.encode()).hexdigest()[:40]), False

    def _create(self, name: str) -> int:
        return os.open(self.folder / name, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)

    def wait(self, key: int | str, rate: float, burst: float | None = None) -> float:
        """0 when the request may go now (and it is counted), else the seconds until it may. `rate` is in
        requests a second (0 = no limit); `burst` defaults to one second's worth (at least 1)."""
        if rate <= 0:
            return 0.0
        burst = max(1.0, float(rate) if burst is None else burst)
        with self._lock:
            fd, kept = self._open(key)
            fcntl.lockf(fd, fcntl.LOCK_EX)
            try:
                now = time.time()
                raw = os.pread(fd, _BUCKET.size, 0)
                tokens, last = _BUCKET.unpack(raw) if len(raw) == _BUCKET.size else (burst, now)
                tokens = min(burst, tokens + max(0.0, now - last) * rate)
                wait = 0.0
                if tokens >= 1.0:
                    tokens -= 1.0
                else:
                    wait = (1.0 - tokens) / rate
                os.pwrite(fd, _BUCKET.pack(tokens, now), 0)
                return wait
            finally:
                fcntl.lockf(fd, fcntl.LOCK_UN)
                if not kept:
                    os.close(fd)

    def close(self) -> None:
        with self._lock:
            for fd in self._fds.values():
                os.close(fd)
            self._fds.clear()
