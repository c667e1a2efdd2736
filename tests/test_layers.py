"""The package graph is a one-way stack (DESIGN.md "Layers", README "Architecture").

Every import of every module under src/vigil — at the top or inside a function — is read with `ast` and
held to the table below: a package may import the packages of the rows before its own, never its own row's
neighbours or any row after it. Also: no name starting with `_` is imported from another module, modules do
not import each other in a cycle, and modules and functions stay small enough to read.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
ROOT = SRC / "vigil"

# From the bottom of the stack up: a package imports only from the rows listed before its own. `vigil`
# itself holds only __version__.
# Names not in the tree yet are the rooms the open issues' capabilities go in (README "Architecture").
LAYERS: list[tuple[str, ...]] = [
    ("vigil", "core"),  # errors, categories, records, file I/O, clock: nothing of vigil
    ("config",),  # Settings, built once at the edge
    ("signals", "media", "sources", "store", "models"),  # hash types, decoding, evidence, the store
    ("hashing", "index", "meta", "faces"),  # one read feeds every signal; perceptual indexes
    ("match",),  # known hashes -> matches, for scan, API and live watch alike
    ("scan", "exchange", "chats", "watch"),  # the pipeline; hash-set formats; conversations; streams
    ("review", "cluster"),  # grading what scans and platforms found; scans spread over Dask
    ("report",),  # what a person reads from a scan or case
    ("demo",),  # a benign store, evidence and scan, end to end
    ("server", "cli"),  # the two faces
    ("__main__",),  # `python -m vigil`
]
RANK = {package: row for row, packages in enumerate(LAYERS) for package in packages}

MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 80
# A module longer than MAX_MODULE_LINES says in its docstring why it must be one piece, with these words.
ONE_PIECE = "one piece"


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, e.g. vigil.scan.runner
    target: str  # the module or package imported from, e.g. vigil.store.models
    names: tuple[str, ...]  # the names imported (empty for `import x`)
    line: int


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted(ROOT.rglob("*.py")):
        if "migrations" in path.relative_to(ROOT).parts:  # Alembic's scripts: run by Alembic, not imported
            continue
        found[module_name(path)] = path
    return found


def imports_of(name: str, path: Path) -> Iterator[Import]:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "vigil" or alias.name.startswith("vigil."):
                    yield Import(name, alias.name, (), node.lineno)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            if target == "vigil" or target.startswith("vigil."):
                yield Import(name, target, tuple(a.name for a in node.names), node.lineno)


def top_package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "vigil"


ALL = modules()
IMPORTS = [imp for name, path in ALL.items() for imp in imports_of(name, path)]


def resolved(imp: Import) -> list[str]:
    """The modules an import reaches: `from pkg import submodule` reaches the submodule."""
    found = [f"{imp.target}.{n}" for n in imp.names if f"{imp.target}.{n}" in ALL]
    if len(found) < len(imp.names) or not imp.names:
        found.append(imp.target)
    return found


def test_every_package_has_a_row() -> None:
    packages = {top_package(name) for name in ALL}
    assert packages - RANK.keys() == set(), "add the new package to LAYERS (and to DESIGN/README)"


def test_imports_go_only_up_the_stack() -> None:
    wrong = []
    for imp in IMPORTS:
        source, target = top_package(imp.module), top_package(imp.target)
        if source == target or (target == "vigil" and imp.names == ("__version__",)):
            continue
        if RANK[target] >= RANK[source]:
            wrong.append(f"{imp.module}:{imp.line} imports {imp.target} ({source} may not use {target})")
    assert not wrong, "\n".join(wrong)


def test_no_private_names_across_modules() -> None:
    wrong = [
        f"{imp.module}:{imp.line} imports {name} from {imp.target}"
        for imp in IMPORTS
        for name in imp.names
        if name.startswith("_") and not name.startswith("__")
    ]
    assert not wrong, "\n".join(wrong)


def test_no_import_cycles() -> None:
    graph: dict[str, set[str]] = {name: set() for name in ALL}
    for imp in IMPORTS:
        for target in resolved(imp):
            if target in ALL and target != imp.module:
                graph[imp.module].add(target)
    cycles = [sorted(c) for c in strongly_connected(graph) if len(c) > 1]
    assert not cycles, "\n".join(" <-> ".join(c) for c in cycles)


def strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's algorithm, iteratively."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[set[str]] = []
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                out.append(component)
    return out


def test_the_table_catches_a_wrong_edge(tmp_path: Path) -> None:
    """The checks above would fail on an upward import, a private name and a cycle (so they can fail)."""
    a = tmp_path / "vigil" / "store" / "a.py"
    a.parent.mkdir(parents=True)
    a.write_text("from vigil.scan.runner import _private\nfrom vigil.store import b\n")
    found = list(imports_of("vigil.store.a", a))
    assert [(i.target, i.names) for i in found] == [
        ("vigil.scan.runner", ("_private",)),
        ("vigil.store", ("b",)),
    ]
    assert RANK[top_package("vigil.scan.runner")] > RANK[top_package("vigil.store.a")]
    components = strongly_connected({"a": {"b"}, "b": {"a"}, "c": {"a"}, "d": set()})
    assert sorted(map(sorted, components)) == [["a", "b"], ["c"], ["d"]]


@pytest.mark.parametrize("name", sorted(ALL))
def test_modules_and_functions_stay_readable(name: str) -> None:
    path = ALL[name]
    source = path.read_text()
    tree = ast.parse(source)
    lines = source.count("\n")
    doc = ast.get_docstring(tree) or ""
    assert lines <= MAX_MODULE_LINES or ONE_PIECE in doc, (
        f"{name} has {lines} lines: split it, or say in its docstring why it must be {ONE_PIECE}"
    )
    long = [
        f"{node.name} ({node.end_lineno - node.lineno + 1} lines)"  # type: ignore[operator]
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES  # type: ignore[operator]
    ]
    assert not long, f"{name}: functions over {MAX_FUNCTION_LINES} lines: {long}"


def test_the_readme_shows_every_package() -> None:
    """The picture in README "Architecture" names every package, so a new one is placed in it too."""
    readme = (SRC.parent / "README.md").read_text()
    section = readme.split("## Architecture", 1)[1].split("\n## ", 1)[0]
    packages = {top_package(name) for name in ALL} - {"vigil", "__main__"}
    names = {p: (f"{p}/" if (ROOT / p).is_dir() else p) for p in packages}
    missing = sorted(n for n in names.values() if n not in section)
    assert not missing, f"README's Architecture section does not show {missing}"
