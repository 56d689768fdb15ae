"""Hostile XML is refused with its reason, and every real trusted list parses into the model (TS 119 612 v3-v6).

Expectations for the real lists come from ../shared/trusted-lists/INDEX.md itself (type, territory, sequence,
issue and next-update times of each file), so the test and the data description cannot drift apart.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest

from conftest import SHARED, shared_path
from trustsvc.trust.tsl_model import CA_QC, Qualifier, ServiceStatus, TrustedList
from trustsvc.trust.tsl_parse import TslParseError, parse_trusted_list, uri_token
from trustsvc.trust.xml_safety import XmlInputError, parse_xml

TL_DIR = SHARED / "trusted-lists"


def _index_rows() -> list[dict[str, str]]:
    """The per-file table of INDEX.md (empty when the shared data is absent: the tests then skip)."""
    index = TL_DIR / "INDEX.md"
    if not index.exists():
        return []
    columns = ["file", "type", "territory", "sequence", "issued", "next_update", "algorithm", "signature"]
    rows = []
    for line in index.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == len(columns) and cells[0].endswith(".xml"):
            rows.append(dict(zip(columns, cells, strict=True)))
    return rows


LISTS = [row for row in _index_rows() if row["type"]]


def _load(relative: str) -> bytes:
    return shared_path("trusted-lists", *relative.split("/")).read_bytes()


def _parse(relative: str) -> TrustedList:
    return parse_trusted_list(_load(relative))


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(timezone.utc)


# -- xml_safety --------------------------------------------------------------------------------------------------------

BAD_XML = ["cyclic.xml", "dtd.xml", "external.xml", "external_file.xml", "quadratic.xml", "xmlbomb.xml", "xmlbomb2.xml"]


@pytest.mark.parametrize("name", BAD_XML)
def test_hostile_xml_from_pyhanko_is_refused_as_dtd(name: str) -> None:
    data = shared_path("corpus", "pyhanko", "xml-bad", name).read_bytes()
    with pytest.raises(XmlInputError) as refused:
        parse_xml(data)
    assert refused.value.code == "dtd-forbidden"


def test_dss_dtd_injection_is_refused() -> None:
    data = shared_path("corpus", "dss", "xades", "xades-with-dtd-injection.xml").read_bytes()
    with pytest.raises(XmlInputError) as refused:
        parse_xml(data)
    assert refused.value.code == "dtd-forbidden"


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "empty"),
        (b"\xef\xbb\xbf \n\t", "empty"),
        (b"<a><b></a>", "not-well-formed"),
        (b"<a>&undeclared;</a>", "entity-forbidden"),
        (b"<a>" * 300 + b"</a>" * 300, "too-deep"),
        (b"<a>" + b"x" * (11 * 1024 * 1024) + b"</a>", "too-large"),
        (
            b"<?xml version='1.0'?>\n<!-- c --><?pi x?>\n<!DOCTYPE a SYSTEM 'http://example.com/a.dtd'><a/>",
            "dtd-forbidden",
        ),
        (
            "<?xml version='1.0' encoding='utf-16'?><!DOCTYPE a [<!ENTITY x 'y'>]><a>&x;</a>".encode("utf-16"),
            "dtd-forbidden",
        ),
    ],
    ids=["empty", "bom-and-blanks", "mismatched", "entity", "deep", "huge-text", "doctype-after-prolog", "utf16-dtd"],
)
def test_refusals_have_stable_codes(data: bytes, code: str) -> None:
    with pytest.raises(XmlInputError) as refused:
        parse_xml(data)
    assert refused.value.code == code
    assert refused.value.message


def test_size_is_capped_before_parsing() -> None:
    with pytest.raises(XmlInputError) as refused:
        parse_xml(b"<a/>" + b" " * 100, max_bytes=64)
    assert refused.value.code == "too-large"


def test_bom_and_leading_whitespace_are_accepted() -> None:
    assert parse_xml(b"\xef\xbb\xbf  \n<?xml version='1.0' encoding='UTF-8'?><a/>").tag == "a"
    for name in ("tl_pivot_247_mp_with-bom.xml", "tl_pivot_247_mp_with-spaces.xml"):
        assert _parse(f"negative/{name}").sequence == 247


# -- every real list ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("row", LISTS, ids=[row["file"] for row in LISTS])
def test_every_list_parses_as_indexed(row: dict[str, str]) -> None:
    tl = _parse(row["file"])
    assert tl.tsl_type == row["type"]
    assert tl.territory == row["territory"]
    assert tl.sequence == int(row["sequence"])
    assert tl.issued == _when(row["issued"])
    assert tl.next_update == (_when(row["next_update"]) if row["next_update"] else None)
    if tl.is_lotl:
        assert tl.pointers and not tl.providers
    else:
        assert tl.providers and all(tsp.services for tsp in tl.providers)
        assert all(state.start.tzinfo is timezone.utc for _, service in tl.services() for state in service.states)


def test_synthetic_pivots_parse() -> None:
    for path in sorted(shared_path("trusted-lists", "pivots-synthetic").glob("*.xml")):
        tl = parse_trusted_list(path.read_bytes())
        assert tl.is_lotl and tl.territory == "EU" and len(tl.pointers) == 43


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("CZ_empty.xml", "empty"),
        ("CZ_not-parsable.xml", "not-well-formed"),
        ("eu-lotl-not-parseable.xml", "not-well-formed"),
        ("sample-bom.xml", "not-a-trusted-list"),
        ("tl-empty.xml", "missing-element"),
    ],
)
def test_unusable_lists_are_refused_with_a_reason(name: str, code: str) -> None:
    with pytest.raises(TslParseError) as refused:
        _parse(f"negative/{name}")
    assert refused.value.code == code
    if code == "missing-element":
        assert "SchemeInformation" in refused.value.message


def test_v5_and_v6_finnish_lists_give_the_same_services() -> None:
    v5, v6 = _parse("other/fi-v5.xml"), _parse("other/fi-v6.xml")
    assert (v5.version, v6.version) == (5, 6)
    assert v5.providers == v6.providers
    assert v5.pointers == v6.pointers
    assert sum(len(tsp.services) for tsp in v6.providers) == 19


def test_old_layouts_parse() -> None:
    de = _parse("other/de-tl.xml")
    assert (de.version, de.territory, de.issued.year) == (4, "DE", 2015)
    assert sum(len(tsp.services) for tsp in de.providers) == 413
    gematik = _parse("other/tl-ecdsa-brainpool.xml")
    assert (gematik.version, gematik.tsl_type, gematik.operator_name) == (3, "generic", "gematik GmbH")
    statuses = {state.status_uri for _, service in gematik.services() for state in service.states}
    assert statuses == {"http://uri.etsi.org/TrstSvc/Svcstatus/inaccord"}  # TS 102 231 status: kept, not guessed
    assert all(state.status is ServiceStatus.UNKNOWN for _, service in gematik.services() for state in service.states)


def test_closed_list_has_no_next_update() -> None:
    assert _parse("eu-2026-08/TSL_UK.xml").next_update is None


def test_times_are_utc() -> None:
    mra = _parse("other/mra-zz-tl.xml")
    assert mra.issued == datetime(2022, 6, 8, 11, 37, 21, 646000, tzinfo=timezone.utc)


# -- LOTL content ------------------------------------------------------------------------------------------------------


def test_lotl_scheme_information_and_pointers() -> None:
    lotl = _parse("eu-2026-08/eu-lotl.xml")
    assert (lotl.version, lotl.sequence, lotl.operator_name) == (6, 390, "European Commission")
    assert lotl.namespace == "http://uri.etsi.org/TrstSvc/TrustedList/TSLType/"
    assert lotl.scheme_information_uris[:2] == (
        "https://eur-lex.europa.eu/eli/C/2026/1944/oj",
        "https://ec.europa.eu/tools/lotl/eu-lotl-pivot-378.xml",
    )
    assert lotl.distribution_points == ("https://ec.europa.eu/tools/lotl/eu-lotl.xml",)
    by_territory = {p.territory: p for p in lotl.pointers}
    assert len(by_territory) == 32 and "DE" in by_territory  # EU itself, 27 member states, IS, LI, NO, UK
    eu, fr = by_territory["EU"], by_territory["FR"]
    assert (eu.tsl_type, eu.location, len(eu.signer_certificates)) == (
        "EUlistofthelists",
        "https://ec.europa.eu/tools/lotl/eu-lotl.xml",
        6,
    )
    assert (fr.tsl_type, fr.mime_type) == ("EUgeneric", "application/vnd.etsi.tsl+xml")
    assert fr.operator_name and fr.signer_certificates and all(c[:1] == b"\x30" for c in fr.signer_certificates)


def test_lotl_of_2019_points_at_xml_and_pdf_lists() -> None:
    lotl = _parse("eu-2019-09/eu-lotl.xml")
    mime_types = {p.mime_type for p in lotl.pointers if p.territory == "FR"}
    assert mime_types == {"application/vnd.etsi.tsl+xml", "application/pdf"}


# -- services, history and extensions ----------------------------------------------------------------------------------


def _service(tl: TrustedList, name_part: str, *, qualified: bool = False):
    return next(
        s for _, s in tl.services() if name_part in s.current.name and bool(s.current.qualifications) == qualified
    )


def test_service_current_state_history_and_identity() -> None:
    it = _parse("eu-2026-08/TSL_IT.xml")
    service = _service(it, "Banca d'Italia", qualified=True)
    state = service.current
    assert (state.type, state.status) == (CA_QC, ServiceStatus.GRANTED)
    assert state.type_uri == "http://uri.etsi.org/TrstSvc/Svctype/CA/QC"
    assert state.start == datetime(2016, 6, 30, 22, 0, tzinfo=timezone.utc)
    assert state.additional_info == frozenset({"ForeSignatures"})
    assert state.expired_certs_revocation_info == datetime(2014, 11, 24, 8, 0, tzinfo=timezone.utc)
    assert len(state.identity.certificates) == 1
    assert [h.status for h in service.history] == [ServiceStatus.ACCREDITED]
    assert service.state_at(datetime(2015, 1, 1, tzinfo=timezone.utc)) == service.history[0]
    (qualification,) = state.qualifications
    assert qualification.qualifiers == frozenset({Qualifier.QC_QSCD_MANAGED_ON_BEHALF})
    assert qualification.criteria.policy_sets == (frozenset({"1.3.76.38.1.1.1"}),)


def test_history_is_newest_first_everywhere() -> None:
    for name in ("eu-2026-08/TSL_IT.xml", "eu-2026-08/TSL_CZ.xml", "other/de-tl.xml"):
        for _, service in _parse(name).services():
            starts = [state.start for state in service.history]
            assert starts == sorted(starts, reverse=True)


def test_criteria_of_every_kind() -> None:
    qualifications = [
        q
        for name in ("eu-2026-08/TSL_ES.xml", "eu-2026-08/TSL_SK.xml", "eu-2026-08/TSL_FR.xml")
        for _, service in _parse(name).services()
        for state in service.states
        for q in state.qualifications
    ]
    criteria = [q.criteria for q in qualifications]
    assert any(c.key_usage == ((("nonRepudiation", True),),) for c in criteria)
    assert any(frozenset({"1.3.6.1.4.1.18838.1.1"}) in c.subject_dn_attributes for c in criteria)
    assert any(frozenset({"1.3.6.1.5.5.7.3.1"}) in c.extended_key_usages for c in criteria)
    assert any(c.nested for c in criteria)
    assert {c.assert_ for c in criteria} >= {"all", "atLeastOne"}
    assert not any(c.unknown for c in criteria)
    assert all(not oid.startswith("urn:") for c in criteria for policy_set in c.policy_sets for oid in policy_set)


def test_policy_oids_written_as_urn_are_normalised() -> None:
    data = _load("eu-2026-08/TSL_FR.xml")
    assert b"urn:oid:" not in data
    rewritten = re.sub(rb"(<ns4:Identifier[^>]*>)(\d[\d.]+)<", rb"\1urn:oid:\2<", data)
    assert rewritten != data
    assert parse_trusted_list(rewritten).providers == parse_trusted_list(data).providers


def test_both_uri_families_and_https_give_the_same_tokens() -> None:
    data = _load("eu-2026-08/TSL_FR.xml")
    old = data.replace(
        b"http://uri.etsi.org/TrstSvc/TrustedList/", b"https://uri.etsi.org/TrstSvc/eSigDir-1999-93-EC-TrustedList/"
    )
    assert old != data
    new_list, old_list = parse_trusted_list(data), parse_trusted_list(old)

    def tokens(tl: TrustedList):
        return [
            (s.type, s.status, s.additional_info, s.qualifications)
            for _, service in tl.services()
            for s in service.states
        ]

    assert tokens(old_list) == tokens(new_list)
    assert old_list.tsl_type == "EUgeneric"


def test_uri_token() -> None:
    assert uri_token("http://uri.etsi.org/TrstSvc/Svctype/CA/QC", "svctype") == "CA/QC"
    assert uri_token("https://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/granted", "svcstatus") == "granted"
    assert uri_token(
        " http://uri.etsi.org/TrstSvc/eSigDir-1999-93-EC-TrustedList/SvcInfoExt/QCWithSSCD ", "svcinfoext"
    ) == ("QCWithSSCD")
    assert uri_token("http://uri.etsi.org/TrstSvc/TSLtype/generic", "tsltype") == "generic"
    assert uri_token("http://zz-trusted-list.go.zz/TrstSvc/TrustedList/SvcInfoExt/QCWithQSCD", "svcinfoext") is None
    assert uri_token("http://uri.etsi.org/TrstSvc/Svctype/CA/QC", "svcstatus") is None


def test_unknown_qualifier_uris_are_kept() -> None:
    zz = _parse("other/mra-zz-tl.xml")
    unknown = {u for _, s in zz.services() for st in s.states for q in st.qualifications for u in q.unknown_qualifiers}
    assert unknown == {"http://zz-trusted-list.go.zz/TrstSvc/TrustedList/SvcInfoExt/QCWithQSCD"}


_FIRST_EXTENSIONS = b"<ServiceInformationExtensions>"


@pytest.mark.parametrize(("critical", "flag"), [(b"true", True), (b"1", True), (b"false", False)])
def test_critical_extension_not_understood(critical: bytes, flag: bool) -> None:
    data = _load("eu-2026-08/TSL_SE.xml")
    assert _FIRST_EXTENSIONS in data
    unknown = b'<Extension Critical="' + critical + b'"><x:Restriction xmlns:x="urn:example:national"/></Extension>'
    tl = parse_trusted_list(data.replace(_FIRST_EXTENSIONS, _FIRST_EXTENSIONS + unknown, 1))
    states = [state for _, service in tl.services() for state in service.states]
    assert [state.critical_extension_not_understood for state in states].count(True) == (1 if flag else 0)
    assert not any(
        st.critical_extension_not_understood for _, s in parse_trusted_list(data).services() for st in s.states
    )


def test_taken_over_by_is_understood_and_ignored() -> None:
    data = _load("eu-2019-09/AT.xml")
    assert b"TakenOverBy>" in data
    assert not any(
        st.critical_extension_not_understood for _, s in parse_trusted_list(data).services() for st in s.states
    )


def test_identities_other_than_certificates() -> None:
    tl = _parse("eu-2026-08/TSL_CZ.xml")
    identities = [state.identity for _, service in tl.services() for state in service.states]
    assert any(i.skis and i.subject_names and not i.certificates for i in identities)  # history entries
    assert all(len(ski) == 20 for i in identities for ski in i.skis)
    others = [
        o
        for name in ("eu-2019-09/BG.xml", "eu-2019-09/IE.xml")
        for _, s in _parse(name).services()
        for st in s.states
        for o in st.identity.other
    ]
    assert "Other: https://docs.trustpro.eu/TrustProQualifiedCA1.der" in others


def test_certificate_base64_with_whitespace_and_garbage() -> None:
    data = _load("eu-2026-08/TSL_SE.xml")
    tl = parse_trusted_list(data)
    first = next(c for _, s in tl.services() for c in s.current.identity.certificates)
    head, providers = data.split(b"<TrustServiceProviderList>")
    garbage = re.sub(rb"<X509Certificate>[^<]*", b"<X509Certificate>not base64!", providers, count=1)
    broken = parse_trusted_list(head + b"<TrustServiceProviderList>" + garbage)
    states = [st for _, s in broken.services() for st in s.states]
    assert "X509Certificate (not base64)" in states[0].identity.other
    assert first not in states[0].identity.certificates


# -- precise structural errors -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "replacement", "code", "where"),
    [
        (rb"<TSLSequenceNumber>\d+</TSLSequenceNumber>", b"", "missing-element", "SchemeInformation/TSLSequenceNumber"),
        (rb"<TSLSequenceNumber>\d+<", b"<TSLSequenceNumber>sixty-two<", "bad-value", "TSLSequenceNumber"),
        (rb"<ListIssueDateTime>[^<]+<", b"<ListIssueDateTime>yesterday<", "bad-value", "ListIssueDateTime"),
        (
            rb"<StatusStartingTime>[^<]+</StatusStartingTime>",
            b"",
            "missing-element",
            "TrustServiceProvider[1]/TSPServices/TSPService[1]/ServiceInformation/StatusStartingTime",
        ),
    ],
    ids=["no-sequence", "bad-sequence", "bad-issue-date", "no-status-start"],
)
def test_structural_errors_say_where(pattern: bytes, replacement: bytes, code: str, where: str) -> None:
    data = re.sub(pattern, replacement, _load("eu-2026-08/TSL_SE.xml"), count=1)
    with pytest.raises(TslParseError) as refused:
        parse_trusted_list(data)
    assert refused.value.code == code
    assert where in refused.value.message


def test_parse_of_bytes_refuses_what_xml_safety_refuses() -> None:
    with pytest.raises(TslParseError) as refused:
        parse_trusted_list(shared_path("corpus", "pyhanko", "xml-bad", "xmlbomb.xml").read_bytes())
    assert refused.value.code == "dtd-forbidden"
