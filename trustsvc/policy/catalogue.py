"""The shipped policies (policies/*.yaml): read, checked, and chosen per pilot by the signature's time.

Each file is checked on its own, so a broken file is reported (file, line, key path) and skipped while the others
keep working. A pilot may have several policies over time (fr-2012 until 2018-09-30, fr-2019 from 2018-10-01);
their windows must not overlap, and a signature is judged by the one in force at its time reference.
"""

from __future__ import annotations

import difflib
import types
import typing
import zoneinfo
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from .schema import RULE_IDS, Policy, split_basis
from .suites import Suite, load_suites
from .yaml_source import Loc, SourceError, YamlError, YamlSource, read_yaml

__all__ = [
    "LoadedPolicy",
    "PolicySet",
    "PolicyLookupError",
    "check_policy_file",
    "load_policy_set",
    "default_policies_dir",
]


@dataclass(frozen=True)
class LoadedPolicy:
    """A policy that passed every check, with what it refers to resolved."""

    policy: Policy
    file: str
    suite: Suite | None
    tz: zoneinfo.ZoneInfo

    @property
    def id(self) -> str:
        return self.policy.id

    def in_force(self, moment: datetime) -> bool:
        day = moment.astimezone(self.tz).date()
        window = self.policy.effective
        return window.from_ <= day and (window.until is None or day <= window.until)


class PolicyLookupError(LookupError):
    """A policy asked for by id or pilot that is unknown or unusable; the message says which and why."""


@dataclass
class PolicySet:
    policies: dict[str, LoadedPolicy] = field(default_factory=dict)
    problems: dict[str, list[SourceError]] = field(default_factory=dict)
    """Problems by file name stem (the policy id it should have been)."""

    def pilots(self) -> list[str]:
        return sorted({p.policy.pilot for p in self.policies.values()})

    def of_pilot(self, pilot: str) -> list[LoadedPolicy]:
        return sorted(
            (p for p in self.policies.values() if p.policy.pilot == pilot), key=lambda p: p.policy.effective.from_
        )

    def get(self, policy_id: str) -> LoadedPolicy:
        if policy_id in self.policies:
            return self.policies[policy_id]
        if policy_id in self.problems:
            first = self.problems[policy_id][0]
            raise PolicyLookupError(f"policy {policy_id} is invalid: {first}")
        known = ", ".join(sorted(self.policies)) or "none"
        raise PolicyLookupError(f"no policy {policy_id!r} (known: {known})")

    def for_pilot(self, pilot: str, moment: datetime) -> LoadedPolicy | None:
        """The pilot's policy in force at `moment`, None if none was."""
        for loaded in self.of_pilot(pilot):
            if loaded.in_force(moment):
                return loaded
        return None


def default_policies_dir() -> Path:
    """policies/ of the checkout the package runs from, else of the working directory."""
    beside_package = Path(__file__).resolve().parents[2] / "policies"
    return beside_package if beside_package.is_dir() else Path.cwd() / "policies"


def load_policy_set(folder: Path | None = None) -> PolicySet:
    """Every policy of `folder` (default: policies/), each checked on its own; suites from ``suites/``."""
    folder = folder or default_policies_dir()
    suites, suite_problems = load_suites(folder / "suites")
    result = PolicySet()
    for problem in suite_problems:
        result.problems.setdefault(Path(problem.file).stem, []).append(problem)
    for path in sorted(folder.glob("*.yaml")):
        loaded, errors = check_policy_file(path, suites)
        if loaded is None:
            result.problems[path.stem] = errors
        else:
            result.policies[loaded.id] = loaded
    _check_windows(result)
    return result


def check_policy_file(
    path: Path, suites: dict[str, Suite], *, name: str | None = None
) -> tuple[LoadedPolicy | None, list[SourceError]]:
    """Read and check one policy file: the loaded policy, or None and every problem found."""
    try:
        source = read_yaml(path, name)
    except YamlError as e:
        return None, e.errors
    try:
        policy = Policy.model_validate(source.data)
    except ValidationError as e:
        return None, _schema_errors(source, e)
    errors = list(_semantic_errors(source, policy, suites, expected_id=path.stem))
    if errors:
        return None, errors
    suite = suites.get(policy.rules.cryptography.suite) if policy.rules.cryptography else None
    return LoadedPolicy(policy, source.file, suite, zoneinfo.ZoneInfo(policy.timezone)), []


