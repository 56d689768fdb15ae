"""archive-time-stamp-v3 and ats-hash-index-v3 (EN 319 122-1, § 5.5.2-5.5.3): the DSS oracle, pyHanko round trips."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import importlib.util
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from asn1crypto import cms, core, keys, x509
from cryptography import x509 as cx509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.sign.signers import SimpleSigner
from pyhanko.sign.timestamps import DummyTimeStamper
from pyhanko_certvalidator.registry import SimpleCertificateStore

import trustsvc.formats.cades_archive as cades_archive
from trustsvc.formats.cades_archive import (
    ARCHIVE_TIME_STAMP_V3_OID,
    ATS_HASH_INDEX_V3_OID,
    ATSHashIndexV3,
    AtsV3Check,
    ats_v3_imprint_input,
    attach_archive_timestamp_v3,
    build_ats_hash_index_v3,
    check_archive_timestamp_v3,
    encapsulated_content_digest,
    prepare_archive_timestamp_v3,
)

DSS_LTA = Path(__file__).resolve().parents[2] / "shared/corpus/dss/cades/cades-lta-duplicated-atst.p7m"  # ../shared
CONTENT = b"tender offer, lot 3\n"
FIXED_DT = datetime(2026, 1, 15, 10, 0, tzinfo=timezone.utc)
OK = AtsV3Check(imprint_matches=True, hash_index_consistent=True, message=None, md_algorithm="sha256")


# --- a throw-away PKI: one signer, one TSA (DummyTimeStamper is RSA-only) ----------------------------------------


@dataclass(frozen=True)
class Pki:
    signer: SimpleSigner
    stamper: DummyTimeStamper
    extra_cert: x509.Certificate  # a certificate that is not in any signature, to add "later" material


def _self_signed(name: str, eku: bool) -> tuple[x509.Certificate, keys.PrivateKeyInfo]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = cx509.Name([cx509.NameAttribute(NameOID.COMMON_NAME, name)])
    builder = (
        cx509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(cx509.random_serial_number())
        .not_valid_before(FIXED_DT - timedelta(days=1))
        .not_valid_after(FIXED_DT + timedelta(days=365))
    )
    if eku:
        builder = builder.add_extension(cx509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
    cert = builder.sign(key, hashes.SHA256())
    der_key = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER)), keys.PrivateKeyInfo.load(der_key)


@pytest.fixture(scope="module")
def pki() -> Pki:
    signer_cert, signer_key = _self_signed("trustsvc test signer", eku=False)
    tsa_cert, tsa_key = _self_signed("trustsvc test TSA", eku=True)
    signer = SimpleSigner(signer_cert, signer_key, SimpleCertificateStore.from_certs([signer_cert]))
    stamper = DummyTimeStamper(tsa_cert, tsa_key, fixed_dt=FIXED_DT)
    return Pki(signer, stamper, extra_cert=_reissue(tsa_cert))


def _reissue(cert: x509.Certificate) -> x509.Certificate:
    """A distinct certificate without another RSA key generation (keeps the suite fast): change the serial only."""
    tbs = cert["tbs_certificate"].copy()
    tbs["serial_number"] = cert.serial_number + 1
    return x509.Certificate(
        {"tbs_certificate": tbs, "signature_algorithm": cert["signature_algorithm"], "signature_value": b"\x00" * 8}
    )


def _sign(pki: Pki, detached: bool = False) -> cms.SignedData:
    """A CAdES B-T: content, signed attributes, and a signature-time-stamp as first unsigned attribute."""
    content_info = asyncio.run(
        pki.signer.async_sign_general_data(
            CONTENT, "sha256", detached=detached, use_cades=True, timestamper=pki.stamper
        )
    )
    return _reload(content_info["content"])


def _reload(signed_data: cms.SignedData) -> cms.SignedData:
    """Round-trip through a file, so that every check sees parsed data as a validator would."""
    wrapped = cms.ContentInfo({"content_type": "signed_data", "content": signed_data}).dump()
    return cms.ContentInfo.load(wrapped)["content"]


def _mutable(signed_data: cms.SignedData) -> cms.SignedData:
    """A detached copy to tamper with; dump() of the parsed ContentInfo child would carry its explicit [0] tag."""
    return cms.SignedData.load(signed_data.untag().dump())


def _content_digest(algorithm: str) -> bytes:
    return hashlib.new(algorithm, CONTENT).digest()


def _add_ats(pki: Pki, signed_data: cms.SignedData, md_algorithm: str = "sha256") -> cms.SignedData:
    signer_info = signed_data["signer_infos"][0]
    index, digest = prepare_archive_timestamp_v3(signed_data, signer_info, _content_digest(md_algorithm), md_algorithm)
    token = asyncio.run(pki.stamper.async_timestamp(digest, md_algorithm))
    return _reload(attach_archive_timestamp_v3(signed_data, 0, token, index))


def _archive_tokens(signed_data: cms.SignedData) -> list[cms.ContentInfo]:
    attributes = signed_data["signer_infos"][0]["unsigned_attrs"]
    return [a["values"][0] for a in attributes if a["type"].dotted == ARCHIVE_TIME_STAMP_V3_OID]


def _check_all(signed_data: cms.SignedData, digest_for=_content_digest) -> list[AtsV3Check]:
    signer_info = signed_data["signer_infos"][0]
    return [check_archive_timestamp_v3(signed_data, signer_info, t, digest_for) for t in _archive_tokens(signed_data)]


def _token_index(token: cms.ContentInfo) -> core.Asn1Value:
    attributes = token["content"]["signer_infos"][0]["unsigned_attrs"]
    (value,) = [a["values"][0] for a in attributes if a["type"].dotted == ATS_HASH_INDEX_V3_OID]
    return value


@pytest.fixture(scope="module")
def bt(pki: Pki) -> cms.SignedData:
    """Signing costs ~0.1 s (pyHanko reloads and checks the RSA key each time): sign once per module."""
    return _sign(pki)


@pytest.fixture(scope="module")
def lta(pki: Pki, bt: cms.SignedData) -> cms.SignedData:
    return _add_ats(pki, bt)


# --- registration -------------------------------------------------------------------------------------------------


def test_attributes_are_registered_by_name() -> None:
    assert cms.CMSAttributeType.map(ARCHIVE_TIME_STAMP_V3_OID) == "archive_time_stamp_v3"
    assert cms.CMSAttributeType.map(ATS_HASH_INDEX_V3_OID) == "ats_hash_index_v3"
    assert cms.CMSAttributeType.unmap("archive_time_stamp_v3") == ARCHIVE_TIME_STAMP_V3_OID
    assert cms.CMSAttribute._oid_specs["ats_hash_index_v3"]._child_spec is ATSHashIndexV3


def test_second_import_keeps_the_first_registration() -> None:
    """A second copy of the module (import under another name, reload) must not replace the value classes."""
    spec = importlib.util.spec_from_file_location("_cades_archive_copy", cades_archive.__file__)
    copy = importlib.util.module_from_spec(spec)
    sys.modules["_cades_archive_copy"] = copy
    try:
        spec.loader.exec_module(copy)
    finally:
        del sys.modules["_cades_archive_copy"]
    assert copy.ATSHashIndexV3 is not ATSHashIndexV3
    assert cms.CMSAttribute._oid_specs["ats_hash_index_v3"]._child_spec is ATSHashIndexV3
    assert cms.CMSAttribute._oid_specs["archive_time_stamp_v3"]._child_spec is cms.ContentInfo
    assert cms.CMSAttributeType.unmap("ats_hash_index_v3") == ATS_HASH_INDEX_V3_OID


def test_index_without_hash_algorithm_defaults_to_sha256() -> None:
    """hashIndAlgorithm and certificatesHashIndex share the SEQUENCE tag: 3 elements mean the default was omitted."""
    lists = [cades_archive._OctetStrings([core.OctetString(bytes([i]) * 32)]) for i in range(3)]
    encoded = cades_archive._tlv(0x30, b"".join(item.dump() for item in lists))
    index = ATSHashIndexV3.load(encoded)
    assert index["hash_ind_algorithm"]["algorithm"].native == "sha256"
    assert [h.native for h in index["unsigned_attr_values_hash_index"]] == [b"\x02" * 32]
    assert index.dump() == encoded


# --- the DSS oracle -----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dss_lta() -> cms.SignedData:
    if not DSS_LTA.is_file():
        pytest.skip(f"shared corpus not available ({DSS_LTA})")
    return cms.ContentInfo.load(DSS_LTA.read_bytes())["content"]


def test_dss_sample_both_archive_timestamps_are_intact(dss_lta: cms.SignedData) -> None:
    """DSS (CAdESLevelLTAWithDuplicatedATSTTest) asserts both archive time-stamps intact and valid."""
    digest_for = functools.partial(encapsulated_content_digest, dss_lta)
    assert _check_all(dss_lta, digest_for) == [OK, OK]
    index = _token_index(_archive_tokens(dss_lta)[0])
    counts = [len(index[f]) for f in ("certificates_hash_index", "crls_hash_index", "unsigned_attr_values_hash_index")]
    assert counts == [5, 2, 1]  # 5 certificates, a CRL and an OCSP response, the signature-time-stamp


def test_dss_sample_index_and_imprint_are_reproduced(dss_lta: cms.SignedData) -> None:
    """Rebuilt on the signature as it was before its archive time-stamps, the index is DSS's and the imprint matches."""
    signer_info = dss_lta["signer_infos"][0]
    first_unsigned = cades_archive._children(signer_info["unsigned_attrs"])[0]  # the signature-time-stamp
    fields = [tlv for tlv in cades_archive._children(signer_info) if tlv[0] != 0xA1]
    before = cms.SignerInfo.load(cades_archive._tlv(0x30, b"".join(fields) + cades_archive._tlv(0xA1, first_unsigned)))
    content_digest = encapsulated_content_digest(dss_lta, "sha256")

    index = build_ats_hash_index_v3(dss_lta, before)

    token = _archive_tokens(dss_lta)[0]
    theirs = _token_index(token)
    assert index["hash_ind_algorithm"].dump() == theirs["hash_ind_algorithm"].dump()  # sha256, parameters absent
    # DSS lists certificates in its own order (the standard sets none); the imprint hashes its index as stored.
    assert sorted(index["certificates_hash_index"].native) == sorted(theirs["certificates_hash_index"].native)
    assert index["crls_hash_index"].dump() == theirs["crls_hash_index"].dump()
    assert index["unsigned_attr_values_hash_index"].dump() == theirs["unsigned_attr_values_hash_index"].dump()
    assert len(index.dump()) == len(theirs.dump())
    digest = hashlib.sha256(ats_v3_imprint_input(dss_lta, before, content_digest, theirs)).digest()
    tst_info = token["content"]["encap_content_info"]["content"].parsed
    assert digest == tst_info["message_imprint"]["hashed_message"].native


