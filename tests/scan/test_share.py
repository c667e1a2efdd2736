"""How a split container's members are shared out: each member by exactly one shard, bytes balanced,
shard 0 (which also hashes the container itself) given fewer."""

from __future__ import annotations

import random

import pytest

from vigil.scan.worker import _Share
from vigil.sources import Member, Problem


def _members(seed: int, count: int) -> list[Member | Problem]:
    rng = random.Random(seed)
    out: list[Member | Problem] = []
    for i in range(count):
        if i % 17 == 0:
            out.append(Problem(f"bad{i}", "unreadable", -1))
        else:
            out.append(Member(f"m{i}", rng.randint(0, 20 << 20), lambda: None))  # type: ignore[arg-type,return-value]
    return out


@pytest.mark.parametrize("shards", [2, 3, 4])
@pytest.mark.parametrize("container", [0, 1 << 30, 50 << 30])
def test_every_member_goes_to_exactly_one_shard(shards: int, container: int) -> None:
    members = _members(shards, 500)
    picks = []
    for me in range(shards):
        share = _Share((me, shards), container)
        picks.append([share.mine(m) for m in members])
    for column in zip(*picks, strict=True):
        assert sum(column) == 1
    loads = [sum(max(m.size, 0) for m, mine in zip(members, row, strict=True) if mine) for row in picks]
    loads[0] += container
    total = sum(loads)
    if container < total / shards:  # the container itself does not outweigh a fair share
        assert max(loads) - min(loads) <= (20 << 20) + 500 * _Share.PER_MEMBER


def test_two_workers_and_a_disk_image_bigger_than_its_files() -> None:
    members = _members(7, 300)
    files = sum(max(m.size, 0) for m in members)
    first = _Share((0, 2), files + len(members) * _Share.PER_MEMBER + 1)
    assert not any(first.mine(m) for m in members)  # shard 0 hashes the image, shard 1 the files
