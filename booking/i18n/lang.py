"""The language booking speaks: English by default, Chinese with `--lang zh` or a Chinese locale.

Standard gettext. A user-visible string is an English msgid wrapped in `_()` where it is said (`N_()`
marks one that is translated later, where it is used; `ngettext()` counts); the catalogue is
booking/i18n/locale/zh/LC_MESSAGES/booking.po, compiled to booking.mo beside it (`python scripts/i18n.py`)
and shipped in the package. The language is chosen once, at the edge: `--lang`, else the environment
as gettext reads it (LANGUAGE, LC_ALL, LC_MESSAGES, LANG: the first one set), so `LANG=zh_CN.UTF-8
booking ...` speaks Chinese; buyers and sellers are told it when they start. Click's own words (Usage:,
Options:, its errors) come from the same catalogue: the application's text domain is booking's.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

DOMAIN = "booking"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
LANGUAGES = ("en", "zh")  # English is the msgids themselves
ENVIRONMENT = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")  # gettext's order: the first one set decides

_chosen: str | None = None  # the language chosen at the edge (the command line, a child's start); None: not yet
_catalogues: dict[str, Any] = {}  # a language -> its translations (None: English, the msgids themselves)


def _translations() -> Any:
    """The catalogue of the language spoken, loaded once per language."""
    code = spoken()
    if code not in _catalogues:
        _catalogues[code] = None if code == "en" else _load(code)
    return _catalogues[code]


def _load(code: str) -> Any:
    import gettext

    found = gettext.translation(DOMAIN, str(LOCALE_DIR), languages=[code], fallback=True)
    return None if type(found) is gettext.NullTranslations else found


def spoken() -> str:
    """The language spoken: the one chosen (`speaking`), else the environment's."""
    return _chosen if _chosen is not None else from_environment()


def from_environment() -> str:
    """The language the environment asks for, as gettext reads it: zh for any Chinese locale, else en."""
    for name in ENVIRONMENT:
        value = os.environ.get(name)
        if value:
            first = value.split(":")[0].strip().lower()
            return "zh" if first.startswith("zh") else "en"
    return "en"


def _(message: str) -> str:
    """`message` in the language spoken (the English msgid when there is no translation)."""
    found = _translations()
    return message if found is None else str(found.gettext(message))


def ngettext(singular: str, plural: str, n: int) -> str:
    found = _translations()
    if found is None:
        return singular if n == 1 else plural
    return str(found.ngettext(singular, plural, n))


def N_(message: str, plural: str | None = None) -> str:
    """Marks `message` (and its `plural`, for a message said with ngettext elsewhere) for the catalogue;
    it is translated where it is used, with `_()`."""
    return message


def take_over_click() -> None:
    """Typer's click says its own words (Usage:, Options:, its errors) through gettext's text domain: make
    it booking's, and answer its look-ups from the language spoken, not from the environment."""
    import gettext

    gettext.bindtextdomain(DOMAIN, str(LOCALE_DIR))
    gettext.textdomain(DOMAIN)
    if getattr(gettext.dgettext, "booking", False):
        return
    plain, plural = gettext.dgettext, gettext.dngettext

    def dgettext(domain: str, message: str) -> str:
        return _(message) if domain == DOMAIN else plain(domain, message)

    def dngettext(domain: str, msgid1: str, msgid2: str, n: int) -> str:
        return ngettext(msgid1, msgid2, n) if domain == DOMAIN else plural(domain, msgid1, msgid2, n)

    dgettext.booking = dngettext.booking = True  # type: ignore[attr-defined]
    gettext.dgettext, gettext.dngettext = dgettext, dngettext


@contextlib.contextmanager
def speaking(code: str | None) -> Iterator[None]:
    """Speak `code` (en or zh) for the block; None: as the environment says, read once, here. Chosen once at
    the edge (the command line, a child process's start), never by changing the environment."""
    global _chosen
    before = _chosen
    _chosen = code if code in LANGUAGES else from_environment()
    try:
        yield
    finally:
        _chosen = before


def use(code: str) -> None:
    """Speak `code` from now on in this process (a buyer or seller, told its run's language at its start)."""
    global _chosen
    _chosen = code if code in LANGUAGES else "en"


def asked_for(args: list[str]) -> str | None:
    """The `--lang` among the global options, before the command (None when not given, or not one we speak)."""
    for i, arg in enumerate(args):
        if arg == "--lang" and i + 1 < len(args):
            value = args[i + 1]
        elif arg.startswith("--lang="):
            value = arg.removeprefix("--lang=")
        elif arg.startswith("-"):
            continue
        else:
            return None  # the command: options after it are its own
        return value if value in LANGUAGES else None
    return None
