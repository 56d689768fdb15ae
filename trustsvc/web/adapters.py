"""Where the pages meet the rest of trustsvc: the bidder pre-check and the curated agreement.

Kept in one place so that the pages depend on two small interfaces: :func:`precheck` (the pre-check of
:mod:`trustsvc.precheck`) and :func:`agreement` (the :class:`~trustsvc.trust.agreement.Agreement` of the service's
database; the service context's own when it has one). Every database call runs in a worker thread.
"""

from __future__ import annotations

from typing import Any

from ..api.context import ServiceContext
from ..trust.agreement import PILOTS, Agreement, AgreementError, EntryDraft

__all__ = ["precheck", "advice_texts", "agreement", "PILOTS", "AgreementError", "EntryDraft"]


async def precheck(data: bytes, filename: str, context: ServiceContext) -> Any:
    """A :class:`trustsvc.precheck.PrecheckResult` for an uploaded certificate or signed test document.

    :raises trustsvc.errors.InputError: ``private-key`` (refused, nothing kept), ``not-a-certificate``, ... .
    """
    from ..precheck import precheck_upload

    return await precheck_upload(data, filename, context)


def advice_texts() -> dict[str, str]:
    """The pre-check's advice texts by id (English msgids of the catalogs; ``{pilot}`` is a pilot's name)."""
    from ..precheck import ADVICE

    return dict(ADVICE)


def agreement(context: ServiceContext) -> Agreement:
    existing = getattr(context, "agreement", None)
    return existing if isinstance(existing, Agreement) else Agreement(context.engine)
