"""The words the pages use for trustsvc's codes: decisions, indications, rules, pilots, statuses, error codes.

Each value is an English msgid marked with :func:`N_`; the templates translate it in the reader's language. A code
with no entry here is shown as it is (a new code never breaks a page).
"""

from __future__ import annotations

from .i18n import N_

__all__ = [
    "DECISIONS",
    "DECISION_MARKS",
    "INDICATIONS",
    "INDICATION_MARKS",
    "SUBINDICATIONS",
    "SIGNATURE_QUALIFICATIONS",
    "CERTIFICATE_QUALIFICATIONS",
    "PILOTS",
    "PILOT_LANGUAGES",
    "RULES",
    "RULE_RESULTS",
    "ENTRY_STATUSES",
    "AUDIT_ACTIONS",
    "SERVICE_STATUSES",
    "SERVICE_TYPES",
    "TIMESTAMP_TYPES",
    "INPUT_ERRORS",
    "AGREEMENT_ERRORS",
]

DECISIONS = {
    "ACCEPT": N_("Accepted"),
    "REJECT": N_("Rejected"),
    "MANUAL_REVIEW": N_("Manual review"),
    "RETRY": N_("Try again later"),
}

#: The non-colour cue beside each decision (the word says it too; the mark is hidden from screen readers).
DECISION_MARKS = {"ACCEPT": "✓", "REJECT": "✗", "MANUAL_REVIEW": "?", "RETRY": "↻"}

INDICATIONS = {
    "TOTAL_PASSED": N_("Valid"),
    "TOTAL_FAILED": N_("Invalid"),
    "INDETERMINATE": N_("Indeterminate"),
}

INDICATION_MARKS = {"TOTAL_PASSED": "✓", "TOTAL_FAILED": "✗", "INDETERMINATE": "?"}

#: ETSI EN 319 102-1 sub-indications in plain words.
SUBINDICATIONS = {
    "FORMAT_FAILURE": N_("The signature is malformed, or the document was changed in a way its format forbids."),
    "HASH_FAILURE": N_("The signed data was changed after it was signed."),
    "SIG_CRYPTO_FAILURE": N_("The signature value does not match the signer's key."),
    "REVOKED": N_("The signer's certificate was revoked."),
    "EXPIRED": N_("The signer's certificate had expired."),
    "NOT_YET_VALID": N_("The signer's certificate was not yet valid."),
    "SIG_CONSTRAINTS_FAILURE": N_("The signature does not meet the validation constraints."),
    "CHAIN_CONSTRAINTS_FAILURE": N_("The certificate chain does not meet the validation constraints."),
    "CERTIFICATE_CHAIN_GENERAL_FAILURE": N_("The certificate chain could not be validated."),
    "CRYPTO_CONSTRAINTS_FAILURE": N_("An algorithm or key size used is no longer considered secure."),
    "POLICY_PROCESSING_ERROR": N_("The signature policy could not be processed."),
    "SIGNATURE_POLICY_NOT_AVAILABLE": N_("The signature policy document is not available."),
    "TIMESTAMP_ORDER_FAILURE": N_("The time-stamps are not in a consistent order."),
    "NO_SIGNING_CERTIFICATE_FOUND": N_("The signer's certificate was not found."),
    "NO_CERTIFICATE_CHAIN_FOUND": N_("No chain to a trusted certification authority was found."),
    "REVOKED_NO_POE": N_("The certificate was revoked, and nothing proves that the signature existed before."),
    "REVOKED_CA_NO_POE": N_(
        "A certification authority of the chain was revoked, and nothing proves that the signature existed before."
    ),
    "OUT_OF_BOUNDS_NO_POE": N_(
        "The certificate was outside its validity period, and nothing proves when the signature was made."
    ),
    "REVOCATION_OUT_OF_BOUNDS_NO_POE": N_(
        "The revocation data falls outside the certificate's validity, and nothing proves when the signature was made."
    ),
    "OUT_OF_BOUNDS_NOT_REVOKED": N_(
        "The certificate had expired (it was not revoked), and nothing proves that the signature existed before."
    ),
    "CRYPTO_CONSTRAINTS_FAILURE_NO_POE": N_(
        "An algorithm is no longer secure, and nothing proves that the signature existed while it still was."
    ),
    "NO_POE": N_("Nothing proves when the signature existed."),
    "TRY_LATER": N_("Revocation data is not available yet: try again later."),
    "SIGNED_DATA_NOT_FOUND": N_("The signed data was not found."),
}