def test_dss_sample_with_altered_signature_value(dss_lta: cms.SignedData) -> None:
    raw = DSS_LTA.read_bytes()
    signature = dss_lta["signer_infos"][0]["signature"].native
    assert raw.count(signature) == 1
    tampered = cms.ContentInfo.load(raw.replace(signature, signature[:-1] + bytes([signature[-1] ^ 1])))["content"]
    checks = _check_all(tampered, functools.partial(encapsulated_content_digest, tampered))
    assert [(c.imprint_matches, c.hash_index_consistent) for c in checks] == [(False, True), (False, True)]


def _indefinite(tag: int, children: list[bytes]) -> bytes:
    """A BER constructed value with indefinite length around untouched children."""
    return bytes([tag, 0x80]) + b"".join(children) + b"\x00\x00"


def test_dss_sample_in_indefinite_length_ber(dss_lta: cms.SignedData) -> None:
    """BER containers around the hashed elements change nothing: every element is hashed as it appears in the file."""
    children = cades_archive._children
    signer_info = dss_lta["signer_infos"][0]
    signer_fields = [t for t in children(signer_info) if t[0] != 0xA1]
    ber_signer = _indefinite(0x30, [*signer_fields, _indefinite(0xA1, children(signer_info["unsigned_attrs"]))])
    version, digest_algorithms, encap, certificates, crls, _signer_infos = children(dss_lta)
    assert (certificates[0], crls[0]) == (0xA0, 0xA1)
    ber_signed_data = _indefinite(
        0x30,
        [version, digest_algorithms, encap, _indefinite(0xA0, children(dss_lta["certificates"])), crls]
        + [_indefinite(0x31, [ber_signer])],
    )
    content_type = cades_archive._children(cms.ContentInfo.load(DSS_LTA.read_bytes()))[0]
    ber = cms.ContentInfo.load(_indefinite(0x30, [content_type, _indefinite(0xA0, [ber_signed_data])]))["content"]
    assert _check_all(ber, functools.partial(encapsulated_content_digest, ber)) == [OK, OK]


