"""The acceptance-policy model: what a pilot's YAML file may say, checked strictly.

A policy is data a legal team can read: when it applies (by the signature's proof-of-existence time), which
proofs of existence it accepts, which rules from a closed catalogue it checks (each with its parameters and the
legal basis it rests on), and an ordered outcome table that turns the rule results into a decision. Unknown keys,
unknown rule ids and references to citations that do not exist are errors, never silently ignored.

The catalogue (../shared/reference/policies.md § 9.1):

======== ==========================================================================================
R-INT    the signature is intact (EN 319 102-1 integrity and format checks)
R-FMT    the format is one the policy accepts, at least at the minimum baseline level
R-SCERT  the signature signs a reference to its certificate (ESS / XAdES signing-certificate)
R-CHAIN  the certificate chains to an anchor from an accepted trust source
R-QC-ISS the certificate was qualified (of the required type) when issued
R-QC-SIG the certificate was qualified (of the required type) at the signing time
R-QSCD   the key was on a qualified signature creation device at the signing time
R-VAL    the certificate was within its validity at the proof of existence
R-REV    the certificate was not revoked nor suspended at the proof of existence
R-KU     the key usage allows the signature
R-NP     the subject is a natural person (no pseudonym if so required)
R-CRYPTO the algorithms and key sizes were acceptable at the proof of existence (dated suite)
R-TST    a (qualified) signature time-stamp is present
R-POL    the signature policy the signer committed to is an accepted one
======== ==========================================================================================
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import date, timedelta
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from ..verdict import Decision, Indication, SubIndication

__all__ = [
    "RULE_IDS",
    "PROOF_KINDS",
    "SIGNATURE_QUALIFICATIONS",
    "Citation",
    "Policy",
    "Rules",
    "OutcomeRow",
    "Condition",
    "CryptoOverride",
    "AcceptedSignaturePolicy",
]

RULE_IDS = (
    "R-INT",
    "R-FMT",
    "R-SCERT",
    "R-CHAIN",
    "R-QC-ISS",
    "R-QC-SIG",
    "R-QSCD",
    "R-VAL",
    "R-REV",
    "R-KU",
    "R-NP",
    "R-CRYPTO",
    "R-TST",
    "R-POL",
)
RuleId = Literal[
    "R-INT",
    "R-FMT",
    "R-SCERT",
    "R-CHAIN",
    "R-QC-ISS",
    "R-QC-SIG",
    "R-QSCD",
    "R-VAL",
    "R-REV",
    "R-KU",
    "R-NP",
    "R-CRYPTO",
    "R-TST",
    "R-POL",
]

PROOF_KINDS = ("signature_timestamp", "archive_timestamp", "document_timestamp", "platform_receipt")
ProofKind = Literal["signature_timestamp", "archive_timestamp", "document_timestamp", "platform_receipt"]

SIGNATURE_QUALIFICATIONS = (
    "QESig",
    "AdESig-QC",
    "AdESig",
    "QESeal",
    "AdESeal-QC",
    "AdESeal",
    "UNKNOWN_QC_QSCD",
    "UNKNOWN_QC",
    "UNKNOWN",
    "INDETERMINATE",
    "NOT_ADES",
)
SignatureQualificationLabel = Literal[
    "QESig",
    "AdESig-QC",
    "AdESig",
    "QESeal",
    "AdESeal-QC",
    "AdESeal",
    "UNKNOWN_QC_QSCD",
    "UNKNOWN_QC",
    "UNKNOWN",
    "INDETERMINATE",
    "NOT_ADES",
]

SignatureFormat = Literal["PAdES", "CAdES", "XAdES", "ASiC-S", "ASiC-E", "PKCS7", "CMS", "XMLDSig"]
BaselineLevel = Literal["B-B", "B-T", "B-LT", "B-LTA"]
KeyUsageBit = Literal[
    "digital_signature",
    "non_repudiation",
    "key_encipherment",
    "data_encipherment",
    "key_agreement",
    "key_cert_sign",
    "crl_sign",
    "encipher_only",
    "decipher_only",
]
_TRUST_SOURCE = re.compile(r"^(eu_lists|agreement|ad_hoc|national:[A-Z]{2})$")
TrustSourceName = Annotated[str, Field(pattern=_TRUST_SOURCE.pattern)]
"""``eu_lists`` (any list the EU LOTL announces), ``national:FR`` (that member state's list only), ``agreement``
(the curated cross-pilot CA agreement), ``ad_hoc`` (anchors given with the request)."""

_BASIS = re.compile(r"^(?P<key>[A-Za-z0-9][A-Za-z0-9._-]*)(?:\s+(?P<pinpoint>\S.*))?$")
BasisRef = Annotated[str, Field(pattern=_BASIS.pattern)]
"""A citation key of the policy's ``legal_basis``, optionally followed by a pinpoint: ``arrete-2019 art. 5-I 4°``."""

Days = Annotated[timedelta, Field(ge=timedelta(0))]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Citation(_Strict):
    """A legal text or standard a rule rests on. ``confidence``: V checked against the text, P paraphrased from a
    reliable secondary source, K domain knowledge to verify before go-live (policies.md § 0)."""

    ref: str = Field(min_length=3)
    article: str | None = None
    url: str | None = None
    confidence: Literal["V", "P", "K"]


class _Rule(_Strict):
    severity: Literal["fail", "warn"] = "fail"
    basis: list[BasisRef] = Field(min_length=1)
    note: str | None = None


class IntegrityRule(_Rule):
    pass


class FormatRule(_Rule):
    formats: list[SignatureFormat] = Field(min_length=1)
    min_level: BaselineLevel = "B-B"


class SigningCertificateRule(_Rule):
    pass


class ChainRule(_Rule):
    sources: list[TrustSourceName] = Field(min_length=1)


class QualificationRule(_Rule):
    type: Literal["esig", "eseal", "any"] = "esig"
    or_anchored_in: list[Literal["agreement"]] = Field(default_factory=list)
    """Also passes when the chain ends at an anchor of these sources (e.g. the curated agreement's CAs)."""


class QscdRule(_Rule):
    pass


class ValidityRule(_Rule):
    without_proof_before_expiry: Literal["reject", "manual_review"] = "manual_review"
    """An expired certificate with no accepted proof that the signature existed before it expired."""


class RevocationRule(_Rule):
    freshness: Days | None = None
    """Revocation data must have been issued no longer than this before the proof of existence."""
    grace_period: Days = timedelta(0)
    """... and at least this long after it (cautionary period), when the proof of existence is a proven time."""
    on_hold: Literal["reject", "manual_review"] = "manual_review"
    without_proof_before_revocation: Literal["reject", "manual_review"] = "manual_review"
    revoked_after_proof: Literal["accept", "manual_review"] = "accept"


class KeyUsageRule(_Rule):
    all_of: list[KeyUsageBit] = Field(default_factory=list)
    any_of: list[KeyUsageBit] = Field(default_factory=list)
    none_of: list[KeyUsageBit] = Field(default_factory=list)


class SubjectRule(_Rule):
    natural_person: bool = True
    pseudonym_allowed: bool = True


class CryptoOverride(_Strict):
    """Changes one entry of the suite for this policy: a digest or key algorithm's end date, or a minimum key
    size (smaller keys are refused at any date)."""

    algorithm: str = Field(min_length=2)
    until: date | None = None
    min_bits: int | None = Field(default=None, gt=0)
    reason: str = Field(min_length=3)


class CryptoRule(_Rule):
    suite: str = Field(min_length=3)
    overrides: list[CryptoOverride] = Field(default_factory=list)


class TimestampRule(_Rule):
    required: bool = True
    qualified: bool = False


class AcceptedSignaturePolicy(_Strict):
    oid: str = Field(pattern=r"^[0-2](\.[0-9]+)+$")
    digest_algorithm: Literal["sha1", "sha256", "sha384", "sha512"] | None = None
    digest: str | None = None
    """Base64 digest of the policy document; when given, a signature naming this policy with another digest fails."""
    uri: str | None = None

    @field_validator("digest")
    @classmethod
    def _base64(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError) as e:
                raise ValueError("not valid base64") from e
        return value

    def digest_bytes(self) -> bytes | None:
        return base64.b64decode(self.digest) if self.digest else None


class SignaturePolicyRule(_Rule):
    required: bool = False
    accepted: list[AcceptedSignaturePolicy] = Field(default_factory=list)


class Rules(_Strict):
    """The rules a policy checks, keyed by catalogue id; a rule left out is not checked."""

    integrity: IntegrityRule | None = Field(default=None, alias="R-INT")
    format: FormatRule | None = Field(default=None, alias="R-FMT")
    signing_certificate: SigningCertificateRule | None = Field(default=None, alias="R-SCERT")
    chain: ChainRule | None = Field(default=None, alias="R-CHAIN")
    qualified_at_issuance: QualificationRule | None = Field(default=None, alias="R-QC-ISS")
    qualified_at_signing: QualificationRule | None = Field(default=None, alias="R-QC-SIG")
    qscd: QscdRule | None = Field(default=None, alias="R-QSCD")
    validity: ValidityRule | None = Field(default=None, alias="R-VAL")
    revocation: RevocationRule | None = Field(default=None, alias="R-REV")
    key_usage: KeyUsageRule | None = Field(default=None, alias="R-KU")
    subject: SubjectRule | None = Field(default=None, alias="R-NP")
    cryptography: CryptoRule | None = Field(default=None, alias="R-CRYPTO")
    timestamp: TimestampRule | None = Field(default=None, alias="R-TST")
    signature_policy: SignaturePolicyRule | None = Field(default=None, alias="R-POL")

    def present(self) -> list[tuple[str, _Rule]]:
        """(rule id, rule) of every rule the policy checks, in catalogue order."""
        out = []
        for name, info in type(self).model_fields.items():
            rule = getattr(self, name)
            if rule is not None:
                out.append((info.alias or name, rule))
        return out


def _rule_selector(value: object) -> str | list[str]:
    """``any`` or a list of catalogue rule ids (checked here so that a typo gets one clear message)."""
    if value == "any":
        return "any"
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        raise ValueError("expected 'any' or a list of rule ids")
    unknown = [v for v in value if v not in RULE_IDS]
    if unknown:
        raise ValueError(f"unknown rule id {unknown[0]!r}; the catalogue has {', '.join(RULE_IDS)}")
    return list(value)


RuleSelector = Annotated[str | list[str], BeforeValidator(_rule_selector)]


class Condition(_Strict):
    """When an outcome row applies: every condition given must hold (none given: always)."""

    indication: list[Indication] | None = None
    subindication: list[SubIndication] | None = None
    signature_qualification: list[SignatureQualificationLabel] | None = None
    failed: RuleSelector | None = None
    """Some of these rules (``any``: some rule of severity fail) failed."""
    failed_only: RuleSelector | None = None
    """Some rule failed, and every failed rule is among these (the failure is only, say, the format)."""
    undetermined: RuleSelector | None = None
    """Some of these rules could not be decided from the evidence (a person must look)."""
    pending: RuleSelector | None = None
    """Some of these rules wait for data time will bring (revocation data after the grace period, a responder
    that did not answer)."""
    anchored_in: list[TrustSourceName] | None = None
    legal_person: bool | None = None
    """The signer's certificate is a legal person's (an electronic seal), whatever the indication."""

    def is_empty(self) -> bool:
        return all(getattr(self, name) is None for name in type(self).model_fields)


class OutcomeRow(_Strict):
    """One row of the decision table; the first row whose conditions hold decides.

    ACCEPT is only ever given to a TOTAL_PASSED signature whose rules all passed: an ACCEPT row cannot loosen that.
    """

    when: Condition = Field(default_factory=Condition)
    decision: Decision
    because: str | None = None
    basis: list[BasisRef] = Field(default_factory=list)
    retry_after: Days | None = None


class ManualCheck(_Strict):
    """Something a person must check that no validator can (the signer's authority to bind the bidder...)."""

    id: str = Field(pattern=r"^M-[A-Z0-9-]+$")
    description: str = Field(min_length=3)
    basis: list[BasisRef] = Field(min_length=1)


class Effective(_Strict):
    """The legal applicability window, by the signature's time reference, in the policy's time zone (inclusive)."""

    from_: date = Field(alias="from")
    until: date | None = None


class TimePolicy(_Strict):
    """Which proofs of existence (POE) of the signature the policy accepts. The earliest accepted one is the time
    the policy judges the signature at; without any, the validation time (EN 319 102-1: nothing proves the
    signature is older). A claimed signing time is never a proof."""

    proofs: list[ProofKind] = Field(min_length=1)
    qualified_timestamps_only: bool = False
    basis: list[BasisRef] = Field(min_length=1)


class Policy(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    pilot: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    version: str = Field(pattern=r"^\d+\.\d+\.\d+$")
    title: str = Field(min_length=3)
    jurisdiction: str = Field(pattern=r"^([A-Z]{2}|EU)$")
    territories: list[Annotated[str, Field(pattern=r"^[A-Z]{2}$")]] = Field(default_factory=list)
    timezone: str = "Europe/Brussels"
    effective: Effective
    legal_basis: dict[Annotated[str, Field(pattern=_BASIS.pattern)], Citation] = Field(min_length=1)
    time: TimePolicy
    rules: Rules
    outcome: list[OutcomeRow] = Field(min_length=1)
    manual_checks: list[ManualCheck] = Field(default_factory=list)
    description: str | None = None


def split_basis(reference: str) -> tuple[str, str | None]:
    """``"arrete-2019 art. 5-I 4°"`` → (``"arrete-2019"``, ``"art. 5-I 4°"``)."""
    match = _BASIS.match(reference.strip())
    if match is None:
        return reference, None
    return match.group("key"), match.group("pinpoint")