#: ETSI TS 119 615 signature qualification.
SIGNATURE_QUALIFICATIONS = {
    "QESig": N_("Qualified electronic signature"),
    "AdESig-QC": N_("Advanced electronic signature with a qualified certificate"),
    "AdESig": N_("Advanced electronic signature"),
    "QESeal": N_("Qualified electronic seal"),
    "AdESeal-QC": N_("Advanced electronic seal with a qualified certificate"),
    "AdESeal": N_("Advanced electronic seal"),
    "UNKNOWN_QC_QSCD": N_("Qualified certificate of unknown type, on a QSCD"),
    "UNKNOWN_QC": N_("Qualified certificate of unknown type"),
    "UNKNOWN": N_("Qualification unknown"),
    "INDETERMINATE": N_("Qualification could not be determined"),
    "NOT_ADES": N_("Not an advanced electronic signature"),
}

#: The certificate's qualification at a moment (at issuance, at signing).
CERTIFICATE_QUALIFICATIONS = {
    "QC_FOR_ESIG_QSCD": N_("Qualified certificate for electronic signatures, on a QSCD"),
    "QC_FOR_ESIG": N_("Qualified certificate for electronic signatures"),
    "QC_FOR_ESEAL_QSCD": N_("Qualified certificate for electronic seals, on a QSCD"),
    "QC_FOR_ESEAL": N_("Qualified certificate for electronic seals"),
    "QC_FOR_WSA": N_("Qualified certificate for website authentication"),
    "QC_FOR_UNKNOWN_QSCD": N_("Qualified certificate of unknown type, on a QSCD"),
    "QC_FOR_UNKNOWN": N_("Qualified certificate of unknown type"),
    "CERT_FOR_ESIG": N_("Non-qualified certificate for electronic signatures"),
    "CERT_FOR_ESEAL": N_("Non-qualified certificate for electronic seals"),
    "CERT_FOR_WSA": N_("Non-qualified certificate for website authentication"),
    "CERT_FOR_UNKNOWN": N_("Non-qualified certificate"),
    "NA": N_("Not applicable"),
}

PILOTS = {
    "fr": N_("France"),
    "it": N_("Italy"),
    "cz": N_("Czech Republic"),
    "se": N_("Sweden"),
    "es": N_("Spain"),
    "procure": N_("Cross-pilot agreement"),
}

#: The language a pilot's legal texts (policy titles, citations) are written in, for the ``lang`` attribute.
PILOT_LANGUAGES = {"fr": "fr", "it": "it", "cz": "cs", "se": "sv", "es": "es", "procure": "en"}

#: The rules of the policy catalogue (trustsvc.policy.schema), named in plain words.
RULES = {
    "R-INT": N_("Signature intact"),
    "R-FMT": N_("Accepted signature format and level"),
    "R-SCERT": N_("Signing certificate identified by the signature"),
    "R-CHAIN": N_("Chain to a trusted certification authority"),
    "R-QC-ISS": N_("Qualified certificate when issued"),
    "R-QC-SIG": N_("Qualified certificate for electronic signatures"),
    "R-QSCD": N_("Qualified signature creation device (QSCD)"),
    "R-VAL": N_("Certificate within its validity period"),
    "R-REV": N_("Certificate not revoked"),
    "R-KU": N_("Key usage allows signing"),
    "R-NP": N_("Signer is a natural person"),
    "R-CRYPTO": N_("Algorithms and key sizes"),
    "R-TST": N_("Time-stamp"),
    "R-POL": N_("Signature policy"),
    "OUTCOME": N_("Outcome"),
    "POLICY": N_("Policy applied"),
}

RULE_RESULTS = {
    "PASSED": N_("Met"),
    "FAILED": N_("Not met"),
    "UNDETERMINED": N_("Could not be decided"),
    "PENDING": N_("Waiting for data"),
    "WARNING": N_("Warning"),
}