# --- round trips with pyHanko -------------------------------------------------------------------------------------


def test_round_trip_enveloping(lta: cms.SignedData) -> None:
    assert _check_all(lta) == [OK]
    assert _check_all(lta, functools.partial(encapsulated_content_digest, lta)) == [OK]


def test_attach_appends_and_keeps_every_other_encoding(pki: Pki, bt: cms.SignedData) -> None:
    before = bt
    after = _add_ats(pki, before)
    old, new = before["signer_infos"][0], after["signer_infos"][0]
    assert [a["type"].dotted for a in new["unsigned_attrs"]][-1] == ARCHIVE_TIME_STAMP_V3_OID
    assert cades_archive._children(new["unsigned_attrs"])[:-1] == cades_archive._children(old["unsigned_attrs"])
    for name in ("version", "sid", "digest_algorithm", "signed_attrs", "signature_algorithm", "signature"):
        assert new[name].dump() == old[name].dump()
    for name in ("version", "digest_algorithms", "encap_content_info", "certificates"):
        assert after[name].dump() == before[name].dump()
    token = _archive_tokens(after)[0]
    assert isinstance(_token_index(token), ATSHashIndexV3)
    assert _token_index(token).dump() == build_ats_hash_index_v3(before, old).dump()


def test_round_trip_without_unsigned_attributes(pki: Pki, bt: cms.SignedData) -> None:
    """A B-B signature: the archive time-stamp becomes the first unsigned attribute, its index lists none."""
    signer_info = bt["signer_infos"][0]
    fields = [t for t in cades_archive._children(signer_info) if t[0] != 0xA1]
    children = cades_archive._children(bt)
    bare_signer = cades_archive._tlv(0x30, b"".join(fields))
    bare = cades_archive._tlv(0x30, b"".join(children[:-1]) + cades_archive._tlv(0x31, bare_signer))
    signed = _add_ats(pki, _reload(cms.SignedData.load(bare)))
    assert [a["type"].dotted for a in signed["signer_infos"][0]["unsigned_attrs"]] == [ARCHIVE_TIME_STAMP_V3_OID]
    assert len(_token_index(_archive_tokens(signed)[0])["unsigned_attr_values_hash_index"]) == 0
    assert _check_all(signed) == [OK]


