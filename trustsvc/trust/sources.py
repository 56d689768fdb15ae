"""Trust-source configuration (trust_lists/sources.yaml): where the LOTL is, and who may sign it.

The LOTL signer is pinned to the certificates the Official Journal of the EU announced (CID (EU) 2015/1505
Art. 4); everything else (national lists and their signers) is reached from the authenticated LOTL.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml
from asn1crypto import pem

from ..errors import ConfigurationError

__all__ = ["TrustSource", "load_sources", "default_trust_lists_dir"]


@dataclass(frozen=True)
class TrustSource:
    name: str
    description: str
    lotl: str
    lotl_signers: tuple[bytes, ...]
    base_dir: Path

    @property
    def is_remote(self) -> bool:
        return self.lotl.startswith(("http://", "https://"))

    @property
    def lotl_path(self) -> Path:
        return self.base_dir / self.lotl


def default_trust_lists_dir() -> Path:
    """trust_lists/ of the checkout the package runs from, else of the working directory."""
    beside_package = Path(__file__).resolve().parents[2] / "trust_lists"
    return beside_package if beside_package.is_dir() else Path.cwd() / "trust_lists"


def load_sources(folder: Path | None = None) -> tuple[dict[str, TrustSource], str]:
    """All configured sources and the name of the default one."""
    folder = folder or default_trust_lists_dir()
    path = folder / "sources.yaml"
    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as e:
        raise ConfigurationError(f"cannot read {path}: {e.strerror}", code="trust-sources") from e
    except yaml.YAMLError as e:
        raise ConfigurationError(f"{path} is not valid YAML ({e})", code="trust-sources") from e
    sources = {}
    for name, entry in (config.get("sources") or {}).items():
        if not isinstance(entry, dict) or "lotl" not in entry:
            raise ConfigurationError(f"{path}: source {name!r} needs a 'lotl' location", code="trust-sources")
        sources[name] = TrustSource(
            name=name,
            description=str(entry.get("description", "")),
            lotl=str(entry["lotl"]),
            lotl_signers=tuple(_signers(folder, entry.get("lotl_signers") or [], path)),
            base_dir=folder,
        )
    default = str(config.get("default", next(iter(sources), "")))
    if default not in sources:
        raise ConfigurationError(f"{path}: the default source {default!r} is not defined", code="trust-sources")
    return sources, default


def _signers(folder: Path, entries: list[str], config_path: Path):
    for entry in entries:
        if entry == "pyhanko:latest":
            from pyhanko.sign.validation.qualified.eutl_parse import latest_known_lotl_tlso_certs

            for cert in latest_known_lotl_tlso_certs():
                yield cert.dump()
            continue
        try:
            data = (folder / entry).read_bytes()
        except OSError as e:
            raise ConfigurationError(
                f"{config_path}: cannot read LOTL signer {entry}: {e.strerror}", code="trust-sources"
            ) from e
        if pem.detect(data):
            yield from (der for kind, _, der in pem.unarmor(data, multiple=True) if kind == "CERTIFICATE")
        else:
            yield data
