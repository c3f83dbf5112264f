"""The architecture's import rules (docs/architecture.md, "Layers"), checked on the source:
arrows only point down the table, nothing imports `serve` but `serve`, no runtime package
imports the CLI package `heyan`, no two modules import each other (directly or round a
circle), and no runtime module pulls in torch or Ultralytics."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TOPS = ("vision", "models", "datasets", "pipeline", "serve", "edge", "heyan")
RUNTIME = TOPS[:-1]

# What each folder may import among the project's own packages: docs/architecture.md's
# "may import" column. Two arrows go beyond the first design, on purpose: `datasets` ->
# `pipeline` (the flight simulator renders with the same camera model and EXIF/XMP
# conventions that georeferencing reads back, so its ground truth cannot drift from them),
# and `models` -> `datasets` (evaluation reads YOLO label folders). One is gone: `pipeline`
# -> `models`; the pipeline gets its detector injected and never needed the zoo, and
# without that arrow the packages form no circle (models -> datasets -> pipeline).
ALLOWED: dict[str, set[str]] = {
    "vision": set(),
    "models": {"vision", "datasets"},
    "datasets": {"vision", "pipeline"},
    "pipeline": {"vision"},
    "serve": {"pipeline", "models", "vision"},
    "edge": {"vision", "models", "pipeline"},
    "heyan": set(RUNTIME),
}
HEAVY = ("torch", "ultralytics", "torchvision")
# Only training/export code may import the training stack (lazily).
HEAVY_OK = {"models/train.py", "models/offline.py", "models/quantize.py", "models/recover.py"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _sources(top: str) -> list[Path]:
    return [p for p in (ROOT / top).rglob("*.py") if "__pycache__" not in p.parts]


MODULES = {_module_name(p): p for top in TOPS for p in _sources(top)}


def _imported_names(path: Path) -> set[str]:
    """Every module name an import statement of this file names (TYPE_CHECKING ones too:
    they are arrows a reader follows), relative imports resolved, `from a import b` as
    `a.b` where that is a module."""
    mod = _module_name(path)
    package = mod.split(".") if path.name == "__init__.py" else mod.split(".")[:-1]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
            folder_base = base.removeprefix("heyan.") if base.split(".")[1:2] and base.split(".")[1] in RUNTIME else base
            for a in node.names:
                out.add(f"{folder_base}.{a.name}" if f"{folder_base}.{a.name}" in MODULES else base)
    return out


def _ours(name: str) -> str | None:
    # The folders install as heyan.vision, heyan.models, ...; the graph names them by folder.
    head, _, rest = name.partition(".")
    if head == "heyan" and rest.split(".")[0] in RUNTIME:
        name = rest
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


GRAPH: dict[str, set[str]] = {
    m: {t for n in _imported_names(p) if (t := _ours(n)) is not None and t != m} for m, p in MODULES.items()
}


@pytest.mark.parametrize("top", TOPS)
def test_imports_point_down(top: str) -> None:
    bad = sorted(f"{m} imports {d}" for m, deps in GRAPH.items() if m.split(".")[0] == top
                 for d in deps if d.split(".")[0] not in ALLOWED[top] | {top})
    assert not bad, "\n".join(bad)


def test_every_allowed_arrow_is_used() -> None:
    """The table is the code's, not a wish: an arrow nobody draws comes out of it."""
    used = {(m.split(".")[0], d.split(".")[0]) for m, deps in GRAPH.items() for d in deps}
    unused = sorted(f"{a} -> {b}" for a, bs in ALLOWED.items() for b in bs if (a, b) not in used)
    assert not unused, "allowed but never imported: " + ", ".join(unused)


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            v, children = work[-1]
            w = next(children, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                elif w in on_stack:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    found.append(sorted(comp))
    return found


def test_no_import_circles() -> None:
    assert len(GRAPH) > 100 and sum(map(len, GRAPH.values())) > 300, "the import graph was not read"
    circles = _circles(GRAPH)
    assert not circles, "\n".join(" <-> ".join(c) for c in circles)


def test_circle_finder_finds_a_circle() -> None:
    assert _circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _circles({"a": {"b"}, "b": set()}) == []


def _repo_sources() -> list[Path]:
    skip = {".venv", "__pycache__", ".git", "node_modules"}
    return [p for p in ROOT.rglob("*.py") if not skip & set(p.relative_to(ROOT).parts)]


def test_imports_use_the_heyan_namespace() -> None:
    """The packages install as heyan.vision, heyan.models, ...: a bare `import vision` works
    only from the repository root, and would find another project's `datasets` elsewhere."""
    bad = []
    for path in _repo_sources():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module else [])
            bad += [f"{path.relative_to(ROOT)}:{node.lineno} imports {n}" for n in names if n.split(".")[0] in RUNTIME]
    assert not bad, "\n".join(bad)


def test_every_package_is_installed() -> None:
    """pyproject lists the packages (package-dir maps several roots): a new folder with an
    __init__.py must be listed too, or the wheel leaves it out."""
    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for top in TOPS for p in (ROOT / top).rglob("__init__.py")}
    found = {n if n.startswith("heyan") else f"heyan.{n}" for n in found}
    assert listed == found, f"missing: {sorted(found - listed)}, stale: {sorted(listed - found)}"


def _top_imports(path: Path) -> set[str]:
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            out |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.add(node.module.split(".")[0])
    return out


@pytest.mark.parametrize("top", RUNTIME)
def test_no_training_stack_outside_training_code(top: str) -> None:
    bad = [f"{p.relative_to(ROOT)} imports {m}" for p in _sources(top) for m in _top_imports(p) & set(HEAVY)
           if str(p.relative_to(ROOT)) not in HEAVY_OK]
    assert not bad, "\n".join(bad)


def test_runtime_paths_do_not_load_torch() -> None:
    """Import what a running server, edge box and `heyan detect` import, in a fresh
    interpreter, and look at sys.modules: lazy imports must stay lazy."""
    code = (
        "import sys\n"
        "import heyan.cli, heyan.vision.inference, heyan.pipeline.ingest, heyan.serve.app, heyan.edge.runner\n"
        "from heyan.commands.common import detector_settings\n"
        "from heyan.models.registry import load_detector\n"
        f"loaded = sorted(m for m in {HEAVY!r} if m in sys.modules)\n"
        "print(','.join(loaded))\n"
    )
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.strip() == "", f"runtime imports loaded {r.stdout.strip()}"
