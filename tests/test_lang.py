"""Chinese: --lang zh (or a Chinese locale) says the run, the verdict, the stories, the errors and the help
in the notes' language; English stays the default; the catalogue translates every message."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.test_terminal import on_terminal, screens_on_terminal, widest

ROOT = Path(__file__).resolve().parent.parent
LATIN_WORDS = re.compile(r"\b(sees|reads|writes|bought|verdict|buyer|barrier|safety|availability)\b")


def i18n() -> ModuleType:
    """scripts/i18n.py, the catalogue's own tool (extract, compile, check)."""
    spec = importlib.util.spec_from_file_location("i18n", ROOT / "scripts" / "i18n.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["i18n"] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


class TestTheCatalogue:
    def test_every_message_has_a_translation(self) -> None:
        """Every _(), N_() and ngettext() msgid in booking, every help paragraph and every strategy's words
        is translated, with the same {placeholders}, and the shipped .mo is compiled from the .po."""
        tool = i18n()
        assert len(tool.msgids()) > 500
        assert tool.problems() == []

    def test_a_message_without_a_translation_is_found(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """The check can fail: a new message nobody translated is named."""
        tool = i18n()
        found = tool.msgids()
        found["a new message nobody translated"] = tool.Entry("a new message nobody translated", where=["x.py:1"])
        monkeypatch.setattr(tool, "msgids", lambda: found)
        assert any("a new message nobody translated" in p for p in tool.problems())

    def test_a_translation_that_drops_a_fact_is_found(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """A translation whose {placeholders} differ from its msgid's (a number it would not say) is named."""
        tool = i18n()
        po = tool.LOCALE / "zh" / "LC_MESSAGES" / "booking.po"
        copy = tmp_path / "zh" / "LC_MESSAGES" / "booking.po"
        copy.parent.mkdir(parents=True)
        copy.write_text(po.read_text(encoding="utf-8").replace("多卖了 {n} 张", "多卖了几张"), encoding="utf-8")
        monkeypatch.setattr(tool, "LOCALE", tmp_path)
        assert any("placeholders differ" in p and "more sold than existed" in p for p in tool.problems())


class TestChinese:
    def test_the_issue_s_command_speaks_chinese(self, cli: Any, tmp_path: Path) -> None:
        """booking --lang zh simulate --buyers 4 --no-lock: the run and the verdict in the notes' words."""
        ran = cli("--lang", "zh", "simulate", "--buyers", "4", "--no-lock", "--store", tmp_path / "db.json")
        assert ran.code == 1, ran.err
        flat = "".join(ran.out.split())  # Chinese wraps between any two characters: compare without spaces
        assert ran.out.startswith("4 个买家，1 张票，策略 none，调度 lockstep")
        assert len(re.findall(r"毫秒  买家 \d +查看到剩余 1 张票", ran.out)) == 4
        assert len(re.findall(r"毫秒  买家 \d +读到 count=1", ran.out)) == 4
        assert "所有4个买家都读完了；屏障打开：现在开始写入" in flat
        assert ran.out.count("购票成功！（第 1 号票）") == 4
        assert "结论：不安全（UNSAFE）" in ran.out and "超卖3一票多卖1丢失更新3" in flat
        assert "买家1、2、3和4都在有人写入之前就读到了count=1" in flat
        assert not LATIN_WORDS.search(ran.out), ran.out

    @pytest.mark.parametrize(
        ("env", "chinese"),
        [
            ({"LANG": "zh_CN.UTF-8"}, True),
            ({"LC_ALL": "zh_TW.UTF-8", "LANG": "en_US.UTF-8"}, True),
            ({"LANGUAGE": "en", "LANG": "zh_CN.UTF-8"}, False),
            ({"LANG": "C.UTF-8"}, False),
        ],
    )
    def test_the_locale_chooses_when_lang_is_not_given(
        self, cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, env: dict[str, str], chinese: bool
    ) -> None:
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        ran = cli("simulate", "--buyers", "2", "-q", "--no-lock", "--store", tmp_path / "db.json")
        assert ("结论：不安全" in ran.out) is chinese and ("verdict: UNSAFE" in ran.out) is not chinese

    def test_lang_wins_over_the_locale(self, cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("LANG", "zh_CN.UTF-8")
        ran = cli("--lang", "en", "simulate", "-q", "--no-lock", "--store", tmp_path / "db.json")
        assert "verdict: UNSAFE" in ran.out

    def test_errors_in_chinese(self, cli: Any) -> None:
        assert cli("--lang", "zh", "simulate", "--buyers", "0").err == "booking: 错误：--buyers 至少为 1，得到的是 0\n"
        bad = cli("--lang", "zh", "simulate", "--buyers", "abc")
        assert bad.code == 2 and bad.err == "booking: 错误：'--buyers' 的值无效：'abc' 不是有效的 int。\n"
        assert cli("--lang", "fr", "simulate").code == 2
        late = cli("--lang", "zh", "simulate", "--lang", "zh")
        assert late.code == 2 and late.err == (
            "booking: 错误：没有这个选项：--lang（--lang 要写在命令之前：booking --lang zh simulate ...）\n"
        )

    def test_english_stays_the_default(self, cli: Any) -> None:
        assert cli("simulate", "--buyers", "0").err == "booking: error: --buyers must be at least 1, got 0\n"

    def test_help_in_chinese_fits_80_columns(self) -> None:
        """Help in Chinese, measured in columns (a Chinese character takes two), on a real terminal."""
        helps = [["-h"], ["simulate", "-h"], ["lesson", "-h"], ["db", "downgrade", "-h"]]
        screens = screens_on_terminal(*(["--lang", "zh", *args] for args in helps))
        assert len(screens) == len(helps)
        for args, (code, text) in zip(helps, screens, strict=True):
            assert code == 0 and widest_in_columns(text) <= 80, (args, text)
            assert text.startswith("用法：booking") and "选项：" in text, text
            assert "显示本帮助并退出。" in text and "Show this message" not in text

    def test_a_chinese_run_fits_80_columns(self, tmp_path: Path) -> None:
        code, text = on_terminal(
            "--lang", "zh", "simulate", "--buyers", 8, "--no-lock", "--store", tmp_path / "db.json"
        )
        assert code == 1 and widest_in_columns(text) <= 80, text
        assert "结论：不安全" in text and widest(text) <= 80


def widest_in_columns(text: str) -> int:
    from booking.render.text import cells

    return max(cells(line) for line in text.splitlines())
