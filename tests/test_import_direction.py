"""Imports point down the pipeline: a lower stage never imports a higher one.

The stages in pipeline order (ARCHITECTURE.md): content → detect → inspect → policy →
actions → delivery → relay → commands, with the data types, the settings models and the
stores below them all. What a lower stage needs from a higher one is handed to it (a
Protocol, a callback, an object the caller owns), never imported.

The arrows that still run back up are listed in KNOWN_BACK_ARROWS: they are debts named by
the issue "A house a newcomer can read". The test fails on a new back-arrow, and also when
a listed one is gone, so that the list only ever shrinks.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "dlp_gateway"

# (module prefix, rank); the longest matching prefix decides. Higher ranks come later;
# the stores and the outbound side of smtp/ are services below the stages that use them.
RANKS: list[tuple[str, float]] = [
    ("dlp_gateway", 0),  # the package itself, model, termsafe, metrics, audit, config
    ("dlp_gateway.store", 1),
    ("dlp_gateway.content", 2),
    ("dlp_gateway.detect", 3),
    ("dlp_gateway.pipeline", 4),
    ("dlp_gateway.inspector", 4),
    ("dlp_gateway.trace", 4),
    ("dlp_gateway.policy", 5),
    ("dlp_gateway.actions", 6),
    ("dlp_gateway.smtp", 1.5),  # delivery, Maildir, addresses: services the actions use
    ("dlp_gateway.smtp.server", 8),
    ("dlp_gateway.gateway", 9),
    ("dlp_gateway.cli", 10),
    ("dlp_gateway.commands", 10),
    ("dlp_gateway.settings_doc", 10),
    ("dlp_gateway.__main__", 10),
]
# Plain data anyone may import: settings models, limits, the dataclasses.
SHARED = ("dlp_gateway.model", "dlp_gateway.config", "dlp_gateway.content.limits", "dlp_gateway.termsafe",
          "dlp_gateway.metrics")

KNOWN_BACK_ARROWS = {
    # OCR bands first (limits.ocr_full_page: false) asks the markings detector whether a
    # band settles the verdict; it should be handed a callback instead.
    ("dlp_gateway.content.pdf", "dlp_gateway.detect.markings"),
    ("dlp_gateway.smtp.server", "dlp_gateway.gateway"),  # should take a MessageHandler protocol
    ("dlp_gateway.store.quarantine", "dlp_gateway.smtp.maildir"),
    ("dlp_gateway.trace", "dlp_gateway.actions.base"),
    ("dlp_gateway.trace", "dlp_gateway.actions.watermark"),
    ("dlp_gateway.trace", "dlp_gateway.commands.fingerprint"),  # a document reader should be passed in
}


def rank(module: str) -> float:
    best = max((prefix for prefix, _ in RANKS if module == prefix or module.startswith(prefix + ".")), key=len)
    return dict(RANKS)[best]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every dlp_gateway module `path` imports, at the top or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("dlp_gateway"))
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("dlp_gateway"):
            found.add(node.module or "")
    return found


def back_arrows() -> set[tuple[str, str]]:
    arrows: set[tuple[str, str]] = set()
    for path in PACKAGE.rglob("*.py"):
        source = module_name(path)
        for target in imports_of(path):
            if target.startswith(SHARED) or target.endswith(".settings"):
                continue
            if rank(target) > rank(source):
                arrows.add((source, target))
    return arrows


def test_no_new_import_runs_back_up_the_pipeline() -> None:
    assert back_arrows() - KNOWN_BACK_ARROWS == set()


def test_the_list_of_known_back_arrows_only_shrinks() -> None:
    assert KNOWN_BACK_ARROWS - back_arrows() == set()