def test_round_trip_detached(pki: Pki) -> None:
    signed = _add_ats(pki, _sign(pki, detached=True))
    assert isinstance(signed["encap_content_info"]["content"], core.Void)
    assert _check_all(signed) == [OK]
    (unavailable,) = _check_all(signed, functools.partial(encapsulated_content_digest, signed))
    assert (unavailable.imprint_matches, unavailable.hash_index_consistent) == (False, True)
    assert "not available" in unavailable.message


def test_round_trip_sha512(pki: Pki, bt: cms.SignedData) -> None:
    signed = _add_ats(pki, bt, md_algorithm="sha512")
    (check,) = _check_all(signed)
    assert check == AtsV3Check(True, True, None, "sha512")
    assert _token_index(_archive_tokens(signed)[0])["hash_ind_algorithm"]["algorithm"].native == "sha512"


def test_altered_signature_value_breaks_the_imprint_only(lta: cms.SignedData) -> None:
    raw = cms.ContentInfo({"content_type": "signed_data", "content": lta}).dump()
    signature = lta["signer_infos"][0]["signature"].native
    tampered = cms.ContentInfo.load(raw.replace(signature, bytes([signature[0] ^ 0x80]) + signature[1:]))["content"]
    (check,) = _check_all(tampered)
    assert (check.imprint_matches, check.hash_index_consistent) == (False, True)
    assert "message imprint" in check.message


