"""The PDF difference policy: which changes after a signature are harmless.

pyHanko's default policy, with one rule relaxed. Its DSS rule refuses any change to an existing /VRI entry of the
Document Security Store, although PAdES (ETSI EN 319 142-1, § 5.4) lets later updates add validation data there,
and common signers (EU DSS among them) do so: their multi-signature LT/LTA files then looked "modified after
signing" (DSS's PAdES-LT.pdf, 22 signatures of 25sigs.pdf). VRI entries only index certificates, CRLs and OCSP
responses; they cannot change what a page shows. Here an updated or removed VRI entry is accepted when it is
well-formed: a dictionary of the expected keys whose arrays point at streams, exactly what the rule demands of a
new entry. Every other rule is pyHanko's.
"""

from __future__ import annotations

from collections.abc import Iterable

from pyhanko.pdf_utils import generic, misc
from pyhanko.pdf_utils.reader import HistoricalResolver, RawPdfPath
from pyhanko.sign.diff_analysis import DEFAULT_DIFF_POLICY, ModificationLevel, StandardDiffPolicy
from pyhanko.sign.diff_analysis.commons import assert_not_stream, compare_key_refs, safe_whitelist
from pyhanko.sign.diff_analysis.constants import VRI_KEY_PATTERN
from pyhanko.sign.diff_analysis.policy_api import SuspiciousModification
from pyhanko.sign.diff_analysis.rules.form_field_rules import (
    DSSCompareRule,
    _validate_dss_substructure,  # pyHanko's own check of DSS/VRI arrays; pinned by our pyhanko<0.39 requirement
)
from pyhanko.sign.diff_analysis.rules_api import Context, ReferenceUpdate

__all__ = ["DIFF_POLICY", "TolerantDSSCompareRule"]

_DSS_STREAM_KEYS = {"/Certs", "/CRLs", "/OCSPs"}
_VRI_STREAM_KEYS = {"/Cert", "/CRL", "/OCSP"}
_VRI_KEYS = {"/Type", "/TU", "/TS"} | _VRI_STREAM_KEYS


class TolerantDSSCompareRule(DSSCompareRule):
    """pyHanko's DSS rule, except that existing /VRI entries may be updated or removed."""

    def apply(self, old: HistoricalResolver, new: HistoricalResolver) -> Iterable[ReferenceUpdate]:
        dss_context = Context.from_absolute(old, RawPdfPath("/Root", "/DSS"))
        old_dss, new_dss = yield from misc.map_with_return(
            compare_key_refs("/DSS", old, old.root, new.root),
            ReferenceUpdate.curry_ref(context_checked=dss_context),
        )
        if new_dss is None:
            return
        if old_dss is None:
            old_dss = generic.DictionaryObject()
        if not isinstance(old_dss, generic.DictionaryObject):
            raise misc.PdfReadError("/DSS is not a dictionary")
        if not isinstance(new_dss, generic.DictionaryObject):
            raise SuspiciousModification("/DSS is not a dictionary")
        unexpected = set(new_dss.keys()) - ({"/Type", "/VRI"} | _DSS_STREAM_KEYS)
        if unexpected:
            raise SuspiciousModification(f"Unexpected keys in DSS: {unexpected}.")
        yield from _validate_dss_substructure(
            old, new, old_dss, new_dss, _DSS_STREAM_KEYS, is_vri=False, context=dss_context
        )
        old_vri, new_vri = yield from misc.map_with_return(
            compare_key_refs("/VRI", old, old_dss, new_dss),
            ReferenceUpdate.curry_ref(context_checked=Context.from_absolute(old, RawPdfPath("/Root", "/DSS", "/VRI"))),
        )
        if new_vri is None:
            return
        if not isinstance(new_vri, generic.DictionaryObject):
            raise SuspiciousModification("/VRI is not a dictionary")
        if not isinstance(old_vri, generic.DictionaryObject):
            old_vri = generic.DictionaryObject()
        yield from _check_vri_entries(old, new, old_vri, new_vri)


def _check_vri_entries(old: HistoricalResolver, new: HistoricalResolver, old_vri, new_vri):
    for key in new_vri.keys():
        if not VRI_KEY_PATTERN.match(key):
            raise SuspiciousModification(f"VRI key {key} is not formatted correctly.")
        entry = new_vri.raw_get(key)
        if key in old_vri and old_vri.raw_get(key) == entry:
            continue  # unchanged (an object rewritten in place is caught by the xref analysis, as in pyHanko)
        context = Context.from_absolute(old, RawPdfPath("/Root", "/DSS", "/VRI", key))
        if isinstance(entry, generic.IndirectObject):
            previous = old_vri.raw_get(key) if key in old_vri else None
            if isinstance(previous, generic.IndirectObject):
                yield from map(
                    ReferenceUpdate.curry_ref(context_checked=context),
                    safe_whitelist(old, previous.reference, entry.reference),
                )
            elif old.is_ref_unassignable(entry.reference):
                yield ReferenceUpdate(entry.reference)
            entry = entry.get_object()
        assert_not_stream(entry)
        if not isinstance(entry, generic.DictionaryObject):
            raise SuspiciousModification("VRI entries should be dictionaries")
        unexpected = set(entry.keys()) - _VRI_KEYS
        if unexpected:
            raise SuspiciousModification(f"Unexpected keys in VRI dictionary: {unexpected}.")
        yield from _validate_dss_substructure(
            old, new, generic.DictionaryObject(), entry, _VRI_STREAM_KEYS, is_vri=True, context=context
        )
        try:
            ts_ref = entry.get_value_as_reference("/TS", optional=True)
            if ts_ref is not None and old.is_ref_unassignable(ts_ref):
                yield ReferenceUpdate(ts_ref)
        except misc.IndirectObjectExpected:
            pass


def _policy() -> StandardDiffPolicy:
    rules = [
        TolerantDSSCompareRule().as_qualified(ModificationLevel.LTA_UPDATES)
        if isinstance(getattr(rule, "rule", None), DSSCompareRule)
        else rule
        for rule in DEFAULT_DIFF_POLICY.global_rules
    ]
    return StandardDiffPolicy(global_rules=rules, form_rule=DEFAULT_DIFF_POLICY.form_rule)


DIFF_POLICY = _policy()
