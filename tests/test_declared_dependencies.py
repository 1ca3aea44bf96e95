"""Every third-party module the code imports is declared where it is used: the package's
runtime dependencies for dlp_gateway/, plus the `test` extra for tests/ and the `bench`
extra for bench/. An undeclared import works on the machine that has it and breaks a
fresh install; a declared dependency nothing imports costs every install."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _names(requirements: list[str]) -> set[str]:
    return {re.split(r"[<>=!~\[ ;]", req, maxsplit=1)[0].lower().replace("_", "-") for req in requirements}


RUNTIME = _names(PROJECT["dependencies"])
TEST = _names(PROJECT["optional-dependencies"]["test"])
BENCH = _names(PROJECT["optional-dependencies"].get("bench", []))


def third_party_imports(folder: str) -> set[str]:
    """Top-level names imported in `folder` that are neither stdlib nor files of the repo."""
    # bench/ puts tests/ on its path to build its messages with the tests' generators
    local = {p.stem for sub in ("tests", "bench") for p in (ROOT / sub).rglob("*.py")} | {"dlp_gateway", "tests"}
    found: set[str] = set()
    for path in (ROOT / folder).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return {name for name in found if name not in sys.stdlib_module_names and name not in local}


def distributions(modules: set[str]) -> dict[str, set[str]]:
    known = packages_distributions()
    return {module: {d.lower().replace("_", "-") for d in known.get(module, [])} for module in modules}


def undeclared(folder: str, allowed: set[str], optional: set[str] = frozenset()) -> list[str]:
    return sorted(module for module, dists in distributions(third_party_imports(folder) - optional).items()
                  if not dists & allowed)


def test_every_module_the_package_imports_is_a_runtime_dependency() -> None:
    assert undeclared("dlp_gateway", RUNTIME) == []


def test_every_module_the_tests_import_is_declared_for_the_tests() -> None:
    assert undeclared("tests", RUNTIME | TEST) == []


def test_every_module_the_benchmarks_import_is_declared_for_them() -> None:
    # selectolax is measured only when installed (bench/html_parser_bench.py says so).
    assert undeclared("bench", RUNTIME | TEST | BENCH, optional={"selectolax"}) == []


def test_every_runtime_dependency_is_imported_by_the_package() -> None:
    used = set().union(*distributions(third_party_imports("dlp_gateway")).values())
    assert sorted(RUNTIME - used) == []