def test_removed_certificate_breaks_the_index_only(lta: cms.SignedData) -> None:
    tampered = _mutable(lta)
    tampered["certificates"] = cms.CertificateSet(list(tampered["certificates"])[1:])
    (check,) = _check_all(_reload(tampered))
    assert (check.imprint_matches, check.hash_index_consistent) == (True, False)
    assert "SignedData.certificates" in check.message


def test_removed_unsigned_attribute_breaks_the_index_only(lta: cms.SignedData) -> None:
    """Dropping the signature-time-stamp, which the archive time-stamp covers through its index."""
    tampered = _mutable(lta)
    attributes = tampered["signer_infos"][0]["unsigned_attrs"]
    tampered["signer_infos"][0]["unsigned_attrs"] = cms.CMSAttributes(list(attributes)[1:])
    (check,) = _check_all(_reload(tampered))
    assert (check.imprint_matches, check.hash_index_consistent) == (True, False)
    assert "unsigned attribute values" in check.message


def test_other_content_breaks_the_imprint_only(lta: cms.SignedData) -> None:
    (check,) = _check_all(lta, lambda algorithm: hashlib.new(algorithm, CONTENT + b"!").digest())
    assert (check.imprint_matches, check.hash_index_consistent) == (False, True)


def test_later_material_is_not_covered_and_does_not_break(pki: Pki, lta: cms.SignedData) -> None:
    """Certificates and archive time-stamps added after an ATS are outside its index: it stays intact."""
    extended = _mutable(lta)
    extended["certificates"] = cms.CertificateSet([*extended["certificates"], pki.extra_cert])
    extended = _add_ats(pki, _reload(extended))
    assert _check_all(extended) == [OK, OK]
    first, second = (_token_index(t) for t in _archive_tokens(extended))
    assert len(first["certificates_hash_index"]) + 1 == len(second["certificates_hash_index"])
    # The second index covers the first archive time-stamp (and the signature-time-stamp), not itself.
    assert len(first["unsigned_attr_values_hash_index"]) == 1
    assert len(second["unsigned_attr_values_hash_index"]) == 2


def test_token_without_hash_index(pki: Pki, lta: cms.SignedData) -> None:
    signer_info = lta["signer_infos"][0]
    token = asyncio.run(pki.stamper.async_timestamp(b"\x00" * 32, "sha256"))
    check = check_archive_timestamp_v3(lta, signer_info, token, _content_digest)
    assert check == AtsV3Check(False, False, "time-stamp has no ats-hash-index-v3 unsigned attribute", "sha256")


def test_attach_refuses_an_index_of_another_state(pki: Pki, bt: cms.SignedData) -> None:
    signed = bt
    signer_info = signed["signer_infos"][0]
    index, digest = prepare_archive_timestamp_v3(signed, signer_info, _content_digest("sha256"))
    token = asyncio.run(pki.stamper.async_timestamp(digest, "sha256"))
    changed = _mutable(signed)
    changed["certificates"] = cms.CertificateSet([*changed["certificates"], pki.extra_cert])
    with pytest.raises(ValueError, match="hash index"):
        attach_archive_timestamp_v3(_reload(changed), 0, token, index)


def test_imprint_input_layout(lta: cms.SignedData) -> None:
    """eContentType TLV, content hash, six signer info fields with signedAttrs as [0] (0xA0), then the index."""
    signer_info = lta["signer_infos"][0]
    index = _token_index(_archive_tokens(lta)[0])
    digest = _content_digest("sha256")
    data = ats_v3_imprint_input(lta, signer_info, digest, index)
    econtent_type = bytes.fromhex("06092a864886f70d010701")  # id-data
    assert data.startswith(econtent_type + digest)
    fields = data[len(econtent_type) + len(digest) : -len(index.dump())]
    assert data.endswith(index.dump())
    signed_attrs = signer_info["signed_attrs"].dump()
    assert signed_attrs[0] == 0xA0 and signed_attrs in fields
    assert fields.endswith(signer_info["signature"].dump())
    assert signer_info["unsigned_attrs"].dump() not in data
