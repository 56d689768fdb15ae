"""Dated cryptographic constraints (ETSI TS 119 312): which algorithms and key sizes were acceptable until when.

An algorithm is judged at the time a signature is proven to exist, not at validation time: a SHA-1 signature
with a proof of existence from 2010 is fine, the same signature proven only today is not
(CRYPTO_CONSTRAINTS_FAILURE_NO_POE). The suite is data; pilot policies will pin their own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

from asn1crypto import algos, keys
from pyhanko_certvalidator.policy_decl import AlgorithmUsageConstraint, AlgorithmUsagePolicy

from .keys import key_bits

__all__ = ["CryptoSuite", "KeySizeRule", "DEFAULT_SUITE", "CHAIN_SUITE"]


_KEY_NAMES = {"rsa": "RSA", "rsassa_pss": "RSA-PSS", "ec": "EC", "dsa": "DSA"}


def _utc(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, tzinfo=timezone.utc)


@dataclass(frozen=True)
class KeySizeRule:
    """Keys of at least `min_bits` are acceptable until `until` (exclusive); None means no end date."""

    min_bits: int
    until: datetime | None


@dataclass(frozen=True)
class CryptoSuite(AlgorithmUsagePolicy):
    """A named, dated algorithm suite usable wherever pyhanko-certvalidator takes an algorithm policy."""

    name: str
    digests: dict[str, datetime | None] = field(default_factory=dict)
    rsa: tuple[KeySizeRule, ...] = ()
    rsa_pss: tuple[KeySizeRule, ...] = ()
    ec: tuple[KeySizeRule, ...] = ()
    dsa: tuple[KeySizeRule, ...] = ()
    eddsa_allowed: bool = True

    def digest_algorithm_allowed(
        self, algo: algos.DigestAlgorithm, moment: datetime | None
    ) -> AlgorithmUsageConstraint:
        name = algo["algorithm"].native
        if name not in self.digests:
            return AlgorithmUsageConstraint(
                False, failure_reason=f"digest algorithm {name} is not in suite {self.name}"
            )
        return self._judge(f"digest algorithm {name}", self.digests[name], moment)

    def signature_algorithm_allowed(
        self, algo: algos.SignedDigestAlgorithm, moment: datetime | None, public_key: keys.PublicKeyInfo | None
    ) -> AlgorithmUsageConstraint:
        try:
            digest = algo.hash_algo
        except ValueError:
            digest = None
        if digest is not None:
            verdict = self.digest_algorithm_allowed(algos.DigestAlgorithm({"algorithm": digest}), moment)
            if not verdict.allowed:
                return verdict
        if public_key is None:
            return AlgorithmUsageConstraint(True)
        key_type = public_key.algorithm
        if key_type in ("ed25519", "ed448"):
            return AlgorithmUsageConstraint(self.eddsa_allowed, failure_reason=None if self.eddsa_allowed else "EdDSA")
        if key_type in ("rsa", "rsassa_pss"):
            key_type = "rsassa_pss" if algo.signature_algo == "rsassa_pss" else "rsa"
        rules = {"rsa": self.rsa, "rsassa_pss": self.rsa_pss, "ec": self.ec, "dsa": self.dsa}.get(key_type)
        if rules is None:
            return AlgorithmUsageConstraint(False, failure_reason=f"key type {key_type} is not in suite {self.name}")
        bits = key_bits(public_key)
        for rule in sorted(rules, key=lambda r: -r.min_bits):
            if bits >= rule.min_bits:
                return self._judge(f"{_KEY_NAMES[key_type]}-{bits} key", rule.until, moment)
        return AlgorithmUsageConstraint(False, failure_reason=f"{_KEY_NAMES[key_type]}-{bits} key is too small")

    @staticmethod
    def _judge(what: str, until: datetime | None, moment: datetime | None) -> AlgorithmUsageConstraint:
        if until is None or (moment is not None and moment < until):
            return AlgorithmUsageConstraint(True)
        return AlgorithmUsageConstraint(
            False,
            not_allowed_after=until,
            failure_reason=f"{what} is not acceptable after {until.date().isoformat()} (ETSI TS 119 312)",
        )


DEFAULT_SUITE = CryptoSuite(
    name="ETSI TS 119 312 v1.5.1",
    digests={
        "md5": _utc(2004, 8, 1),
        "sha1": _utc(2012, 8, 1),
        "sha224": _utc(2029, 1, 1),
        "sha256": None,
        "sha384": None,
        "sha512": None,
        "sha3_256": None,
        "sha3_384": None,
        "sha3_512": None,
        "shake256": None,
    },
    rsa=(KeySizeRule(786, _utc(2010, 8, 1)), KeySizeRule(1024, _utc(2019, 10, 1)), KeySizeRule(1900, _utc(2029, 1, 1))),
    rsa_pss=(KeySizeRule(1900, _utc(2029, 1, 1)), KeySizeRule(3000, None)),
    ec=(KeySizeRule(160, _utc(2012, 8, 1)), KeySizeRule(224, _utc(2021, 10, 1)), KeySizeRule(256, None)),
    dsa=(KeySizeRule(1024, _utc(2015, 12, 1)), KeySizeRule(1900, _utc(2029, 1, 1)), KeySizeRule(3000, None)),
)


CHAIN_SUITE = CryptoSuite(
    name="certificate chains (legacy algorithms reported, not fatal)",
    digests={
        "sha1": None,
        "sha224": None,
        "sha256": None,
        "sha384": None,
        "sha512": None,
        "sha3_256": None,
        "sha3_384": None,
        "sha3_512": None,
        "shake256": None,
    },
    rsa=(KeySizeRule(1024, None),),
    rsa_pss=(KeySizeRule(1024, None),),
    ec=(KeySizeRule(160, None),),
    dsa=(KeySizeRule(1024, None),),
)
"""What certificate, CRL and OCSP signatures in a path must meet. Certificates signed with SHA-1 or by 1024-bit
RSA CAs are still common in signatures of 2010-2016 that EU DSS and SiVa validate (their default policy turns
algorithms that expired before the suite's update date into warnings); trustsvc does the same and reports them
as warnings against DEFAULT_SUITE, while MD5 and smaller keys, forgeable in practice, stay refused. The signature
itself and time-stamp signatures are always judged against DEFAULT_SUITE."""
