"""booking's message catalogue: extract, merge, compile and check, in pure Python (no GNU gettext or Babel).

    python scripts/i18n.py          extract the msgids, merge them into each .po, compile each .mo
    python scripts/i18n.py check    exit 1 naming every msgid without a translation, a translation whose
                                    {placeholders} differ from its msgid's, or a .mo older than its .po

The msgids are every string literal booking passes to _(), N_() or ngettext() (found in the source by
its syntax tree, as xgettext would), and every paragraph of the command line's help texts (found in the
command Typer builds). booking/i18n/locale/booking.pot lists them; booking/i18n/locale/<lang>/LC_MESSAGES/booking.po
translates them, and booking.mo beside it is what gettext reads (shipped in the package).
"""

from __future__ import annotations

import ast
import string
import struct
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "booking"
LOCALE = PACKAGE / "i18n" / "locale"
POT = LOCALE / "booking.pot"
CALLS = {"_": 1, "N_": 2, "ngettext": 2}  # function -> how many leading string arguments are msgids
HEADER = {
    "zh": (
        "Project-Id-Version: booking\n"
        "Language: zh\n"
        "MIME-Version: 1.0\n"
        "Content-Type: text/plain; charset=UTF-8\n"
        "Content-Transfer-Encoding: 8bit\n"
        "Plural-Forms: nplurals=1; plural=0;\n"
    )
}


@dataclass
class Entry:
    msgid: str
    plural: str | None = None
    msgstr: list[str] = field(default_factory=lambda: [""])
    where: list[str] = field(default_factory=list)


def source_msgids() -> dict[str, Entry]:
    """The msgids of every _(), N_() and ngettext() call in booking's source."""
    found: dict[str, Entry] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in CALLS):
                continue
            texts = [a.value for a in node.args[: CALLS[node.func.id]] if isinstance(a, ast.Constant)]
            if not texts or not all(isinstance(t, str) for t in texts):
                continue
            entry = found.setdefault(texts[0], Entry(texts[0], texts[1] if len(texts) > 1 else None))
            entry.where.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def help_msgids() -> dict[str, Entry]:
    """Every paragraph of the command line's help texts, in English."""
    sys.path.insert(0, str(ROOT))
    import typer

    from booking.cli import app
    from booking.cli.lang import help_texts
    from booking.i18n.lang import speaking

    with speaking("en"):
        return {text: Entry(text, where=["(help)"]) for text in help_texts(typer.main.get_command(app))}


def strategy_msgids() -> dict[str, Entry]:
    """What `booking strategies` says of each strategy: its description and its scope."""
    from booking.strategies import STRATEGIES

    texts = [t for s in STRATEGIES.values() for t in (s.description, s.scope)]
    return {text: Entry(text, where=["(strategies)"]) for text in texts}


def msgids() -> dict[str, Entry]:
    found = help_msgids()
    found.update({k: v for k, v in strategy_msgids().items() if k not in found})
    for msgid, entry in source_msgids().items():
        if msgid in found:
            found[msgid].where += entry.where
            found[msgid].plural = found[msgid].plural or entry.plural
        else:
            found[msgid] = entry
    return found


# -- .po files


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t") + '"'


def _unquote(text: str) -> str:
    return ast.literal_eval(text)  # a .po string is a Python string literal as far as booking writes them


def read_po(path: Path) -> dict[str, Entry]:
    entries: dict[str, Entry] = {}
    current: Entry | None = None
    key = ""
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        if not line.strip() or line.startswith("#"):
            if current is not None and not line.strip():
                entries[current.msgid] = current
                current = None
            continue
        word, _, rest = line.partition(" ")
        if line.startswith('"'):
            value = _unquote(line)
        elif word == "msgid":
            current, key, value = Entry(_unquote(rest), msgstr=[]), "msgid", ""
        else:
            key, value = word, _unquote(rest)
            if word.startswith("msgstr"):
                assert current is not None
                current.msgstr.append("")
        assert current is not None
        if key == "msgid":
            current.msgid += value
        elif key == "msgid_plural":
            current.plural = (current.plural or "") + value
        else:
            current.msgstr[-1] += value
    return entries


