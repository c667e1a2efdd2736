"""Start a real `vigil serve` process on 127.0.0.1 for a test, and stop it gracefully."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from click.testing import CliRunner

from vigil.cli import main

VIGIL = str(Path(sys.executable).parent / "vigil")


def run(db: str, *args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["--db", db, *args], input=stdin, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def create_key(db: str, name: str, scopes: str, rate: int = 0) -> str:
    code, out, err = run(
        db, "--json", "apikey", "create", name, "--scopes", scopes, "--rate-limit", str(rate)
    )
    assert code == 0, err
    return str(json.loads(out)["key"])


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@dataclass
class Served:
    base: str
    proc: subprocess.Popen[str]

    def stop(self) -> int:
        """SIGTERM (graceful shutdown) and the exit status; uvicorn re-raises SIGTERM for it."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=30)


@contextmanager
def serving(db: str, *, workers: int = 1, env: dict[str, str] | None = None) -> Iterator[Served]:
    port = free_port()
    full_env = dict(os.environ, VIGIL_DB=db, **(env or {}))
    proc = subprocess.Popen(
        [VIGIL, "-q", "serve", "--port", str(port), "--workers", str(workers)],
        env=full_env,
        stderr=subprocess.PIPE,
        text=True,
    )
    served = Served(f"http://127.0.0.1:{port}", proc)
    deadline = time.monotonic() + 60
    last = "no answer"
    try:
        while True:
            try:
                answer = httpx.get(f"{served.base}/api/v1/ready", timeout=2)
                if answer.status_code == 200:
                    break
                last = f"{answer.status_code} {answer.text[:500]}"
            except httpx.TransportError as exc:
                last = repr(exc)
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                _, err = proc.communicate(timeout=30)
                raise AssertionError(f"vigil serve did not start ({last}): {err[-3000:]}")
            time.sleep(0.2)
        yield served
    finally:
        status = served.stop()
    assert status in (0, -signal.SIGTERM), status
