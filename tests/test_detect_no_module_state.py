"""Detection keeps no mutable module-level state (issue #14): what a worker caches is owned
by an object (a detector instance, the pipeline's per-message PartTexts), so two
messages, two workers or two tests can never see each other's texts through a global."""

from __future__ import annotations

import ast
from pathlib import Path

import dlp_gateway.detect

DETECT = Path(dlp_gateway.detect.__file__).parent


def _modules() -> list[Path]:
    return sorted(DETECT.rglob("*.py"))


def test_no_detect_module_rebinds_a_global():
    rebinding = [f"{path.relative_to(DETECT)}:{node.lineno}"
                 for path in _modules()
                 for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
                 if isinstance(node, ast.Global)]
    assert rebinding == []


def test_no_detect_module_holds_an_object_built_at_import_to_be_filled_later():
    """A module-level instance of a class of the detect package (such as an empty part
    context whose cached properties fill in on use) is shared state: each is made where used."""
    import importlib

    shared = []
    for path in _modules():
        name = ".".join(path.relative_to(DETECT.parent.parent).with_suffix("").parts).removesuffix(".__init__")
        module = importlib.import_module(name)
        for attr, value in vars(module).items():
            cls = type(value)
            if cls.__module__.startswith("dlp_gateway.detect") and not isinstance(value, type):
                shared.append(f"{name}.{attr}")
    assert shared == []


def test_module_level_memos_in_detect_are_only_constant_tables_built_once():
    """`@lru_cache` on a module function is a module-level cache: allowed only for a
    table built once without arguments (a constant made lazily), never for a memo of
    message data (word hashes are memoised by textnorm.WordIds, owned by a detector)."""
    memos = []
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.FunctionDef):
                continue
            for decorator in node.decorator_list:
                call = decorator.func if isinstance(decorator, ast.Call) else decorator
                name = getattr(call, "id", getattr(call, "attr", ""))
                if name in ("lru_cache", "cache") and (node.args.args or node.args.vararg):
                    memos.append(f"{path.relative_to(DETECT)}:{node.name}")
    assert memos == []