def write_po(path: Path, entries: list[Entry], header: str) -> None:
    lines = [f"msgid {_quote('')}", f"msgstr {_quote(header)}", ""]
    for e in entries:
        lines += [f"#: {w}" for w in e.where[:3]]
        lines.append(f"msgid {_quote(e.msgid)}")
        if e.plural is not None:
            lines.append(f"msgid_plural {_quote(e.plural)}")
            lines += [f"msgstr[{i}] {_quote(s)}" for i, s in enumerate(e.msgstr or [""])]
        else:
            lines.append(f"msgstr {_quote(e.msgstr[0] if e.msgstr else '')}")
        lines.append("")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines), encoding="utf-8")


def compile_mo(entries: dict[str, Entry], header: str) -> bytes:
    """GNU .mo bytes (the format Python's gettext reads), translated entries only."""
    pairs = {b"": header.encode()}
    for e in entries.values():
        if e.msgid and any(e.msgstr):
            key = e.msgid.encode() + (b"\0" + e.plural.encode() if e.plural is not None else b"")
            pairs[key] = "\0".join(e.msgstr).encode()
    keys = sorted(pairs)
    ids = strs = b""
    offsets = []
    for k in keys:
        offsets.append((len(ids), len(k), len(strs), len(pairs[k])))
        ids += k + b"\0"
        strs += pairs[k] + b"\0"
    start = 7 * 4 + 16 * len(keys)
    table: list[int] = []
    for o1, l1, _o2, _l2 in offsets:
        table += [l1, start + o1]
    for _o1, _l1, o2, l2 in offsets:
        table += [l2, start + len(ids) + o2]
    head = struct.pack("Iiiiiii", 0x950412DE, 0, len(keys), 7 * 4, 7 * 4 + 8 * len(keys), 0, 0)
    return head + struct.pack(f"{len(table)}i", *table) + ids + strs


def catalogues() -> list[Path]:
    return sorted(LOCALE.glob("*/LC_MESSAGES/booking.po"))


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def problems() -> list[str]:
    """What is wrong with the catalogues: untranslated msgids, placeholders that differ, stale .mo files."""
    wanted = msgids()
    out: list[str] = []
    for po in catalogues():
        lang = po.parent.parent.name
        have = read_po(po)
        for msgid, entry in wanted.items():
            got = have.get(msgid)
            if got is None or not all(s.strip() for s in got.msgstr):
                out.append(f"{lang}: no translation of {msgid!r} ({', '.join(entry.where[:2])})")
            elif "{" in msgid or "{" in "".join(got.msgstr):
                # every fact the msgid says, the translation says (a plural form: its singular's or its plural's)
                forms = [placeholders(msgid)] + ([placeholders(entry.plural)] if entry.plural else [])
                for s in got.msgstr:
                    if placeholders(s) not in forms:
                        out.append(f"{lang}: {msgid!r}: the translation's placeholders differ: {s!r}")
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.read_bytes() != compile_mo(have, HEADER[lang]):
            out.append(f"{lang}: {mo} is not compiled from its .po: run python scripts/i18n.py")
    return out


def main() -> int:
    if sys.argv[1:] == ["check"]:
        found = problems()
        for problem in found:
            print(problem)
        return 1 if found else 0
    wanted = msgids()
    write_po(POT, list(wanted.values()), "Content-Type: text/plain; charset=UTF-8\n")
    for po in catalogues() or [LOCALE / "zh" / "LC_MESSAGES" / "booking.po"]:
        lang = po.parent.parent.name
        have = read_po(po) if po.exists() else {}
        merged = []
        for msgid, entry in wanted.items():
            old = have.get(msgid)
            if old is not None:
                entry.msgstr = old.msgstr
            merged.append(entry)
        dropped = sorted(set(have) - set(wanted) - {""})
        for msgid in dropped:
            print(f"{lang}: dropped {msgid!r} (no longer said)")
        write_po(po, merged, HEADER[lang])
        po.with_suffix(".mo").write_bytes(compile_mo(read_po(po), HEADER[lang]))
        missing = sum(1 for e in merged if not all(s.strip() for s in e.msgstr))
        print(f"{po.relative_to(ROOT)}: {len(merged)} messages, {missing} untranslated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
