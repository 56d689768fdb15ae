"""Operational errors: the input is not something trustsvc can validate, or the service cannot do its job.

A revoked certificate or a broken signature is an outcome (a verdict), never one of these. Each error carries a
stable `code` (used as the problem+json type later) and one sentence for people; the CLI prints it on one line and
exits with status 2.
"""

from __future__ import annotations

__all__ = ["TrustSvcError", "InputError", "UnsupportedFormatError", "ConfigurationError"]


class TrustSvcError(Exception):
    """Base of every error trustsvc reports to a user instead of a verdict."""

    code = "error"

    def __init__(self, message: str, *, code: str | None = None):
        message = " ".join(message.split())  # one line, whatever a library put in the text it contributed
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return self.message


class InputError(TrustSvcError):
    """The submitted file is empty, unreadable, truncated, or not a signed document."""

    code = "invalid-input"


class UnsupportedFormatError(InputError):
    """The file is a signed document of a kind this version does not validate yet."""

    code = "unsupported-format"


class ConfigurationError(TrustSvcError):
    """A setting, trust anchor file or option value is wrong."""

    code = "configuration"
