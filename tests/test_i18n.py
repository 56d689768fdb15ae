"""The pages' languages: every text the pages show has a translation in every catalog, with the same placeholders;
the catalogs are up to date with the templates and the code; every code the service emits has words; the reader's
language is negotiated as documented.

Like DSS's ``MessageTagTest.allMessagesPresent``: a msgid added to a template or to the vocabulary without its five
translations fails here, not in front of a bidder.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from starlette.requests import Request

from trustsvc.policy.schema import RULE_IDS, SIGNATURE_QUALIFICATIONS
from trustsvc.precheck import ADVICE, PILOT_NAMES
from trustsvc.trust.agreement import PILOTS, EntryStatus
from trustsvc.trust.qualification import CertQualification
from trustsvc.trust.tsl_model import ServiceStatus
from trustsvc.verdict import Decision, Indication, RuleResult, SubIndication
from trustsvc.web import i18n, vocabulary
from trustsvc.web.i18n import LANGUAGES, LOCALE_DIR, choose_language, parse_accept_language, translations

WEB = Path(i18n.__file__).parent
TRANSLATED = tuple(lang for lang in LANGUAGES if lang != "en")
_PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|\{(\w+)\}")


def _catalog(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as f:
        return read_po(f, locale=locale)


def _placeholders(text: str) -> list[str]:
    return sorted("".join(match) for match in _PLACEHOLDER.findall(text))


def _shown_texts() -> set[str]:
    """Every msgid of the templates and of trustsvc/web's Python (``_``, ``N_``...), and the pre-check's advice."""
    with (WEB / "babel.cfg").open(encoding="utf-8") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found = {message for _file, _line, message, _comments, _context in extract_from_dir(WEB, method_map, options_map)}
    assert all(isinstance(message, str) for message in found), "plural forms are not used by the pages"
    return found | set(ADVICE.values())


@pytest.fixture(scope="module")
def template() -> Catalog:
    return _catalog(LOCALE_DIR / "messages.pot")


def test_the_template_holds_exactly_what_the_pages_show(template):
    in_template = {message.id for message in template if message.id}
    shown = _shown_texts()
    assert sorted(shown - in_template) == [], "new texts: run pybabel extract (see babel.cfg) and translate them"
    assert sorted(in_template - shown) == [], "texts no page shows any more: remove them from the catalogs"
    assert len(shown) > 350


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_text_is_translated_with_the_same_placeholders(template, language):
    catalog = _catalog(i18n.catalog_path(language), language)
    assert str(catalog.locale) == language
    translated = {message.id: message for message in catalog if message.id}
    assert set(translated) == {message.id for message in template if message.id}
    problems = []
    for msgid, message in sorted(translated.items()):
        text = message.string
        if not isinstance(text, str) or not text.strip():
            problems.append(f"untranslated: {msgid!r}")
        elif message.fuzzy:
            problems.append(f"fuzzy: {msgid!r}")
        elif _placeholders(text) != _placeholders(msgid):
            problems.append(f"placeholders differ: {msgid!r} -> {text!r}")
        elif text.strip() != text or "  " in text:
            problems.append(f"stray spaces: {text!r}")
    assert problems == []


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_catalogs_compile_and_translate(language):
    catalog = translations(language)
    for msgid in ("Accepted", "Valid", "Qualified certificate for electronic signatures", ADVICE["R-QC-SIG"]):
        assert catalog.gettext(msgid) != msgid
    # the advice keeps its {pilot} for trustsvc.precheck to fill in
    assert "{pilot}" in catalog.gettext(ADVICE["R-QSCD"])


def test_a_few_translations_read_as_they_should():
    expected = {
        "fr": {"Accepted": "Accepté", "Rejected": "Refusé", "Valid": "Valide", "Czech Republic": "République tchèque"},
        "it": {"Accepted": "Accettata", "Rejected": "Respinta", "Valid": "Valida", "Sweden": "Svezia"},
        "cs": {"Accepted": "Přijato", "Rejected": "Zamítnuto", "Valid": "Platný", "Spain": "Španělsko"},
        "sv": {"Accepted": "Godkänd", "Rejected": "Avvisad", "Valid": "Giltig", "Italy": "Italien"},
        "es": {"Accepted": "Aceptada", "Rejected": "Rechazada", "Valid": "Válida", "France": "Francia"},
    }
    for language, pairs in expected.items():
        catalog = translations(language)
        assert {msgid: catalog.gettext(msgid) for msgid in pairs} == pairs
        assert catalog.gettext("Qualified certificate for electronic signatures") != ""
    assert translations("en").gettext("Accepted") == "Accepted"


def test_every_code_the_service_emits_has_words():
    assert set(vocabulary.DECISIONS) == {d.value for d in Decision} == set(vocabulary.DECISION_MARKS)
    assert set(vocabulary.INDICATIONS) == {i.value for i in Indication} == set(vocabulary.INDICATION_MARKS)
    assert set(vocabulary.SUBINDICATIONS) == {s.value for s in SubIndication}
    assert set(vocabulary.RULES) == set(RULE_IDS) | {"OUTCOME", "POLICY"}
    assert set(vocabulary.RULE_RESULTS) == {r.value for r in RuleResult} == set(vocabulary.RULE_RESULT_MARKS)
    assert set(vocabulary.SIGNATURE_QUALIFICATIONS) == set(SIGNATURE_QUALIFICATIONS)
    assert set(vocabulary.CERTIFICATE_QUALIFICATIONS) == {q.value for q in CertQualification}
    assert set(vocabulary.SERVICE_STATUSES) == {s.value for s in ServiceStatus}
    assert set(vocabulary.ENTRY_STATUSES) == {s.value for s in EntryStatus}
    assert set(vocabulary.PILOTS) == set(PILOTS) | {"procure"} == set(PILOT_NAMES)
    assert set(vocabulary.PILOT_LANGUAGES) == set(vocabulary.PILOTS)
    assert set(vocabulary.PILOT_LANGUAGES.values()) <= set(LANGUAGES)


def _request(query: str = "", cookie: str | None = None, accept: str | None = None) -> Request:
    headers = []
    if cookie:
        headers.append((b"cookie", f"trustsvc_lang={cookie}".encode()))
    if accept is not None:
        headers.append((b"accept-language", accept.encode()))
    return Request({"type": "http", "method": "GET", "path": "/", "query_string": query.encode(), "headers": headers})


@pytest.mark.parametrize(
    ("query", "cookie", "accept", "language"),
    [
        ("", None, None, "en"),
        ("", None, "cs-CZ,cs;q=0.9,en;q=0.8", "cs"),
        ("", None, "de-AT, de;q=0.9, sv-FI;q=0.8", "sv"),
        ("", None, "en;q=0.1, es-ES;q=0.9", "es"),
        ("", None, "it;q=0, fr;q=0.5", "fr"),
        ("", None, "*, de", "en"),
        ("", None, "FR-be", "fr"),
        ("", None, "fr;q=nonsense, it;q=0.2", "it"),
        ("", "it", "fr", "it"),
        ("", "klingon", "fr", "fr"),
        ("lang=sv", "it", "fr", "sv"),
        ("lang=ES", None, None, "es"),
        ("lang=de", "cs", None, "cs"),
    ],
)
def test_the_language_is_the_query_then_the_cookie_then_the_browsers(query, cookie, accept, language):
    assert choose_language(_request(query, cookie, accept)) == language


def test_a_forms_explicit_choice_comes_first():
    assert choose_language(_request("lang=sv", "it", "fr"), explicit="cs") == "cs"
    assert choose_language(_request("lang=sv"), explicit="xx") == "sv"


def test_accept_language_is_read_by_quality_then_order():
    assert parse_accept_language("da, en-GB;q=0.8, en;q=0.7, *;q=0.1") == ["da", "en-GB", "en"]
    assert parse_accept_language("fr;q=0.5, it, es;q=0.5") == ["it", "fr", "es"]
    assert parse_accept_language("") == [] and parse_accept_language(None) == []
    assert parse_accept_language("x" * 40 + ", fr") == ["fr"]
