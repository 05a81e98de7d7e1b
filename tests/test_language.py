"""The language is chosen once, at the edge (--lang, else the environment read there), and never by
changing the environment: the processes a command starts and the code around it see the same
environment as before."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from booking.i18n import lang


class TestChosenAtTheEdge:
    def test_lang_zh_leaves_the_environment_alone(self, cli: Any) -> None:
        """`--lang zh` speaks Chinese for the command; LANGUAGE is never set, and English comes back after."""
        ran = cli("--lang", "zh", "simulate", "--buyers", "-1")
        assert ran.code == 2 and "至少" in ran.err
        assert "LANGUAGE" not in os.environ
        assert lang.spoken() == "en"

    def test_lang_en_wins_over_a_chinese_locale_for_typers_own_words(
        self, cli: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Typer's words (its usage errors) follow --lang, not the environment, which still says Chinese."""
        monkeypatch.setenv("LANG", "zh_CN.UTF-8")
        ran = cli("--lang", "en", "simulate", "--bogus")
        assert ran.code == 2 and "No such option" in ran.err
        chinese = cli("simulate", "--bogus")
        assert chinese.code == 2 and "没有这个选项" in chinese.err

    def test_a_chinese_locale_is_read_when_no_lang_is_given(self, cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("LANG", "zh_CN.UTF-8")
        assert "至少" in cli("simulate", "--buyers", "-1").err

    def test_the_processes_a_command_starts_see_the_environment_unchanged(
        self, cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, store: Path
    ) -> None:
        """A buyer running your code under --lang zh finds no LANGUAGE its user did not set."""
        (tmp_path / "peek.py").write_text(
            "import os, pathlib\n"
            "def buy(store, buyer, point):\n"
            "    pathlib.Path('seen').write_text(os.environ.get('LANGUAGE', 'unset'))\n"
            "    return 1\n"
        )
        monkeypatch.chdir(tmp_path)
        ran = cli("--lang", "zh", "simulate", "--store", store, "--purchase", "peek:buy", "--buyers", "1", "-q")
        assert ran.code in (0, 1, 4), ran.err
        assert (tmp_path / "seen").read_text() == "unset"
