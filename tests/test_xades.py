"""XAdES specifics the sample table does not show: what a signature may make the validator read, transforms
refused, and what is reported as signed."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import SAMPLES, validate

ENVELOPED = (SAMPLES / "xades" / "enveloped-b-b.xml").read_bytes()
DATA_REFERENCE = b'URI=""'


def _altered(tmp_path: Path, old: bytes, new: bytes, name: str = "altered.xml") -> Path:
    assert ENVELOPED.count(old) == 1
    path = tmp_path / name
    path.write_bytes(ENVELOPED.replace(old, new))
    return path


@pytest.mark.parametrize("uri", ["file:///etc/hostname", "/etc/hostname", "../../etc/hostname", "http://127.0.0.1:9/x"])
async def test_a_reference_never_reads_a_local_file_or_the_network(tmp_path, anchors, uri):
    path = _altered(tmp_path, DATA_REFERENCE, f'URI="{uri}"'.encode())
    report = await validate(path, anchors=anchors)
    (signature,) = report.signatures
    assert (signature.indication.value, signature.subindication.value) == ("INDETERMINATE", "SIGNED_DATA_NOT_FOUND")
    assert signature.errors[0].code == "SIGNED_DATA_NOT_FOUND"
    assert signature.errors[0].message == f"The signed file {uri} was not supplied: send it with the signature."


async def test_a_reference_is_served_only_from_the_supplied_files(tmp_path, anchors):
    """Supplied content named like the reference is what gets digested: here the wrong bytes, so HASH_FAILURE."""
    path = _altered(tmp_path, DATA_REFERENCE, b'URI="hostname"')
    supplied = tmp_path / "hostname"
    supplied.write_bytes(b"not the signed document")
    report = await validate(path, anchors=anchors, contents=[supplied])
    (signature,) = report.signatures
    assert (signature.indication.value, signature.subindication.value) == ("TOTAL_FAILED", "HASH_FAILURE")


async def test_an_xslt_transform_is_refused(tmp_path, anchors):
    exc = b'<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>'
    first = ENVELOPED.index(exc)
    data = (
        ENVELOPED[:first]
        + b'<ds:Transform Algorithm="http://www.w3.org/TR/1999/REC-xslt-19991116"/>'
        + ENVELOPED[first + len(exc) :]
    )
    path = tmp_path / "xslt.xml"
    path.write_bytes(data)
    report = await validate(path, anchors=anchors)
    (signature,) = report.signatures
    assert (signature.indication.value, signature.subindication.value) == ("TOTAL_FAILED", "FORMAT_FAILURE")
    assert signature.errors[0].code == "UNSUPPORTED_TRANSFORM"
    assert signature.errors[0].message == (
        "Reference 1 uses a transform that is not accepted (http://www.w3.org/TR/1999/REC-xslt-19991116)."
    )


async def test_the_scope_names_what_was_signed(anchors):
    enveloped = await validate(SAMPLES / "xades" / "enveloped-b-b.xml", anchors=anchors)
    enveloping = await validate(SAMPLES / "xades" / "enveloping-b-b.xml", anchors=anchors)
    detached = await validate(
        SAMPLES / "xades" / "detached-b-b.xml", anchors=anchors, contents=[SAMPLES / "content" / "bid.pdf"]
    )
    scopes = [
        (r.signatures[0].scope, next(i.message for i in r.signatures[0].infos if i.code == "SIGNATURE_SCOPE"))
        for r in (enveloped, enveloping, detached)
    ]
    assert scopes == [
        ("FULL", "Signed: the whole document."),
        ("FULL", "Signed: the enveloped content (ds:Object)."),
        ("FULL", "Signed: the file bid.pdf."),
    ]


async def test_signed_content_moved_under_unsigned_content_is_a_wrapping_failure(anchors):
    report = await validate(SAMPLES / "xades" / "wrapping-moved-content.xml", anchors=anchors)
    (signature,) = report.signatures
    assert signature.scope == "PARTIAL"
    assert signature.errors[0].code == "SIGNED_CONTENT_HIDDEN"


async def test_signature_policy_and_signer_facts_reach_the_policies(anchors):
    report = await validate(SAMPLES / "xades" / "epes-age.xml", anchors=anchors)
    facts = report.signatures[0].facts
    assert facts.signature_policy.oid == "2.16.724.1.3.1.1.2.1.9"
    assert facts.signature_policy.digest_algorithm == "sha1"
    assert (facts.signature_mechanism, facts.signature_hash, facts.digest_algorithm) == ("ecdsa", "sha256", "sha256")
    assert facts.signing_certificate_signed is True
