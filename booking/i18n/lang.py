"""The language booking speaks: English by default, Chinese with `--lang zh` or a Chinese locale.

Standard gettext. A user-visible string is an English msgid wrapped in `_()` where it is said (`N_()`
marks one that is translated later, where it is used; `ngettext()` counts); the catalogue is
booking/i18n/locale/zh/LC_MESSAGES/booking.po, compiled to booking.mo beside it (`python scripts/i18n.py`)
and shipped in the package. The language comes from the environment as gettext reads it (LANGUAGE,
LC_ALL, LC_MESSAGES, LANG: the first one set), so `LANG=zh_CN.UTF-8 booking ...` speaks Chinese;
`--lang` sets LANGUAGE for the command, and child processes inherit it. Click's own words (Usage:,
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

_cache: dict[tuple[str | None, ...], Any] = {}  # the environment's language settings -> their translations


def _translations() -> Any:
    """The catalogue for the environment's language (None: English), looked up once per setting."""
    key = tuple(os.environ.get(name) for name in ENVIRONMENT)
    if key not in _cache:
        _cache[key] = None if spoken() == "en" else _load()
    return _cache[key]


def _load() -> Any:
    import gettext

    found = gettext.translation(DOMAIN, str(LOCALE_DIR), fallback=True)
    return None if type(found) is gettext.NullTranslations else found


def spoken() -> str:
    """The language the environment asks for: zh for any Chinese locale, else en."""
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
    """Click says its own words (Usage:, Options:, its errors) through gettext's text domain: make it
    booking's, so they come from booking's catalogue in the language spoken."""
    import gettext

    gettext.bindtextdomain(DOMAIN, str(LOCALE_DIR))
    gettext.textdomain(DOMAIN)


@contextlib.contextmanager
def speaking(code: str | None) -> Iterator[None]:
    """Speak `code` (en or zh) for the block, and to the processes it starts; None: as the environment says."""
    if code is None:
        yield
        return
    before = os.environ.get("LANGUAGE")
    os.environ["LANGUAGE"] = code
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("LANGUAGE", None)
        else:
            os.environ["LANGUAGE"] = before


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
