"""Scans started from the web app: `vigil scan` in a subprocess, its --out under ``<data>/scans/<job>``.

A job is a folder plus a small JSON file beside it (``<job>.json``: who, what, when, pid, and once the
process has ended its exit status), so every uvicorn worker — and the next server start — sees the same
jobs. The worker that started a scan waits for it in a thread, records the exit status and, when the scan
succeeded, calls `on_done(scan_id, user)` (the review app attaches the scan for review).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from vigil.core.fsio import atomic_write

JOB_NAME = re.compile(r"^[0-9]{8}-[0-9]{6}-[0-9a-f]{6}$")
MAX_RUNNING = 4  # scans started from the web that may run at once (each uses every core)
LOG_TAIL = 4000


@dataclass
class Job:
    id: str
    user: str
    evidence: list[str]
    case: str | None
    started_at: str
    pid: int | None = None
    returncode: int | None = None
    finished_at: str | None = None
    scan_id: int | None = None
    attach_error: str | None = None

    @property
    def state(self) -> str:
        if self.returncode is None:
            return "running" if _alive(self.pid) else "lost"
        return "done" if self.returncode == 0 else "failed"


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a child that ended but was not waited for yet is a zombie: not running
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


class Jobs:
    def __init__(self, root: Path, db_url: str, workers: int = 0) -> None:
        self.root = root
        self.db_url = db_url
        self.workers = workers
        self._lock = threading.Lock()

    def out_dir(self, job_id: str) -> Path:
        return self.root / job_id

    @staticmethod
    def new_id() -> str:
        return f"{datetime.now(UTC):%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"

    def start(
        self,
        job_id: str,
        evidence: list[str],
        case: str | None,
        user: str,
        on_done: Callable[[Job], None],
    ) -> Job:
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        job = Job(
            id=job_id,
            user=user,
            evidence=evidence,
            case=case,
            started_at=datetime.now(UTC).isoformat(),
        )
        cmd = [sys.executable, "-m", "vigil", "-q", "scan", "--out", str(self.out_dir(job.id))]
        if case:
            cmd += ["--case", case]
        if self.workers:
            cmd += ["--workers", str(self.workers)]
        cmd += ["--", *evidence]
        log = open(self.root / f"{job.id}.log", "wb")  # noqa: SIM115 (handed to the child, closed below)
        try:
            # The store URL goes through the environment, not the command line (ps shows arguments).
            env = dict(os.environ, VIGIL_DB=self.db_url)
            proc = subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env, start_new_session=True
            )
        finally:
            log.close()
        job.pid = proc.pid
        self.save(job)
        threading.Thread(target=self._wait, args=(job, proc, on_done), daemon=True).start()
        return job

    def _wait(self, job: Job, proc: subprocess.Popen[bytes], on_done: Callable[[Job], None]) -> None:
        job.returncode = proc.wait()
        job.finished_at = datetime.now(UTC).isoformat()
        if job.returncode == 0:
            try:
                summary = json.loads((self.out_dir(job.id) / "summary.json").read_text())
                job.scan_id = int(summary["scan_id"])
            except (OSError, ValueError, KeyError, TypeError) as exc:
                job.attach_error = f"no scan id in summary.json: {exc}"
        self.save(job)
        if job.scan_id is not None:
            try:
                on_done(job)
            except Exception as exc:  # the scan stands; attaching can be done again from its page
                job.attach_error = str(exc)
                self.save(job)

    def save(self, job: Job) -> None:
        with self._lock, atomic_write(self.root / f"{job.id}.json", suffix=".part") as fh:
            json.dump(asdict(job), fh)

    def get(self, job_id: str) -> Job | None:
        if not JOB_NAME.match(job_id):
            return None
        try:
            data: dict[str, Any] = json.loads((self.root / f"{job_id}.json").read_text())
            job = Job(**data)
        except (OSError, ValueError, TypeError):
            return None
        if job.state == "lost":
            self._settle(job)
        return job

    def _settle(self, job: Job) -> None:
        """A scan whose waiter is gone (the server restarted while it ran): finished if its summary is
        there (attach it from the scan's page), else failed."""
        try:
            summary = json.loads((self.out_dir(job.id) / "summary.json").read_text())
            job.scan_id = int(summary["scan_id"])
            job.returncode = 0
            job.attach_error = "the server restarted while the scan ran: attach it from the scan's page"
        except (OSError, ValueError, KeyError, TypeError):
            job.returncode = -1
        job.finished_at = datetime.now(UTC).isoformat()
        self.save(job)

    def running(self) -> int:
        return sum(1 for job in self.all() if job.state == "running")

    def all(self) -> list[Job]:
        if not self.root.is_dir():
            return []
        found = (self.get(p.stem) for p in self.root.glob("*.json"))
        return sorted((j for j in found if j is not None), key=lambda j: j.started_at, reverse=True)

    def log_tail(self, job_id: str) -> str:
        if not JOB_NAME.match(job_id):
            return ""
        try:
            with open(self.root / f"{job_id}.log", "rb") as fh:
                fh.seek(0, os.SEEK_END)
                fh.seek(max(0, fh.tell() - LOG_TAIL))
                return fh.read().decode("utf-8", "replace")
        except OSError:
            return ""
