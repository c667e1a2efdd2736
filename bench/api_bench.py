"""The matching API under load: `vigil serve` (2 uvicorn workers) on a store of N PDQ + N SHA-1 hashes,
side by side with its floor — the same uvicorn + FastAPI + pydantic stack answering the same requests
without looking anything up (bench/api_floor.py) — driven by wrk over loopback from one thread.

- single: one hash per request (half known SHA-1, half PDQ a few bits from a known one), 8 and 32
  connections; requests/s and p50/p99 latency.
- batched: 1,000 hashes per request (500 + 500), 4 connections; hashes/s.

Before any number is taken, one request of each kind is checked (every known SHA-1 and every near PDQ is
found) and each server gets a 4 s warm-up run of single-hash requests (both workers past their first
requests, the index pages in memory), as a platform's long-running server would be.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

VIGIL = str(Path(sys.executable).parent / "vigil")
HERE = Path(__file__).resolve().parent
DURATION_S = 12
WARMUP_S = 4  # a run first, not measured: every worker past its first requests

LUA = """
local bodies = {}
local path = "/api/v1/lookup"
local key = ""
init = function(args)
  for line in io.lines(args[1]) do bodies[#bodies + 1] = line end
  key = args[2]
  math.randomseed(os.time())
end
request = function()
  return wrk.format("POST", path, {["Content-Type"] = "application/json",
                                   ["Authorization"] = "Bearer " .. key}, bodies[math.random(#bodies)])
end
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _flip(rows: np.ndarray, bits: int, rng: np.random.Generator) -> np.ndarray:
    out = np.unpackbits(rows, axis=1)
    for r in out:
        r[rng.choice(256, bits, replace=False)] ^= 1
    return np.packbits(out, axis=1)


def make_store(tmp: Path, n: int) -> tuple[str, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(2026)
    pdq = rng.integers(0, 256, (n, 32), dtype=np.uint8)
    sha1 = rng.integers(0, 256, (n, 20), dtype=np.uint8)
    csv = tmp / "api-known.csv"
    cats = "ABCIXPN"
    with open(csv, "w") as fh:
        fh.write("sha1,pdq,pdq_quality,category\n")
        for i in range(n):
            fh.write(f"{sha1[i].tobytes().hex()},{pdq[i].tobytes().hex()},90,{cats[i % 7]}\n")
    db = str(tmp / "api.db")
    subprocess.run([VIGIL, "-q", "--db", db, "import", str(csv), "--format", "csv"], check=True)
    csv.unlink()
    return db, pdq, sha1


def bodies(
    pdq: np.ndarray,
    sha1: np.ndarray,
    per_request: int,
    count: int,
    rng: np.random.Generator,
    pdq_share: float = 0.5,
) -> list[str]:
    """`count` request bodies of `per_request` known hashes: a `pdq_share` of them PDQ hashes 8 bits from a
    stored one, the rest stored SHA-1s (for single-hash requests: that share of the requests)."""
    out = []
    for _ in range(count):
        n_pdq = int(rng.random() < pdq_share) if per_request == 1 else round(per_request * pdq_share)
        near: list[np.ndarray] = list(_flip(pdq[rng.choice(len(pdq), n_pdq)], 8, rng)) if n_pdq else []
        hashes = [{"signal": "pdq", "value": r.tobytes().hex()} for r in near]
        picks = rng.choice(len(sha1), per_request - n_pdq)
        hashes += [{"signal": "sha1", "value": sha1[i].tobytes().hex()} for i in picks]
        out.append(json.dumps({"hashes": hashes}))
    return out


def start(cmd: list[str], port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/ready", timeout=5).status_code == 200:
                return proc
        except httpx.TransportError:
            pass
        if proc.poll() is not None:
            break
        time.sleep(0.3)
    proc.kill()
    raise RuntimeError(f"{cmd[:3]} did not start")


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()


def wrk(
    port: int, body_file: Path, key: str, connections: int, lua: Path, seconds: int = DURATION_S
) -> dict[str, float]:
    out = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            str(lua),
            f"http://127.0.0.1:{port}",
            "--",
            str(body_file),
            key,
        ],
        check=True,
        text=True,
        capture_output=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise RuntimeError(f"{errors.group(1)} failed requests under load:\n{out}")

    def pct(p: str) -> float:
        value, unit = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()  # type: ignore[union-attr]
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    return {"rps": rps, "p50_ms": pct("50"), "p99_ms": pct("99")}


def check(port: int, key: str, pdq: np.ndarray, sha1: np.ndarray) -> None:
    rng = np.random.default_rng(1)
    body = json.loads(bodies(pdq, sha1, 1000, 1, rng)[0])
    r = httpx.post(
        f"http://127.0.0.1:{port}/api/v1/lookup",
        json=body,
        headers={"Authorization": f"Bearer {key}"},
        timeout=60,
    )
    r.raise_for_status()
    missing = sum(1 for x in r.json()["results"] if not x["matches"])
    if missing:
        raise RuntimeError(f"{missing} of 1000 known hashes not found")


def run(tmp: Path, n: int) -> dict[str, Any]:
    t = time.perf_counter()
    db, pdq, sha1 = make_store(tmp, n)
    build_s = time.perf_counter() - t
    key = json.loads(
        subprocess.run(
            [
                VIGIL,
                "--db",
                db,
                "--json",
                "apikey",
                "create",
                "bench",
                "--scopes",
                "lookup",
                "--rate-limit",
                "0",
            ],
            check=True,
            text=True,
            capture_output=True,
        ).stdout
    )["key"]
    rng = np.random.default_rng(3)
    loads: dict[str, tuple[Path, int]] = {}  # name -> (bodies, connections)
    for name, per_request, share, count, connections in LOADS:
        path = tmp / f"{name}.jsonl"
        path.write_text("\n".join(bodies(pdq, sha1, per_request, count, rng, share)) + "\n")
        loads[name] = (path, connections)
    lua = tmp / "lookup.lua"
    lua.write_text(LUA)
    env = dict(os.environ, VIGIL_DB=db)
    results: dict[str, Any] = {"n": n, "build_s": build_s}
    for name, cmd_of in (
        ("vigil", lambda p: [VIGIL, "-q", "serve", "--port", str(p), "--workers", "2"]),
        (
            "floor",
            lambda p: [
                sys.executable,
                "-m",
                "uvicorn",
                "api_floor:app",
                "--port",
                str(p),
                "--workers",
                "2",
                "--http",
                "vigil.server.protocol:NoDelayProtocol",
                "--log-level",
                "warning",
                "--app-dir",
                str(HERE),
            ],
        ),
    ):
        port = _free_port()
        proc = start(cmd_of(port), port, env)
        try:
            if name == "vigil":
                check(port, key, pdq, sha1)
            warm = loads["single_c8"]
            wrk(port, warm[0], key, warm[1], lua, seconds=WARMUP_S)  # both workers loaded and warm
            results[name] = {load: wrk(port, path, key, c, lua) for load, (path, c) in loads.items()}
        finally:
            stop(proc)
    return results


LOADS = (  # name, hashes a request, PDQ share, distinct bodies, connections
    ("single_c8", 1, 0.5, 2000, 8),
    ("single_c32", 1, 0.5, 2000, 32),
    ("single_sha1_c8", 1, 0.0, 2000, 8),
    ("batch_sha1", 1000, 0.0, 20, 4),
    ("batch_pdq", 1000, 1.0, 20, 4),
    ("batch_mixed", 1000, 0.5, 20, 4),
)
LABELS = {
    "single_c8": ("1 hash a request (half PDQ, half SHA-1), 8 connections", "≥ 2,000/s, p99 < 50 ms"),
    "single_c32": ("1 hash a request (half PDQ, half SHA-1), 32 connections", "≥ 2,000/s"),
    "single_sha1_c8": ("1 SHA-1 a request, 8 connections", "≥ 2,000/s, p99 < 50 ms"),
    "batch_sha1": ("1,000 SHA-1s a request, 4 connections", "≥ 50,000 hashes/s"),
    "batch_pdq": ("1,000 PDQs a request, 4 connections", "≥ 50,000 hashes/s"),
    "batch_mixed": ("1,000 hashes a request (half PDQ), 4 connections", "≥ 50,000 hashes/s"),
}


def render(r: dict[str, Any]) -> list[str]:
    v, f = r["vigil"], r["floor"]
    lines = [
        f"Store: {r['n']:,} PDQ + {r['n']:,} SHA-1 hashes (SQLite; import + index build "
        f"{r['build_s']:.0f} s). wrk, 1 thread, {DURATION_S} s a run, on the same 2 cores as the server "
        "(2 uvicorn workers each side). Every hash asked for is a stored one (PDQ: 8 bits off).",
        "",
        "| load | vigil | floor (FastAPI, no lookup) | vigil / floor | goal |",
        "|---|---:|---:|---:|---|",
    ]
    for load, (label, goal) in LABELS.items():
        a, b = v[load], f[load]
        if load.startswith("single"):
            mine = f"{a['rps']:,.0f} req/s (p50 {a['p50_ms']:.1f} ms, p99 {a['p99_ms']:.1f} ms)"
            floor = f"{b['rps']:,.0f} req/s (p50 {b['p50_ms']:.1f}, p99 {b['p99_ms']:.1f})"
        else:
            mine = f"{a['rps'] * 1000:,.0f} hashes/s (p50 {a['p50_ms']:.0f} ms, p99 {a['p99_ms']:.0f} ms)"
            floor = f"{b['rps'] * 1000:,.0f} hashes/s"
        lines.append(f"| {label} | {mine} | {floor} | {a['rps'] / b['rps']:.2f}× | {goal} |")
    return lines
