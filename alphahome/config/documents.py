"""Read a JSON or YAML configuration document: a mapping of keys, with syntax errors that name the line, a
key written twice rejected (both parsers silently keep the last), and, for YAML, the line of every key."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from alphahome.config.masking import describe_value

KeyPath = tuple[str, ...]


@dataclass(frozen=True)
class Location:
    """A file to read, whether it must exist, and what named it (for the "not found" message)."""

    path: Path
    required: bool
    how: str


class _StrictYamlLoader(yaml.SafeLoader):
    """SafeLoader that rejects a key written twice in one mapping (PyYAML silently keeps the last)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                first = seen.get(key)
            except TypeError:  # an unhashable key: construct_mapping reports it
                continue
            if first is not None:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"duplicate key {key!r} (first written at line {first + 1})",
                    key_node.start_mark,
                )
            seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep)


class _DuplicateKey(ValueError):
    pass


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


def read_document(
    location: Location, kind: str, problems: list[str]
) -> tuple[dict[str, Any] | None, dict[KeyPath, int]]:
    """The mapping in a JSON or YAML file (None if absent/unusable, problems noted) and, for YAML, the line
    of every key."""
    path = location.path
    try:
        text = path.read_text(encoding="utf-8-sig")  # -sig: tolerate the BOM Windows editors write
    except FileNotFoundError:
        if location.required:
            problems.append(f"{path}: file not found (named by {location.how})")
        return None, {}
    except IsADirectoryError:
        problems.append(f"{path}: is a directory, not a {kind} file")
        return None, {}
    except UnicodeDecodeError as exc:
        problems.append(f"{path}: cannot read: not UTF-8 text (byte {exc.start})")
        return None, {}
    except OSError as exc:
        problems.append(f"{path}: cannot read: {exc.strerror or exc}")
        return None, {}

    lines: dict[KeyPath, int] = {}
    try:
        if kind == "JSON":
            data = json.loads(text, object_pairs_hook=_no_duplicate_keys)
        else:
            loader = _StrictYamlLoader(text)
            try:
                node = loader.get_single_node()
                data = loader.construct_document(node) if node is not None else None
                lines = _yaml_key_lines(node)
            finally:
                loader.dispose()
    except json.JSONDecodeError as exc:
        problems.append(f"{path}: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}")
        return None, {}
    except _DuplicateKey as exc:
        problems.append(f"{path}: invalid JSON: the key {exc.args[0]!r} is written twice in one object")
        return None, {}
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        what = " ".join(str(part) for part in (exc.context, exc.problem) if part)
        problems.append(f"{path}: invalid YAML{where}: {what}")
        return None, {}
    except yaml.YAMLError as exc:
        problems.append(f"{path}: invalid YAML: {exc}")
        return None, {}
    if data is None and kind == "YAML":  # only comments: nothing overridden
        data = {}
    if not isinstance(data, dict):
        problems.append(f"{path}: expected a mapping of keys at the top level, got {describe_value(data)}")
        return None, {}
    return data, lines


def _yaml_key_lines(node: yaml.Node | None, prefix: KeyPath = ()) -> dict[KeyPath, int]:
    lines: dict[KeyPath, int] = {}
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                path = (*prefix, key_node.value)
                lines[path] = key_node.start_mark.line + 1
                lines.update(_yaml_key_lines(value_node, path))
    return lines