def _schema_errors(source: YamlSource, error: ValidationError) -> list[SourceError]:
    out: list[SourceError] = []
    seen: set[tuple[int | None, str]] = set()
    for item in error.errors(include_url=False):
        loc = tuple(part for part in item["loc"] if not (isinstance(part, str) and ("[" in part or "(" in part)))
        kind = item["type"]
        if kind == "extra_forbidden":
            key, parent = loc[-1], loc[:-1]
            if parent == ("rules",):
                message = f"unknown rule id {key!r}; the catalogue has {', '.join(RULE_IDS)}"
            else:
                message = f"unknown key {key!r}" + _did_you_mean(str(key), _keys_at(Policy, parent))
        elif kind == "missing":
            message = f"required key {loc[-1]!r} is missing"
        else:
            message = str(item["msg"]).removeprefix("Value error, ")
            if kind in ("string_pattern_mismatch",) and "input" in item:
                message = f"{item['input']!r} is not a valid value here ({message.lower()})"
        located = source.error(loc, message)
        if (located.line, located.path + message) not in seen:
            seen.add((located.line, located.path + message))
            out.append(located)
    return out


def _semantic_errors(source: YamlSource, policy: Policy, suites: dict[str, Suite], expected_id: str):
    if policy.id != expected_id:
        yield source.error(("id",), f"the id must be the file name ({expected_id!r}), not {policy.id!r}")
    try:
        zoneinfo.ZoneInfo(policy.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        yield source.error(("timezone",), f"unknown time zone {policy.timezone!r}")
    window = policy.effective
    if window.until is not None and window.until < window.from_:
        yield source.error(("effective", "until"), "the window ends before it starts")
    for loc, reference in _basis_references(source.data):
        key, _ = split_basis(reference)
        if key not in policy.legal_basis:
            yield source.error(loc, f"cites {key!r}, which is not in legal_basis ({', '.join(policy.legal_basis)})")
    checked = {rule_id for rule_id, _ in policy.rules.present()}
    for index, row in enumerate(policy.outcome):
        for selector in ("failed", "failed_only", "undetermined", "pending"):
            value = getattr(row.when, selector)
            if isinstance(value, list):
                for rule_id in value:
                    if rule_id not in checked:
                        yield source.error(
                            ("outcome", index, "when", selector),
                            f"{rule_id} is not among the rules this policy checks",
                        )
    if not policy.outcome[-1].when.is_empty():
        yield source.error(
            ("outcome", len(policy.outcome) - 1),
            "the last row must have no conditions, so that every signature gets a decision",
        )
    crypto = policy.rules.cryptography
    if crypto is not None and crypto.suite not in suites:
        known = ", ".join(sorted(suites)) or "none"
        yield source.error(("rules", "R-CRYPTO", "suite"), f"unknown suite {crypto.suite!r} (known: {known})")


def _basis_references(data: Any, loc: Loc = ()):
    """(location, reference) of every ``basis`` entry in the document."""
    if isinstance(data, dict):
        for key, value in data.items():
            if key == "basis" and isinstance(value, list):
                for index, item in enumerate(value):
                    if isinstance(item, str):
                        yield (*loc, key, index), item
            else:
                yield from _basis_references(value, (*loc, key))
    elif isinstance(data, list):
        for index, item in enumerate(data):
            yield from _basis_references(item, (*loc, index))


def _check_windows(result: PolicySet) -> None:
    """Policies of one pilot must not be in force on the same day: the later file is refused."""
    for pilot in result.pilots():
        ordered = result.of_pilot(pilot)
        for earlier, later in zip(ordered, ordered[1:], strict=False):
            end = earlier.policy.effective.until
            if end is None or end >= later.policy.effective.from_:
                result.policies.pop(later.id)
                result.problems[later.id] = [
                    SourceError(
                        later.file,
                        None,
                        "effective",
                        f"overlaps {earlier.id} (in force {earlier.policy.effective.from_} to {end or 'open end'}); "
                        "policies of one pilot must follow each other",
                    )
                ]


def _did_you_mean(word: str, candidates: list[str]) -> str:
    close = difflib.get_close_matches(word, candidates, n=1)
    if close:
        return f"; did you mean {close[0]!r}?"
    return f"; expected one of {', '.join(candidates)}" if candidates else ""


def _keys_at(model: type[BaseModel], loc: Loc) -> list[str]:
    """The keys the model accepts at `loc` (for "did you mean")."""
    current: Any = model
    for part in loc:
        current = _step(current, part)
        if current is None:
            return []
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [info.alias or name for name, info in current.model_fields.items()]
    return []


def _step(annotation: Any, part: str | int) -> Any:
    annotation = _unwrap(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel) and isinstance(part, str):
        for name, info in annotation.model_fields.items():
            if part in (name, info.alias):
                return info.annotation
        return None
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is list and isinstance(part, int) and args:
        return args[0]
    if origin is dict and len(args) == 2:
        return args[1]
    return None


def _unwrap(annotation: Any) -> Any:
    """Annotated[X, ...] → X; X | None → X (the first member that is a model or container)."""
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    args = typing.get_args(annotation)
    if args and typing.get_origin(annotation) in (typing.Union, types.UnionType):
        for member in args:
            member = _unwrap(member)
            if isinstance(member, type) and issubclass(member, BaseModel):
                return member
            if typing.get_origin(member) in (list, dict):
                return member
    return annotation
