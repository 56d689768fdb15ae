"""Hostile inputs: attacked, malformed, oversized and mutated signed documents (the cases are in tests/hostile.py).

Every case is validated offline as of T_VAL with the five test roots as trust anchors, in a thread of its own (a
forked process for the few known to run long), and must come out with a verdict or a clean one-line InputError,
never a traceback, within TIME_LIMIT seconds and with a Python heap peak (tracemalloc) under MEMORY_LIMIT; and
never with a signature TOTAL_PASSED but where the case allows it (see hostile.Expect). Timings are taken under
tracemalloc, which slows pyHanko-heavy validations several times over: the limits are conservative.

Cases that show a bug of trustsvc are expected to fail (``xfail(strict=True)``, reason ``BUG: ...``), listed in
KNOWN_BUGS by name pattern: when the bug is fixed, the test passes and strict xfail turns it into a failure, so the
entry must then be removed.

The hypothesis tests mutate samples that pass offline (byte flips, insertions, deletions, duplicated chunks) with a
fixed seed and a bounded number of examples: anywhere in the file (no traceback, bounded time), and inside what
the signatures cover (and then never TOTAL_PASSED).
"""

from __future__ import annotations

import fnmatch
import tempfile
import tracemalloc
from pathlib import Path

import hostile
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trustsvc.errors import InputError, TrustSvcError
from trustsvc.verdict import Indication

#: Seconds one validation may take (measured under tracemalloc; the slowest non-DoS case takes about 1.5 s).
TIME_LIMIT = 5.0
#: Python heap peak of one validation (the largest measured is about 40 MiB: 100,000 Ids in a signed XML).
MEMORY_LIMIT = 256 << 20


KNOWN_BUGS: dict[str, str] = {}


def _known_bug(name: str) -> str | None:
    for pattern, reason in KNOWN_BUGS.items():
        if fnmatch.fnmatchcase(name, pattern):
            return reason
    return None


def _params(family: str) -> list:
    params = []
    for case in hostile.cases_of(family):
        reason = _known_bug(case.name)
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        params.append(pytest.param(case, id=case.name.split("/", 1)[1], marks=marks))
    return params


@pytest.fixture(scope="module")
def traced():
    """tracemalloc for the whole module (reset before each case): starting it per case would cost more."""
    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start()
    yield
    if started:
        tracemalloc.stop()


def check(case: hostile.Case, workdir: Path, anchors) -> None:
    outcome = hostile.run_case(case, workdir, time_limit=TIME_LIMIT, anchors=anchors)
    if outcome.error is not None and not isinstance(outcome.error, TrustSvcError):
        raise AssertionError(f"{case.name}: {type(outcome.error).__name__} escaped (a traceback)") from outcome.error
    judgement = hostile.judge(case, outcome, time_limit=TIME_LIMIT, memory_limit=MEMORY_LIMIT)
    why = f" ({case.expect.why})" if case.expect.why else ""
    assert judgement.ok, f"{case.name}{why}: " + "; ".join(judgement.problems)


@pytest.mark.parametrize("case", _params("pdf"))
def test_pdf_attack(case, tmp_path, anchors, traced):
    check(case, tmp_path, anchors)


@pytest.mark.parametrize("case", _params("xml-wrapping"))
def test_xml_signature_wrapping(case, tmp_path, anchors, traced):
    check(case, tmp_path, anchors)


@pytest.mark.parametrize("case", _params("cms"))
def test_cms_structure(case, tmp_path, anchors, traced):
    check(case, tmp_path, anchors)


@pytest.mark.parametrize("case", _params("asic"))
def test_hostile_container(case, tmp_path, anchors, traced):
    check(case, tmp_path, anchors)


@pytest.mark.parametrize("case", _params("xml-size"))
def test_huge_xml(case, tmp_path, anchors, traced):
    check(case, tmp_path, anchors)


@pytest.mark.parametrize("case", _params("mutation"))
def test_mutated_sample(case, tmp_path, anchors, traced):
    check(case, tmp_path, anchors)


# ---------------------------------------------------------------------------------------------------------------
# The suite's own soundness: controls pass, attacks are meaningful, every family is populated


def test_every_sample_is_mutated():
    names = {c.name.split("/", 1)[1].rsplit("/", 1)[0] for c in hostile.cases_of("mutation")}
    samples = {p.relative_to(hostile.SAMPLES).as_posix() for p in hostile.SAMPLES.rglob("*") if p.is_file()}
    assert names == samples


def test_controls_exist_and_every_family_has_cases():
    sizes = {family: len(hostile.cases_of(family)) for family in hostile.FAMILIES}
    assert all(size >= 30 for size in sizes.values()), sizes
    controls = [c.name for c in hostile.all_cases() if c.expect.must_pass]
    assert {"pdf", "xml-wrapping", "cms"} <= {name.split("/")[0] for name in controls}, controls


def test_known_bugs_name_existing_cases():
    names = [c.name for c in hostile.all_cases()]
    unused = [p for p in KNOWN_BUGS if not any(fnmatch.fnmatchcase(n, p) for n in names)]
    assert not unused, f"KNOWN_BUGS entries that match no case (renamed?): {unused}"


def test_flip_regions_are_signed_bytes():
    """A flip region of a PDF lies inside the first signature's /ByteRange or its CMS; of a CMS, in its DER."""
    data = hostile.sample("pades/b-lt.pdf")
    (signed, der_hex) = hostile.pdf_regions(data)
    a, b, c, d = hostile._pdf_signatures(data)[0].byte_range
    assert signed.spans == ((a, a + b), (c, c + d))
    assert all(b < start < end < c for start, end in der_hex.spans)
    assert all(data[start:end].strip(b"0123456789abcdefABCDEF") == b"" for start, end in der_hex.spans)


