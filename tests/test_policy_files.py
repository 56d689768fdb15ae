"""Policy files as people edit them: every mistake reported with the file, the line and the key path.

A small valid policy is written to a temporary folder, then broken one way at a time; the shipped policies must
all pass ``policy check``, and a broken file never stops the others from working.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, SAMPLES
from trustsvc.policy.catalogue import check_policy_file, load_policy_set
from trustsvc.policy.schema import RULE_IDS
from trustsvc.policy.suites import load_suites

TRUSTSVC = str(Path(sys.executable).parent / "trustsvc")
SUITES, _ = load_suites(ROOT / "policies" / "suites")

VALID = """\
id: test
pilot: test
version: 1.0.0
title: "A test policy"
jurisdiction: "NO"
territories: [NO, SE]
effective: {from: 2020-01-01}
legal_basis:
  law: {ref: "The Law", confidence: V}
time:
  proofs: [signature_timestamp, platform_receipt]
  basis: [law art. 1]
rules:
  R-INT: {basis: [law art. 2]}
  R-QC-SIG:
    type: esig
    basis: [law art. 3]
  R-REV: {grace_period: PT24H, basis: [law art. 4]}
  R-CRYPTO: {suite: etsi-119312-v1.5.1, basis: [law]}
outcome:
  - when: {failed: [R-QC-SIG]}
    decision: REJECT
  - when: {indication: [TOTAL_PASSED]}
    decision: ACCEPT
  - decision: MANUAL_REVIEW
