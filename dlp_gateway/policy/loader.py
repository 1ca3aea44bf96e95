"""Reading a policy directory: every `*.yaml` / `*.yml` in name order, validated, with line numbers.

Errors must let an administrator fix the file without guessing, so each one names the
file, the line and the field (`policies/10-trial.yaml:14: rules[2].when.levle_at_least:
unknown key`). PyYAML's composed node tree keeps the position of every key and value; a
pydantic error location (`('rules', 2, 'when', 'levle_at_least')`) is walked down that
tree to find the line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from dlp_gateway.policy.schema import ACTION_NAMES, PolicyFile


class PolicyError(Exception):
    """A policy cannot be used; the message names the file, line and field of every problem."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True, slots=True)
class LoadedFile:
    path: Path
    model: PolicyFile
    lines: dict[tuple[Any, ...], int]  # yaml path -> line, for rules[i] and default

    def line_of(self, *path: Any) -> int:
        return self.lines.get(tuple(path), 1)


def policy_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())


def _node_at(root: yaml.Node, loc: tuple[Any, ...]) -> tuple[yaml.Node, list[str]]:
    """Follow a pydantic location down the YAML nodes; return the node to point at and the path walked.

    Location parts that are not in the document (a union's tag such as `encrypt`, or the
    index 0 of a value given as a single item instead of a list) are skipped. For a
    mapping key the key's own node is returned, so an unknown key points at its line.
    """
    node = root
    pointer = root
    walked: list[str] = []
    for part in loc:
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            for key_node, value_node in node.value:
                if getattr(key_node, "value", None) == part:
                    walked.append(part)
                    node, pointer = value_node, key_node
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
            walked.append(f"[{part}]")
            node = pointer = node.value[part]
    return pointer, walked


def _field_name(walked: list[str]) -> str:
    text = ""
    for part in walked:
        text += part if part.startswith("[") or not text else "." + part
    return text or "(top level)"


def _rule_lines(root: yaml.Node | None) -> dict[tuple[Any, ...], int]:
    lines: dict[tuple[Any, ...], int] = {}
    if not isinstance(root, yaml.MappingNode):
        return lines
    for key_node, value_node in root.value:
        if key_node.value == "rules" and isinstance(value_node, yaml.SequenceNode):
            for index, item in enumerate(value_node.value):
                lines[("rules", index)] = item.start_mark.line + 1
        elif key_node.value == "default":
            lines[("default",)] = value_node.start_mark.line + 1
    return lines


def load_file(path: Path) -> LoadedFile:
    """Parse and validate one file; raise PolicyError naming file, line and field."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError([f"{path}: cannot read: {exc}"]) from None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc)
        raise PolicyError([f"{path}:{line}: not valid YAML: {problem}"]) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise PolicyError([f"{path}:1: the top level must be a mapping (mode:, default:, rules:)"])
    try:
        model = PolicyFile.model_validate(data, context={"base_dir": str(path.parent)})
    except ValidationError as exc:
        problems: list[tuple[int, str]] = []
        seen = set()
        for item in exc.errors():
            node, walked = _node_at(root, tuple(item["loc"])) if root is not None else (None, [])
            line = node.start_mark.line + 1 if node is not None else 1
            message = item["msg"].removeprefix("Value error, ")
            if item["type"] == "missing" and item["loc"]:
                walked = [*walked, str(item["loc"][-1])]
                message = "this key is required here"
            elif item["type"] == "extra_forbidden":
                message = "unknown key (check the spelling; see policies/default.yaml for the keys)"
            elif item["type"] == "union_tag_invalid" and isinstance(item["input"], dict):
                message = f"unknown action {item['input'].get('action')!r}; known: {', '.join(ACTION_NAMES)}"
            entry = f"{path}:{line}: {_field_name(walked)}: {message}"
            if entry not in seen:
                seen.add(entry)
                problems.append((line, entry))
        raise PolicyError([entry for _, entry in sorted(problems, key=lambda p: p[0])]) from None
    loaded = LoadedFile(path, model, _rule_lines(root))
    problems = []
    for index, rule in enumerate(model.rules):
        if not rule.name:
            problems.append(f"{path}:{loaded.line_of('rules', index)}: rules[{index}].name: every rule needs a name")
    if model.default is not None and model.default.when is not None:
        problems.append(f"{path}:{loaded.line_of('default')}: default.when: the default applies when no rule matched; it takes no condition")
    if problems:
        raise PolicyError(problems)
    return loaded


def load_directory(directory: str | Path) -> list[LoadedFile]:
    """Every policy file of a directory, validated; all problems of all files in one PolicyError."""
    path = Path(directory)
    if not path.is_dir():
        raise PolicyError([f"{path}: not a directory of policy files; pass the directory that holds the *.yaml files"])
    files = policy_files(path)
    if not files:
        raise PolicyError([f"{path}: no *.yaml policy files; copy policies/default.yaml there to start"])
    loaded: list[LoadedFile] = []
    problems: list[str] = []
    for file in files:
        try:
            loaded.append(load_file(file))
        except PolicyError as exc:
            problems.extend(exc.problems)
    names: dict[str, str] = {}
    default_at: str | None = None
    for item in loaded:
        for index, rule in enumerate(item.model.rules):
            where = f"{item.path}:{item.line_of('rules', index)}"
            if rule.name in names:
                problems.append(f"{where}: rules[{index}].name: rule name {rule.name!r} is already used at {names[rule.name]}")
            else:
                names[rule.name] = where
        if item.model.default is not None:
            where = f"{item.path}:{item.line_of('default')}"
            if default_at is not None:
                problems.append(f"{where}: default: only one file may set the default; it is already set at {default_at}")
            else:
                default_at = where
    if problems:
        raise PolicyError(problems)
    return loaded