RULE_RESULT_MARKS = {"PASSED": "✓", "FAILED": "✗", "UNDETERMINED": "?", "PENDING": "↻", "WARNING": "!"}

ENTRY_STATUSES = {
    "proposed": N_("Proposed"),
    "in_force": N_("In force"),
    "withdrawal_proposed": N_("Withdrawal proposed"),
    "withdrawn": N_("Withdrawn"),
}

AUDIT_ACTIONS = {
    "propose": N_("Proposed"),
    "approve": N_("Approved"),
    "in_force": N_("Came in force"),
    "propose_withdrawal": N_("Withdrawal proposed"),
    "approve_withdrawal": N_("Withdrawal approved"),
    "withdrawn": N_("Withdrawn"),
    "import": N_("Imported from a signed list"),
}

#: ETSI TS 119 612 service statuses.
SERVICE_STATUSES = {
    "granted": N_("Granted"),
    "withdrawn": N_("Withdrawn"),
    "recognisedatnationallevel": N_("Recognised at national level"),
    "deprecatedatnationallevel": N_("Deprecated at national level"),
    "undersupervision": N_("Under supervision"),
    "supervisionincessation": N_("Supervision in cessation"),
    "supervisionceased": N_("Supervision ceased"),
    "supervisionrevoked": N_("Supervision revoked"),
    "accredited": N_("Accredited"),
    "accreditationceased": N_("Accreditation ceased"),
    "accreditationrevoked": N_("Accreditation revoked"),
    "setbynationallaw": N_("Set by national law"),
    "unknown": N_("Unknown"),
}

SERVICE_TYPES = {
    "CA/QC": N_("Qualified certification authority"),
    "CA/PKC": N_("Certification authority"),
    "TSA/QTST": N_("Qualified time-stamping authority"),
    "TSA": N_("Time-stamping authority"),
}

TIMESTAMP_TYPES = {
    "signature": N_("Signature time-stamp"),
    "content": N_("Content time-stamp"),
    "archive": N_("Archive time-stamp"),
    "document": N_("Document time-stamp"),
}

#: What went wrong with a bidder's upload, by the code of trustsvc's InputError.
INPUT_ERRORS = {
    "private-key": N_(
        "This file is a private key, not a certificate. It was refused and has not been kept. Never send your "
        "private key to anyone: upload your certificate (.pem, .cer, .crt or .der) instead."
    ),
    "empty-file": N_("The file is empty."),
    "too-large": N_("The file is too large for a pre-check (2 MB at most)."),
    "not-a-certificate": N_("The file is not a certificate that can be read (PEM or DER)."),
    "no-signature": N_("The document carries no signature with a certificate to check."),
    "not-a-signed-document": N_("The file is neither a certificate nor a signed document."),
}

#: Why the agreement refused a change, by the code of AgreementError.
AGREEMENT_ERRORS = {
    "private-key": N_(
        "A private key was sent instead of the CA certificate. It was refused and has not been kept: send the "
        "certificate only."
    ),
    "not-a-certificate": N_("The file is not a single X.509 certificate (PEM or DER)."),
    "not-a-ca": N_("The certificate is not a certification authority's certificate."),
    "already-in-agreement": N_("This certificate is already proposed or in force in the agreement."),
    "already-approved": N_("Your pilot has already approved this change."),
    "nothing-pending": N_("No change of this entry is waiting for approval."),
    "unknown-entry": N_("There is no such entry in the agreement."),
    "bad-quality-level": N_("The quality level must be a whole number from 1 to 5."),
    "bad-validity": N_("The validity period is not valid: the end must come after the start."),
    "empty-justification": N_("Give the justification of the assessment."),
    "bad-country": N_("The country must be a two-letter ISO 3166 code, such as CZ."),
    "empty-name": N_("Give the name of the certification authority."),
    "empty-source": N_("Give the source document of the assessment."),
    "empty-reason": N_("Give the reason for this change."),
    "not-in-force": N_("Only an entry in force can be withdrawn."),
    "withdrawal-pending": N_("A withdrawal of this entry is already proposed: approve it instead."),
    "unknown-pilot": N_("Your key is not bound to a pilot of the agreement."),
    "empty-curator": N_("Your key has no name to record in the audit trail."),
}