"""


def write(tmp_path: Path, text: str, name: str = "test.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def errors(tmp_path: Path, text: str) -> list[str]:
    path = write(tmp_path, text)
    loaded, problems = check_policy_file(path, SUITES, name="test.yaml")
    assert loaded is None
    return [str(p) for p in problems]


def test_the_valid_policy_loads_and_keeps_country_codes_as_text(tmp_path):
    loaded, problems = check_policy_file(write(tmp_path, VALID), SUITES)
    assert problems == []
    assert (loaded.policy.jurisdiction, loaded.policy.territories) == ("NO", ["NO", "SE"])  # not False (YAML 1.1)
    assert [rule_id for rule_id, _ in loaded.policy.rules.present()] == ["R-INT", "R-QC-SIG", "R-REV", "R-CRYPTO"]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "    type: esig\n",
            "    tyep: esig\n",
            ["test.yaml:16: rules.R-QC-SIG.tyep: unknown key 'tyep'; did you mean 'type'?"],
        ),
        (
            "    type: esig\n",
            "    type: seal\n",
            ["test.yaml:16: rules.R-QC-SIG.type: Input should be 'esig', 'eseal' or 'any'"],
        ),
        (
            "grace_period: PT24H",
            "grace_period: soon",
            ["test.yaml:18: rules.R-REV.grace_period: Input should be a valid timedelta, invalid digit in duration"],
        ),
        (
            "  R-INT: {basis: [law art. 2]}\n",
            "  R-INTEGRITY: {basis: [law art. 2]}\n",
            [
                "test.yaml:14: rules.R-INTEGRITY: unknown rule id 'R-INTEGRITY'; the catalogue has "
                + ", ".join(RULE_IDS)
            ],
        ),
        (
            "  - when: {failed: [R-QC-SIG]}\n",
            "  - when: {failed: [R-QC-SGI]}\n",
            [
                "test.yaml:21: outcome[0].when.failed: unknown rule id 'R-QC-SGI'; the catalogue has "
                + ", ".join(RULE_IDS)
            ],
        ),
        (
            "  - when: {failed: [R-QC-SIG]}\n",
            "  - when: {failed: [R-QSCD]}\n",
            ["test.yaml:21: outcome[0].when.failed: R-QSCD is not among the rules this policy checks"],
        ),
        (
            "  R-INT: {basis: [law art. 2]}\n",
            "  R-INT: {basis: [lex art. 2]}\n",
            ["test.yaml:14: rules.R-INT.basis[0]: cites 'lex', which is not in legal_basis (law)"],
        ),
        (
            "  R-INT: {basis: [law art. 2]}\n",
            "  R-INT: {}\n",
            ["test.yaml:14: rules.R-INT.basis: required key 'basis' is missing"],
        ),
        (
            "  - decision: MANUAL_REVIEW\n",
            "  - {when: {indication: [INDETERMINATE]}, decision: MANUAL_REVIEW}\n",
            ["test.yaml:25: outcome[2]: the last row must have no conditions, so that every signature gets a decision"],
        ),
        (
            "    decision: ACCEPT\n",
            "    decision: APPROVE\n",
            ["test.yaml:24: outcome[1].decision: Input should be 'ACCEPT', 'REJECT', 'MANUAL_REVIEW' or 'RETRY'"],
        ),
        ("id: test\n", "id: other\n", ["test.yaml:1: id: the id must be the file name ('test'), not 'other'"]),
        (
            "suite: etsi-119312-v1.5.1",
            "suite: etsi-119312-v9",
            ["test.yaml:19: rules.R-CRYPTO.suite: unknown suite 'etsi-119312-v9' (known: etsi-119312-v1.5.1)"],
        ),
        (
            "effective: {from: 2020-01-01}",
            "effective: {from: 2020-01-01, until: 2019-01-01}",
            ["test.yaml:7: effective.until: the window ends before it starts"],
        ),
        (
            'title: "A test policy"\n',
            'title: "A test policy"\ntimezone: Europe/Atlantis\n',
            ["test.yaml:5: timezone: unknown time zone 'Europe/Atlantis'"],
        ),
        (
            "  R-INT: {basis: [law art. 2]}\n",
            "  R-INT: {basis: [law art. 2]}\n  R-INT: {basis: [law art. 5]}\n",
            ["test.yaml:15: rules.R-INT: duplicate key (given twice)"],
        ),
        (
            "  proofs: [signature_timestamp, platform_receipt]\n",
            "  proofs: [signature_timestamp, platform_receipt\n",
            ["test.yaml:12: not valid YAML: expected ',' or ']', but got ':'"],
        ),
        (
            "pilot: test\n",
            "",
            ["test.yaml:1: pilot: required key 'pilot' is missing"],
        ),
    ],
    ids=[
        "key-typo",
        "wrong-value",
        "wrong-type",
        "unknown-rule-id",
        "unknown-rule-in-outcome",
        "outcome-rule-not-checked",
        "unknown-citation",
        "missing-basis",
        "no-catch-all-row",
        "unknown-decision",
        "id-not-file-name",
        "unknown-suite",
        "window-backwards",
        "unknown-timezone",
        "duplicate-key",
        "yaml-syntax",
        "missing-pilot",
    ],
)
def test_a_broken_policy_gets_the_exact_error(tmp_path, old, new, expected):
    assert old in VALID
    assert errors(tmp_path, VALID.replace(old, new, 1)) == expected


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "test.yaml: the file is empty"),
        (b"# only a comment\n", "test.yaml: the file is empty"),
        (b"- a list\n", "test.yaml:1: expected a mapping of keys to values at the top level"),
        (b"id: \xff\xfe\n", "test.yaml: not UTF-8 text (invalid start byte at byte 4)"),
        (
            b"a: &a [x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
            + b"".join(
                f"c{i}: &c{i} [{', '.join(['*' + ('b' if i == 0 else f'c{i - 1}')] * 9)}]\n".encode() for i in range(6)
            ),
            "test.yaml:1: c3[1][2][7][3][5]: too many nodes (aliases?)",
        ),
    ],
    ids=["empty", "comment-only", "not-a-mapping", "not-utf8", "alias-bomb"],
)
def test_unusable_files_are_refused_with_the_reason(tmp_path, content, expected):
    path = tmp_path / "test.yaml"
    path.write_bytes(content)
    loaded, problems = check_policy_file(path, SUITES, name="test.yaml")
    assert loaded is None and [str(p) for p in problems] == [expected]


def test_policies_of_one_pilot_must_not_overlap(tmp_path):
    shutil.copytree(ROOT / "policies" / "suites", tmp_path / "suites")
    write(tmp_path, VALID.replace("effective: {from: 2020-01-01}", "effective: {from: 2020-01-01, until: 2022-12-31}"))
    write(tmp_path, VALID.replace("id: test", "id: test-2022").replace("2020-01-01", "2022-06-01"), "test-2022.yaml")
    policies = load_policy_set(tmp_path)
    assert list(policies.policies) == ["test"]
    (problem,) = policies.problems["test-2022"]
    assert problem.message == (
        "overlaps test (in force 2020-01-01 to 2022-12-31); policies of one pilot must follow each other"
    )


# -- through the command line -------------------------------------------------------------------------------------


@pytest.fixture()
def policy_env(tmp_path) -> tuple[dict[str, str], Path]:
    folder = tmp_path / "policies"
    shutil.copytree(ROOT / "policies", folder)
    env = dict(os.environ, TRUSTSVC_POLICIES_DIR=str(folder), TRUSTSVC_DATABASE_URL=f"sqlite:///{tmp_path / 'db'}")
    return env, folder


def cli(env, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([TRUSTSVC, *args], capture_output=True, text=True, env=env, timeout=120, cwd=cwd)


def test_every_shipped_policy_passes_check():
    result = subprocess.run([TRUSTSVC, "policy", "check"], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert result.returncode == 0, result.stdout
    checked = sorted(line.split(":")[0] for line in result.stdout.splitlines())
    assert checked == sorted(f"policies/{p.name}" for p in (ROOT / "policies").glob("*.yaml"))
    assert all(": OK (" in line for line in result.stdout.splitlines())


def test_policy_check_of_a_broken_file(policy_env, tmp_path):
    env, _ = policy_env
    broken = write(tmp_path, VALID.replace("    type: esig\n", "    tyep: esig\n"))
    result = cli(env, "policy", "check", str(broken), cwd=tmp_path)
    assert (result.returncode, result.stdout) == (
        1,
        "test.yaml:16: rules.R-QC-SIG.tyep: unknown key 'tyep'; did you mean 'type'?\n",
    )


def test_policy_list_show_and_explain(policy_env):
    env, folder = policy_env
    listing = cli(env, "policy", "list").stdout.splitlines()
    assert listing[0].split()[:4] == ["POLICY", "PILOT", "VERSION", "IN"]
    assert [line.split()[0] for line in listing[1:]] == [
        "cz",
        "es",
        "fr-2012",
        "fr-2019",
        "it",
        "procure-agreement",
        "se",
    ]
    shown = cli(env, "policy", "show", "it").stdout
    assert shown == f"# {folder / 'it.yaml'}\n" + (folder / "it.yaml").read_text(encoding="utf-8")
    explained = cli(env, "policy", "explain", "it").stdout
    assert explained.startswith("it — Italia – offerte telematiche con firma digitale")
    assert "  R-QSCD    The key must have been on a qualified signature creation device (QSCD).\n" in explained
    assert "qualified time-stamps only" in explained
    missing = cli(env, "policy", "explain", "fr-2030")
    assert (missing.returncode, missing.stderr) == (
        2,
        "trustsvc: no policy 'fr-2030' (known: cz, es, fr-2012, fr-2019, it, procure-agreement, se)\n",
    )


def test_a_broken_policy_file_does_not_stop_the_others(policy_env):
    env, folder = policy_env
    text = (folder / "fr-2019.yaml").read_text(encoding="utf-8")
    (folder / "fr-2019.yaml").write_text(text.replace("R-QC-SIG: {type: esig", "R-QC-SIG: {tpye: esig"), "utf-8")
    sample = str(SAMPLES / "pades" / "b-lt.pdf")
    asked = cli(env, "validate", sample, "--offline", "--policy", "fr-2019")
    assert asked.returncode == 2
    assert asked.stderr.startswith("trustsvc: Invalid value for --policy: policy fr-2019 is invalid: ")
    assert "fr-2019.yaml:52: rules.R-QC-SIG.tpye: unknown key 'tpye'; did you mean 'type'?" in asked.stderr
    everything = cli(env, "validate", sample, "--offline", "--all-policies", "--at", "2026-11-28T12:00:00Z")
    assert everything.stderr.startswith("trustsvc: warning: policy fr-2019 skipped: ")
    decided = {p["pilot"]: p["id"] for p in json.loads(everything.stdout)["policies"]}
    assert decided == {"cz": "cz", "es": "es", "fr": "fr", "it": "it", "procure": "procure-agreement", "se": "se"}
    fr = next(p for p in json.loads(everything.stdout)["policies"] if p["pilot"] == "fr")
    assert fr["decision"] == "MANUAL_REVIEW"
    assert fr["reasons"][0]["message"] == (
        "No fr policy was in force on 2026-11-02 (policies: fr-2012 2012-10-01 to 2018-09-30)."
    )


def test_validate_refuses_unknown_policies_and_late_deposits(policy_env):
    env, _ = policy_env
    sample = str(SAMPLES / "pades" / "b-lt.pdf")
    unknown = cli(env, "validate", sample, "--offline", "--policy", "xx")
    assert (unknown.returncode, unknown.stdout) == (2, "")
    assert unknown.stderr == (
        "trustsvc: Invalid value for --policy: no policy 'xx' (known: cz, es, fr-2012, fr-2019, it, "
        "procure-agreement, se)\n"
    )
    late = cli(env, "validate", sample, "--at", "2026-11-28T12:00:00Z", "--deposit-time", "2026-11-29T00:00:00Z")
    assert (late.returncode, late.stderr) == (
        2,
        "trustsvc: Invalid value for --deposit-time: the deposit time is after the validation time\n",
    )


def test_validate_prints_the_decision_matrix(policy_env, pki_proxy):
    env, _ = policy_env
    sample = str(SAMPLES / "pades" / "b-lt-es.pdf")
    result = cli(env, "validate", sample, "--all-policies", "--at", "2026-11-28T12:00:00Z", "--output", "text")
    assert result.returncode == 1, result.stderr  # Italy rejects: some policy said REJECT
    table = result.stdout.split("  policies:\n", 1)[1].split("  trust:", 1)[0].splitlines()
    assert [line.split()[:3] for line in table] == [
        ["PILOT", "POLICY", "DECISION"],
        ["cz", "cz", "ACCEPT"],
        ["es", "es", "ACCEPT"],
        ["fr", "fr-2019", "ACCEPT"],
        ["it", "it", "REJECT"],
        ["procure", "procure-agreement", "ACCEPT"],
        ["se", "se", "ACCEPT"],
    ]
    assert table[4].endswith(
        "REJECT    Not a valid firma digitale: the offer counts as not signed — R-QSCD: The key was not on a qualified "
        "signature creation device (QC_FOR_ESIG)."
    )
    chosen = cli(env, "validate", sample, "--policy", "fr", "--policy", "es", "--at", "2026-11-28T12:00:00Z")
    assert chosen.returncode == 0, chosen.stderr
    assert [(p["pilot"], p["id"], p["decision"]) for p in json.loads(chosen.stdout)["policies"]] == [
        ("fr", "fr-2019", "ACCEPT"),
        ("es", "es", "ACCEPT"),
    ]
