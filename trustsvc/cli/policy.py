"""``trustsvc policy``: the pilots' acceptance policies, listed, shown, checked and explained."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..policy.catalogue import PolicyLookupError, check_policy_file, default_policies_dir, load_policy_set
from ..policy.explain import explain
from ..policy.suites import load_suites
from ..settings import get_settings
from .context import policy_set

__all__ = ["policy"]


@click.group()
def policy() -> None:
    """Acceptance policies per pilot (policies/*.yaml)."""


@policy.command("list")
def list_policies() -> None:
    """Every policy: its pilot, version and window; broken files with their first error."""
    policies = policy_set()
    rows = [("POLICY", "PILOT", "VERSION", "IN FORCE", "TITLE")]
    for loaded in sorted(policies.policies.values(), key=lambda p: (p.policy.pilot, p.policy.effective.from_)):
        window = loaded.policy.effective
        rows.append(
            (
                loaded.id,
                loaded.policy.pilot,
                loaded.policy.version,
                f"{window.from_} – {window.until or ''}".rstrip(),
                loaded.policy.title,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row[:4], widths, strict=True)) + "  " + row[4])
    for name, problems in sorted(policies.problems.items()):
        click.echo(f"{name}: INVALID — {problems[0]}")


@policy.command("show")
@click.argument("policy_id")
def show(policy_id: str) -> None:
    """Print the policy file as it is."""
    loaded = _get(policy_id)
    click.echo(f"# {loaded.file}")
    click.echo(Path(loaded.file).read_text(encoding="utf-8"), nl=False)


@policy.command("explain")
@click.argument("policy_id")
def explain_policy(policy_id: str) -> None:
    """The policy in plain words, rule by rule, with the legal basis of each."""
    click.echo(explain(_get(policy_id)), nl=False)


@policy.command("check")
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, path_type=Path))
def check(files: tuple[Path, ...]) -> None:
    """Check policy FILES (default: every shipped policy); each error as FILE:LINE: KEY: MESSAGE. Exit 1 if any."""
    folder = get_settings().policies_dir or default_policies_dir()
    if not files:
        policies = load_policy_set(folder)
        for loaded in sorted(policies.policies.values(), key=lambda p: p.id):
            click.echo(f"{loaded.file}: OK ({loaded.id} {loaded.policy.version}, {_summary(loaded)})")
        for problems in policies.problems.values():
            for problem in problems:
                click.echo(str(problem))
        sys.exit(1 if policies.problems else 0)
    suites, _ = load_suites(folder / "suites")
    failed = False
    for path in files:
        local, _ = load_suites(path.parent / "suites")
        loaded, errors = check_policy_file(path, {**suites, **local})
        if loaded is None:
            failed = True
            for error in errors:
                click.echo(str(error))
        else:
            click.echo(f"{path}: OK ({loaded.id} {loaded.policy.version}, {_summary(loaded)})")
    sys.exit(1 if failed else 0)


def _summary(loaded) -> str:
    policy = loaded.policy
    return f"{len(policy.rules.present())} rules, {len(policy.outcome)} outcome rows"


def _get(policy_id: str):
    try:
        return policy_set().get(policy_id)
    except PolicyLookupError as e:
        raise click.UsageError(str(e)) from None