# ---------------------------------------------------------------------------------------------------------------
# Hypothesis: bounded, deterministic mutations of samples that pass offline

PASSING = {
    "pdf": ("pades/b-lt.pdf", "pades/b-lta.pdf"),
    "xml": ("xades/enveloped-b-lt.xml", "xades/enveloping-b-lt.xml"),
    "cms": ("cades/enveloping-b-lt.p7m", "cades/detached-b-lt.p7s"),
    "zip": ("asic/asic-e-xades.asice", "asic/asic-s-cades.asics"),
}
_HYPOTHESIS = settings(
    max_examples=40,
    deadline=5000,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
_operations = st.sampled_from(("flip", "insert", "delete", "duplicate"))
_where = st.integers(min_value=0, max_value=2**32)
_value = st.integers(min_value=0, max_value=255)
_length = st.integers(min_value=1, max_value=64)


def _mutate(data: bytes, offset: int, operation: str, value: int, length: int) -> bytes:
    if operation == "flip":
        return data[:offset] + bytes([data[offset] ^ (1 << (value % 8))]) + data[offset + 1 :]
    if operation == "insert":
        return data[:offset] + bytes([value]) + data[offset:]
    if operation == "delete":
        return data[:offset] + data[offset + length :]
    return data[: offset + length] + data[offset : offset + length] + data[offset + length :]  # duplicate


def _validate_mutated(path: str, data: bytes, contents, anchors) -> hostile.Outcome:
    case = hostile.Case(f"hypothesis/{path}", data, contents, hostile.NEVER, Path(path).name)
    with tempfile.TemporaryDirectory() as workdir:
        outcome = hostile.run_case(case, Path(workdir), time_limit=TIME_LIMIT, anchors=anchors, trace=False)
    assert outcome.finished, f"{path}: still running after {TIME_LIMIT} s"
    if outcome.error is not None:
        assert isinstance(outcome.error, InputError), f"{path}: {outcome.error!r}"
        assert outcome.error.message and "\n" not in outcome.error.message
    return outcome


@pytest.fixture(scope="module")
def passing_samples(anchors):
    """The samples must pass offline, or 'never TOTAL_PASSED' below would prove nothing. (No heap tracing here:
    tracemalloc slows validation several times over and these tests do not measure memory.)"""
    if tracemalloc.is_tracing():
        tracemalloc.stop()
    for path in (p for group in PASSING.values() for p in group):
        case = hostile.Case(
            f"control/{path}", hostile.sample(path), hostile.contents_for(path), hostile.NEVER, Path(path).name
        )
        with tempfile.TemporaryDirectory() as workdir:
            outcome = hostile.run_case(case, Path(workdir), anchors=anchors, trace=False)
        assert outcome.report is not None and outcome.report.signatures, path
        assert all(s.indication == Indication.TOTAL_PASSED for s in outcome.report.signatures), path
    return PASSING


@pytest.mark.parametrize("group", ["pdf", "xml", "cms", "zip"])
@_HYPOTHESIS
@given(index=st.integers(0, 1), operation=_operations, where=_where, value=_value, length=_length)
def test_mutated_anywhere_never_crashes(group, index, operation, where, value, length, anchors, passing_samples):
    path = PASSING[group][index]
    data = hostile.sample(path)
    mutated = _mutate(data, where % len(data), operation, value, length)
    _validate_mutated(path, mutated, hostile.contents_for(path), anchors)


def _signed_offset(path: str, data: bytes, where: int, operation: str) -> tuple[int, hostile.Region]:
    """An offset inside what the signatures cover (for XML, where a change alters the canonical form)."""
    regions = [r for r in hostile.regions_of(path, data, ()) if not r.in_content]
    if path.endswith(".xml") and operation in ("insert", "duplicate"):
        # white space inserted into the base64 of a SignatureValue is legitimately ignored by base64 decoders
        regions = [r for r in regions if r.label != "signature-value"]
    index = where % sum(r.size for r in regions)
    for region in regions:
        if index < region.size:
            return region.offset(index), region
        index -= region.size
    raise AssertionError("unreachable")


@pytest.mark.parametrize("group", ["pdf", "xml", "cms", "zip"])
@_HYPOTHESIS
@given(index=st.integers(0, 1), operation=_operations, where=_where, value=_value, length=_length)
def test_mutated_signed_region_never_passes(group, index, operation, where, value, length, anchors, passing_samples):
    path = PASSING[group][index]
    data = hostile.sample(path)
    offset, region = _signed_offset(path, data, where, operation)
    if operation == "delete" and path.endswith(".xml"):
        length = 1  # a longer cut may leave the canonical form unchanged (two adjacent tags removed together)
    if operation == "flip" and region.label.endswith("hex") and chr(data[offset]).isalpha() and value % 8 == 5:
        value = 6  # bit 5 only changes the case of a hex digit
    mutated = _mutate(data, offset, operation, value, length)
    if mutated == data:
        return
    outcome = _validate_mutated(path, mutated, hostile.contents_for(path), anchors)
    if outcome.report is not None:
        passed = [s.id for s in outcome.report.signatures if s.indication == Indication.TOTAL_PASSED]
        assert not passed, f"{path}: {operation} at {offset} ({value}, {length}) left {passed} TOTAL_PASSED"
