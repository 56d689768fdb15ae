"""YAML read for people who edit it by hand: every error names the file, the line and the key path.

PyYAML's defaults are not kept: only ``true``/``false`` are booleans (``NO`` stays Norway's country code),
duplicate keys are errors (the second silently winning is how a rule quietly disappears), and the document is
bounded in size and in nodes (aliases cannot fan out into a billion laughs).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

__all__ = ["SourceError", "YamlSource", "read_yaml", "MAX_BYTES"]

MAX_BYTES = 1024 * 1024
MAX_NODES = 50_000

Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class SourceError:
    """One problem in a file: where (line and key path) and what."""

    file: str
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line else "")
        return f"{where}: {self.path + ': ' if self.path else ''}{self.message}"


@dataclass(frozen=True)
class YamlSource:
    """A parsed document, with the line of every key and list item."""

    file: str
    data: Any
    lines: dict[Loc, int]

    def line_of(self, loc: Loc) -> int | None:
        """The line of the deepest part of `loc` that is in the file (a missing key: its parent's line)."""
        for end in range(len(loc), -1, -1):
            line = self.lines.get(tuple(loc[:end]))
            if line is not None:
                return line
        return None

    def error(self, loc: Loc, message: str) -> SourceError:
        return SourceError(self.file, self.line_of(loc), dotted(loc), message)


def dotted(loc: Loc) -> str:
    """``("outcome", 2, "when")`` → ``outcome[2].when``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


class _Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans; its messages are the ones users see for broken YAML."""


class _FastLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """The same rules on libyaml's parser (ten times faster, so the service starts sooner)."""


for _loader in (_Loader, _FastLoader):
    _loader.yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    _loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|false)$"), list("tf"))


class YamlError(Exception):
    def __init__(self, errors: list[SourceError]):
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = errors


def read_yaml(path: Path, name: str | None = None) -> YamlSource:
    """Parse `path`; raises YamlError (with every problem found) when it is not a usable YAML mapping."""
    label = name or _display(path)
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise YamlError([SourceError(label, None, "", f"the file is {size} bytes; the limit is {MAX_BYTES}")])
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as e:
        raise YamlError([SourceError(label, None, "", f"not UTF-8 text ({e.reason} at byte {e.start})")]) from e
    except OSError as e:
        raise YamlError([SourceError(label, None, "", e.strerror or str(e))]) from e
    return parse_yaml(text, label)


def _display(path: Path) -> str:
    """The path relative to the working directory when it is below it (shorter error lines)."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def parse_yaml(text: str, label: str) -> YamlSource:
    try:
        return _parse_yaml(text, label, _FastLoader)
    except YamlError:
        return _parse_yaml(text, label, _Loader)  # again on the pure-Python parser, for its exact messages


def _parse_yaml(text: str, label: str, loader_class: type) -> YamlSource:
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise YamlError([SourceError(label, None, "", "the file is empty")])
        lines: dict[Loc, int] = {}
        problems: list[SourceError] = []
        _walk(node, (), lines, problems, label, [0])
        if problems:
            raise YamlError(problems)
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark is not None else None
        raise YamlError([SourceError(label, line, "", f"not valid YAML: {e.problem or e.context}")]) from e
    except yaml.YAMLError as e:
        raise YamlError([SourceError(label, None, "", f"not valid YAML: {e}")]) from e
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        raise YamlError([SourceError(label, 1, "", "expected a mapping of keys to values at the top level")])
    return YamlSource(label, data, lines)


def _walk(node: yaml.Node, loc: Loc, lines: dict[Loc, int], problems: list[SourceError], label: str, count: list[int]):
    count[0] += 1
    if count[0] > MAX_NODES:
        raise YamlError([SourceError(label, node.start_mark.line + 1, dotted(loc), "too many nodes (aliases?)")])
    lines.setdefault(loc, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set[Any] = set()
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else repr(key_node)
            child = (*loc, key)
            if key in seen:
                problems.append(
                    SourceError(label, key_node.start_mark.line + 1, dotted(child), "duplicate key (given twice)")
                )
            seen.add(key)
            lines[child] = key_node.start_mark.line + 1
            _walk(value_node, child, lines, problems, label, count)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*loc, index), lines, problems, label, count)
