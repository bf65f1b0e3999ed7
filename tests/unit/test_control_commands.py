"""The control commands' pure parts: the confirmation rule and the human status summary."""

from __future__ import annotations

from pathlib import Path

import pytest

from arbtui.commands._control import NotConfirmedError, confirm
from arbtui.commands.status import render_status


def no_terminal() -> bool:
    return False


def terminal() -> bool:
    return True


def answering(text: str | None) -> object:
    def ask(_question: str) -> str:
        if text is None:
            raise EOFError
        return text

    return ask


def test_yes_skips_the_question_even_without_a_terminal() -> None:
    confirm("kill", "Kill?", yes=True, interactive=no_terminal, ask=answering(None))  # type: ignore[arg-type]


def test_without_a_terminal_and_without_yes_is_refused_naming_the_flag() -> None:
    with pytest.raises(
        NotConfirmedError, match="refusing to kill without confirmation: no terminal to ask on; add --yes"
    ):
        confirm("kill", "Kill?", yes=False, interactive=no_terminal, ask=answering("y"))  # type: ignore[arg-type]


@pytest.mark.parametrize("answer", ["y", "Y", "yes", " YES "])
def test_on_a_terminal_yes_answers_proceed(answer: str) -> None:
    confirm("resume", "Resume?", yes=False, interactive=terminal, ask=answering(answer))  # type: ignore[arg-type]


@pytest.mark.parametrize("answer", ["", "n", "no", "yes please", "ye", None])
def test_on_a_terminal_anything_else_is_a_no(answer: str | None) -> None:
    with pytest.raises(NotConfirmedError, match="resume not confirmed; nothing was sent"):
        confirm("resume", "Resume?", yes=False, interactive=terminal, ask=answering(answer))  # type: ignore[arg-type]


def test_summary_shows_fields_it_does_not_know_and_marks_missing_ones() -> None:
    text = render_status(
        {"mode": "LIVE", "profile": "STANDARD", "drops": {"ui": 3}, "evaluation_errors": 0, "feeds": {}},
        Path("/srv/arb"),
        4242,
    )
    rows = {line.split("  ", 1)[0]: line.split("  ", 1)[1].strip() for line in text.splitlines() if "  " in line}
    assert rows["engine"] == "PID 4242; data /srv/arb"
    assert rows["mode"] == "LIVE"
    assert rows["breaker"] == "?"
    assert rows["drops"] == "ui 3"
    assert rows["evaluation_errors"] == "0"


def test_summary_of_a_demo_with_a_never_heard_feed() -> None:
    text = render_status(
        {
            "mode": "PAPER",
            "demo": True,
            "breaker": {"state": "halted", "reason": "operator", "limits": {}},
            "feeds": {"odds_api": {"state": "starting", "age_s": None}},
        },
        Path("/d"),
        1,
    )
    assert "PAPER (demo)" in text
    assert "halted: operator" in text
    assert "odds_api  starting  never" in text
