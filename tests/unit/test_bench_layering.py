"""Benchmarks live in ``engine.bench`` alone and production code never reaches them: a production module
importing a benchmark would drag its generators (and the simulator) into the running engine."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).parents[2]
BENCH_COMMAND = ROOT / "arbtui" / "commands" / "bench.py"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module is not None and node.level == 0:
            out.add(node.module)
            out.update(f"{node.module}.{alias.name}" for alias in node.names)
    return out


def _production_files() -> list[Path]:
    files = [p for p in (ROOT / "engine").rglob("*.py") if "bench" not in p.relative_to(ROOT / "engine").parts[:1]]
    files += [p for p in (ROOT / "arbtui").rglob("*.py") if p != BENCH_COMMAND]
    return files


def test_no_production_module_imports_the_benchmarks() -> None:
    files = _production_files()
    assert len(files) > 50
    offenders = sorted(
        str(p.relative_to(ROOT))
        for p in files
        if any(m == "engine.bench" or m.startswith("engine.bench.") for m in _imports(p))
    )
    assert offenders == []


def test_every_benchmark_is_in_the_bench_package() -> None:
    stray = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "engine").rglob("bench.py"))
    assert stray == []
    assert {p.stem for p in (ROOT / "engine" / "bench").glob("*.py")} >= {
        "detection", "mapping", "connectors", "execution", "store"
    }  # fmt: skip


def test_the_connectors_do_not_import_the_simulator() -> None:
    connectors = list((ROOT / "engine" / "connectors").rglob("*.py"))
    offenders = sorted(
        str(p.relative_to(ROOT))
        for p in connectors
        if any(m == "engine.sim" or m.startswith("engine.sim.") for m in _imports(p))
    )
    assert offenders == []
