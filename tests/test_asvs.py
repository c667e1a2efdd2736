"""docs/ASVS.md cannot rot: every module, function and test it cites must exist.

A cited test is a pytest node id, ``tests/path.py::test_name`` or ``tests/path.py::Class::method`` (a
parametrised id by its base name); cited code is ``src/path.py`` or ``src/path.py::name`` /
``::Class.method``. Names are looked up with `ast` in the file named, so nothing is imported or run.
"""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "ASVS.md"
CITED = re.compile(r"`((?:src|tests)/[\w./-]+\.py)((?:::[\w.]+)*)(?:\[[^\]`]*\])?`")
STATUSES = ("**met**", "**partly**", "**not met**", "**n/a**")


@cache
def names_in(path: Path) -> frozenset[str]:
    """Top-level functions and classes of a module, and each class's methods as ``Class.method``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    defs = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    for node in tree.body:
        if isinstance(node, defs):
            found.add(node.name)
        if isinstance(node, ast.ClassDef):
            found.update(f"{node.name}.{sub.name}" for sub in node.body if isinstance(sub, defs))
    return frozenset(found)


def citations() -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for m in CITED.finditer(DOC.read_text(encoding="utf-8"))]


def test_every_cited_path_and_name_exists() -> None:
    problems = []
    for file, tail in citations():
        path = ROOT / file
        if not path.is_file():
            problems.append(f"{file}: no such file")
            continue
        parts = [p for p in tail.split("::") if p]
        if not parts:
            continue
        name = ".".join(parts) if file.startswith("tests/") else parts[0]
        if file.startswith("tests/") and not parts[-1].startswith("test"):
            problems.append(f"{file}{tail}: not a test name")
        if name not in names_in(path):
            problems.append(f"{file}{tail}: no such function, class or method")
    assert not problems, "docs/ASVS.md cites what does not exist:\n" + "\n".join(problems)


def test_the_checklist_cites_tests_and_code() -> None:
    cited = citations()
    tests = {f + t for f, t in cited if f.startswith("tests/") and t}
    code = {f + t for f, t in cited if f.startswith("src/")}
    assert len(tests) >= 40 and len(code) >= 30, (len(tests), len(code))


def test_every_requirement_row_has_a_status() -> None:
    rows = [
        line
        for line in DOC.read_text(encoding="utf-8").splitlines()
        if line.startswith("| ") and not line.startswith(("| ASVS", "|---"))
    ]
    assert len(rows) >= 40
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert len(cells) == 5, row
        assert cells[2].startswith(STATUSES), row


def test_the_checker_catches_rot(tmp_path: Path) -> None:
    """The pattern and the name lookup really see a missing test and a class method."""
    module = tmp_path / "m.py"
    module.write_text("class A:\n    def test_b(self):\n        pass\n\ndef test_c():\n    pass\n")
    assert {"A", "A.test_b", "test_c"} <= names_in(module)
    line = "`tests/x.py::A::test_b[1-2]` and `src/vigil/y.py::f`"
    assert [(m.group(1), m.group(2)) for m in CITED.finditer(line)] == [
        ("tests/x.py", "::A::test_b"),
        ("src/vigil/y.py", "::f"),
    ]
