"""The pages' languages: gettext catalogs read from the ``.po`` files with Babel, and the choice of language.

English is the source language (the msgids); French, Italian, Czech, Swedish and Spanish come from
``locale/<lang>/LC_MESSAGES/messages.po``, compiled in memory when the service starts (no ``.mo`` file is kept in
the repository). A request's language is, in this order: ``?lang=`` (which also sets a cookie), the cookie, the
browser's ``Accept-Language`` (negotiated with Babel), English.

Placeholders are Python's named ``%(name)s`` in page texts (the templates' newstyle gettext escapes what is
substituted) and ``{pilot}`` in the pre-check's advice texts, which :mod:`trustsvc.precheck` formats itself.
"""

from __future__ import annotations

import gettext as _gettext
import io
from datetime import date, datetime, timezone
from functools import lru_cache
from pathlib import Path

from babel import negotiate_locale
from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from starlette.requests import Request

__all__ = [
    "LANGUAGES",
    "LANGUAGE_NAMES",
    "SOURCE_LANGUAGE",
    "LANGUAGE_COOKIE",
    "LOCALE_DIR",
    "N_",
    "catalog_path",
    "translations",
    "load_catalogs",
    "requested_language",
    "choose_language",
    "parse_accept_language",
    "format_moment",
    "format_day",
]

SOURCE_LANGUAGE = "en"
#: The languages of the pages, English (the source) first; ``cs`` is Czech (the Czech pilot is ``cz``).
LANGUAGES: tuple[str, ...] = ("en", "fr", "it", "cs", "sv", "es")
#: Each language by its own name (never translated: a reader looks for their own language).
LANGUAGE_NAMES = {
    "en": "English",
    "fr": "Français",
    "it": "Italiano",
    "cs": "Čeština",
    "sv": "Svenska",
    "es": "Español",
}
LANGUAGE_COOKIE = "trustsvc_lang"
LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"


def N_(text: str) -> str:
    """Mark `text` for extraction into the catalogs without translating it here (the page translates it)."""
    return text


def catalog_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def _compile(language: str) -> Translations:
    with catalog_path(language).open("rb") as po:
        catalog = read_po(po, locale=language, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


@lru_cache(maxsize=1)
def load_catalogs() -> dict[str, _gettext.NullTranslations]:
    """Every language's translations, compiled from its ``.po`` file (once per process)."""
    loaded: dict[str, _gettext.NullTranslations] = {SOURCE_LANGUAGE: _gettext.NullTranslations()}
    for language in LANGUAGES:
        if language != SOURCE_LANGUAGE:
            loaded[language] = _compile(language)
    return loaded


def translations(language: str) -> _gettext.NullTranslations:
    catalogs = load_catalogs()
    return catalogs.get(language) or catalogs[SOURCE_LANGUAGE]


def _known(value: str | None) -> str | None:
    value = (value or "").strip().lower()
    return value if value in LANGUAGES else None


def requested_language(request: Request) -> str | None:
    """The language asked for explicitly with ``?lang=`` (a choice to remember in the cookie), if it is known."""
    return _known(request.query_params.get("lang"))


def parse_accept_language(header: str | None) -> list[str]:
    """The language tags of an ``Accept-Language`` header, most wanted first (``q=0`` and ``*`` dropped)."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((header or "").split(",")[:32]):
        tag, _, params = part.strip().partition(";")
        tag = tag.strip()
        if not tag or tag == "*" or len(tag) > 35:
            continue
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0:
            ranked.append((-quality, position, tag))
    return [tag for _, _, tag in sorted(ranked)]


def choose_language(request: Request, explicit: str | None = None) -> str:
    """The page language: `explicit` (a form's choice), ``?lang=``, the cookie, ``Accept-Language``, English."""
    chosen = _known(explicit) or requested_language(request) or _known(request.cookies.get(LANGUAGE_COOKIE))
    if chosen:
        return chosen
    negotiated = negotiate_locale(parse_accept_language(request.headers.get("accept-language")), LANGUAGES, sep="-")
    return _known(negotiated) or SOURCE_LANGUAGE


def format_moment(moment: datetime | None, language: str) -> str:
    """A date and time in the reader's conventions, always in UTC (and saying so)."""
    if moment is None:
        return "—"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return format_datetime(moment, "medium", tzinfo=timezone.utc, locale=language) + " UTC"


def format_day(day: date | datetime | None, language: str) -> str:
    if day is None:
        return "—"
    if isinstance(day, datetime):
        day = (day if day.tzinfo else day.replace(tzinfo=timezone.utc)).astimezone(timezone.utc).date()
    return format_date(day, "long", locale=language)
