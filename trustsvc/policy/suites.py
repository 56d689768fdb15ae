"""Dated cryptographic suites (ETSI TS 119 312 and national variants) as data, judged at a policy's POE time.

A suite says until when each digest algorithm, and each signature key type at each size, was acceptable. A
policy pins one by id (``policies/suites/<id>.yaml``) and may override entries (RGS: RSA keys of at least 2048
bits; CNIPA 45/2009: SHA-1 refused from mid-2011). Nothing here parses ASN.1: the facts arrive as names.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .schema import CryptoOverride
from .yaml_source import SourceError, YamlError, read_yaml

__all__ = ["Suite", "KeyTier", "CryptoJudgement", "load_suites"]

#: Names the validators report for key types (asn1crypto's), and the suite sections that rule them.
KEY_TYPES = ("rsa", "rsassa_pss", "ec", "dsa", "ed25519", "ed448")


class KeyTier(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    min_bits: int = Field(ge=0)
    until: date | None = None


class Suite(BaseModel):
    """A named suite: end dates (exclusive) per digest, and per key type a list of size tiers."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    title: str
    source: str
    digests: dict[str, date | None]
    keys: dict[str, list[KeyTier]]

    def judge(
        self,
        *,
        digest: str | None,
        key_type: str | None,
        key_bits: int | None,
        mechanism: str | None,
        at: datetime,
        overrides: list[CryptoOverride] = (),  # type: ignore[assignment]
    ) -> CryptoJudgement:
        """Whether a signature made with these algorithms was acceptable at `at`."""
        digests = dict(self.digests)
        tiers = {name: list(value) for name, value in self.keys.items()}
        for override in overrides:
            name = override.algorithm.lower()
            if name in KEY_TYPES:
                tiers[name] = _apply_key_override(tiers.get(name, []), override)
            else:
                digests[name] = override.until
        if digest is not None:
            if digest not in digests:
                return CryptoJudgement(False, f"digest algorithm {digest} is not in suite {self.id}")
            until = digests[digest]
            if until is not None and at >= _start_of(until):
                return CryptoJudgement(False, f"{digest} is not acceptable after {until.isoformat()} ({self.title})")
        if key_type is None or key_bits is None:
            return CryptoJudgement(True, f"{digest} under {self.title}")
        section = "rsassa_pss" if key_type == "rsa" and mechanism == "rsassa_pss" else key_type
        if section not in tiers:
            return CryptoJudgement(False, f"{section} keys are not in suite {self.id}")
        for tier in sorted(tiers[section], key=lambda t: -t.min_bits):
            if key_bits >= tier.min_bits:
                if tier.until is not None and at >= _start_of(tier.until):
                    return CryptoJudgement(
                        False, f"{section.upper()}-{key_bits} is not acceptable after {tier.until} ({self.title})"
                    )
                return CryptoJudgement(True, f"{digest} with {section.upper()}-{key_bits} under {self.title}")
        return CryptoJudgement(False, f"{section.upper()}-{key_bits} is too small for {self.title}")


@dataclass(frozen=True)
class CryptoJudgement:
    acceptable: bool
    message: str


def _apply_key_override(tiers: list[KeyTier], override: CryptoOverride) -> list[KeyTier]:
    """A minimum size drops the smaller tiers (keys of the minimum keep the end date they had); an end date
    without a size applies to every size."""
    if override.min_bits is None:
        return [KeyTier(min_bits=t.min_bits, until=override.until) for t in tiers]
    covering = max((t for t in tiers if t.min_bits <= override.min_bits), key=lambda t: t.min_bits, default=None)
    until = override.until if override.until is not None else (covering.until if covering else None)
    larger = [t for t in tiers if t.min_bits > override.min_bits]
    return [KeyTier(min_bits=override.min_bits, until=until), *larger]


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=timezone.utc)


def load_suites(folder: Path) -> tuple[dict[str, Suite], list[SourceError]]:
    """Every suite of `folder` (``*.yaml``), and the problems of those that could not be read."""
    suites: dict[str, Suite] = {}
    problems: list[SourceError] = []
    for path in sorted(folder.glob("*.yaml")):
        try:
            source = read_yaml(path)
            suite = Suite.model_validate(source.data)
        except YamlError as e:
            problems.extend(e.errors)
            continue
        except ValidationError as e:
            problems.extend(source.error(tuple(err["loc"]), err["msg"]) for err in e.errors(include_url=False))
            continue
        if suite.id != path.stem:
            problems.append(source.error(("id",), f"the id must be the file name ({path.stem!r})"))
            continue
        suites[suite.id] = suite
    return suites, problems
