"""Keep the pages' catalogs in step with the templates and the code (a maintainer's tool, not used at run time).

``python -m trustsvc.web.catalogs`` extracts every text of the templates and of ``trustsvc/web`` (see
``babel.cfg``), adds the pre-check's advice texts (:data:`trustsvc.precheck.ADVICE`), writes ``locale/messages.pot``
and merges it into each language's ``messages.po``: translations are kept, new texts come in untranslated, texts no
page shows any more are dropped. ``tests/test_i18n.py`` then lists what is left to translate.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

from .i18n import DOMAIN, LANGUAGES, LOCALE_DIR, SOURCE_LANGUAGE, catalog_path

__all__ = ["template_catalog", "update_catalogs"]

WEB = Path(__file__).parent
_WIDTH = 116


def template_catalog() -> Catalog:
    """Every text the pages show, as a catalog template."""
    from ..precheck import ADVICE

    template = Catalog(project="trustsvc", version="0.1", msgid_bugs_address="trustsvc maintainers", fuzzy=False)
    template.header_comment = "# The texts of trustsvc's pages (trustsvc/web), with the pre-check's advice texts."
    with (WEB / "babel.cfg").open(encoding="utf-8") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    for _file, _line, message, _comments, _context in extract_from_dir(WEB, method_map, options_map):
        if message:
            template.add(message, flags=("python-format",) if "%(" in message else ())
    for key, text in ADVICE.items():
        flags = ("python-brace-format",) if "{" in text else ()
        template.add(text, auto_comments=[f"trustsvc.precheck.ADVICE[{key!r}]"], flags=flags)
    return template


def update_catalogs() -> dict[str, int]:
    """Write the template and merge it into every language's catalog; the untranslated texts per language."""
    template = template_catalog()
    with (LOCALE_DIR / f"{DOMAIN}.pot").open("wb") as out:
        write_po(out, template, sort_output=True, width=_WIDTH)
    untranslated = {}
    for language in LANGUAGES:
        if language == SOURCE_LANGUAGE:
            continue
        path = catalog_path(language)
        with path.open("rb") as po:
            catalog = read_po(po, locale=language, domain=DOMAIN)
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        with path.open("wb") as out:
            write_po(out, catalog, sort_output=True, width=_WIDTH, ignore_obsolete=True)
        untranslated[language] = sum(1 for message in catalog if message.id and not message.string)
    return untranslated


if __name__ == "__main__":
    for language, count in update_catalogs().items():
        print(f"{language}: {count} texts to translate")
