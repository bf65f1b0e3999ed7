"""``scan`` output that used to mislead: an arb row's edge beside its margin, one exposure listed (and sized)
twice, and no ``--strict`` for scripts. Through the CLI on the shipped example, plus the grouping rule alone."""

from __future__ import annotations

import json
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from arbtui.bets import group_bets, two_way_partners
from arbtui.cli import main
from engine.detection.signals import Side, Signal, SignalKind

EXAMPLE = Path(__file__).parents[2] / "examples" / "snapshot.json"
DET, GB = "KXNFLGAME-26NOV26GBDET-DET", "KXNFLGAME-26NOV26GBDET-GB"
NYR = "KXNHLGAME-26NOV27NYRBOS-NYR"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith(("TRADING_", "PROFILE_", "MAX_", "MAPPING_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def scan(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["scan", str(EXAMPLE), *args])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, captured.out, captured.err


def table_row(text: str, bet: str, kind: str, ticker: str) -> dict[str, str]:
    """The table row of ``(bet, kind, ticker)`` as ``{header: cell}``, cut at the header's column edges."""
    lines = text.splitlines()
    header_at = next(i for i, line in enumerate(lines) if line.startswith("bet "))
    header, rule = lines[header_at], lines[header_at + 1]
    spans, start = [], 0
    for dashes in rule.split("  "):
        spans.append((start, start + len(dashes)))
        start += len(dashes) + 2
    names = [header[a:b].strip() for a, b in spans]
    for line in lines[header_at + 2 :]:
        cells = [line[a:b].strip() for a, b in spans]
        if cells[:3] == [bet, kind, ticker]:
            return dict(zip(names, cells, strict=True))
    raise AssertionError(f"no row {bet} {kind} {ticker} in:\n{text}")


def test_arb_rows_show_the_margin_not_the_edge(capsys: pytest.CaptureFixture[str]) -> None:
    code, text, _ = scan(capsys)
    assert code == 0
    arb = table_row(text, "1", "arb", NYR)
    assert arb["edge"] == "" and arb["margin"] == "0.051734"
    edge = table_row(text, "1 alt", "edge", NYR)
    assert edge["edge"] == "0.071251" and edge["margin"] == ""


def test_same_ticker_and_side_is_one_bet_and_the_arb_is_kept(capsys: pytest.CaptureFixture[str]) -> None:
    code, text, _ = scan(capsys)
    assert code == 0
    kept, alt = table_row(text, "1", "arb", NYR), table_row(text, "1 alt", "edge", NYR)
    assert kept["count"] == "100" and kept["cost"] == "47.40"
    assert (alt["count"], alt["cost"], alt["fees"], alt["EV"]) == ("-", "-", "-", "-")
    assert f"bet 1 alt: edge {NYR} NO is the same exposure as arb {NYR} NO; only that one is sized" in text

    code, out, _ = scan(capsys, "--json")
    signals = json.loads(out)["signals"]
    nyr = [s for s in signals if s["ticker"] == NYR]
    assert [(s["kind"], s["bet"], s["kept"]) for s in nyr] == [("arb", 1, True), ("edge", 1, False)]
    assert nyr[1]["count"] == 0 and nyr[1]["alone"]["count"] == 100 and nyr[1]["alone"]["ev"] == "6.7188"
    assert sum(s["count"] for s in nyr) == 100  # a script summing the contracts counts the exposure once


def test_yes_on_one_team_and_no_on_the_other_is_one_bet(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROFILE_MIN_EDGE", "0.01")
    code, out, _ = scan(capsys, "--profile", "aggressive", "--json")
    assert code == 0
    signals: list[dict[str, Any]] = json.loads(out)["signals"]
    game = [s for s in signals if s["ticker"] in (DET, GB) and s["kind"] == "edge"]
    assert {(s["ticker"], s["side"]) for s in game} == {(DET, "yes"), (GB, "no")}
    assert len({s["bet"] for s in game}) == 1
    (kept,) = [s for s in game if s["kept"]]
    (alt,) = [s for s in game if not s["kept"]]
    assert (kept["ticker"], kept["side"]) == (DET, "yes")  # the higher EV of two equal ways in
    assert Decimal(kept["ev"]) > Decimal(alt["alone"]["ev"]) and alt["count"] == 0

    code, text, _ = scan(capsys, "--profile", "aggressive")
    bet = table_row(text, "1", "edge", DET)["bet"]
    assert table_row(text, f"{bet} alt", "edge", GB)["count"] == "-"
    assert f"edge {GB} NO is the same exposure as edge {DET} YES; only that one is sized" in text


@pytest.mark.parametrize("command", ["scan", "map"])
def test_strict_exits_non_zero_after_the_output_when_entries_were_skipped(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([command, str(EXAMPLE)]) == 0
    relaxed = capsys.readouterr().out
    assert main([command, str(EXAMPLE), "--strict"]) == 3
    captured = capsys.readouterr()
    assert captured.out == relaxed  # the whole report is still printed
    assert captured.err.strip().splitlines()[-1] == f"arbtui {command}: error: --strict: 1 bad snapshot entry skipped"
    assert "Traceback" not in captured.err


def test_strict_passes_a_clean_snapshot(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    doc["kalshi"]["markets"] = [m for m in doc["kalshi"]["markets"] if not m["ticker"].startswith("KXNFLGAME-26NOV30")]
    clean = tmp_path / "clean.json"
    clean.write_text(json.dumps(doc), encoding="utf-8")
    assert main(["scan", str(clean), "--strict"]) == 0
    assert main(["map", str(clean), "--strict"]) == 0
    assert capsys.readouterr().err == ""


def signal(kind: SignalKind, ticker: str, side: Side, ev: str) -> Signal:
    d = Decimal
    return Signal(kind, ticker, side, ticker.rsplit("-", 1)[0], 0.5, {}, 0, d("0.4"), d("0.05"), 10, d("0.4"),
                  d("4"), d("0.1"), d(ev))  # fmt: skip


def test_no_on_a_three_way_market_is_not_yes_on_another() -> None:
    """Soccer: NO on the home team also wins on a draw, so it is not the away team's YES."""
    home, away, tie = "KXEPLGAME-26NOV28ARSCHE-ARS", "KXEPLGAME-26NOV28ARSCHE-CHE", "KXEPLGAME-26NOV28ARSCHE-TIE"
    partners = two_way_partners([(home, away, tie)])
    rows = group_bets(
        [signal(SignalKind.EDGE, home, Side.NO, "2"), signal(SignalKind.EDGE, away, Side.YES, "1")], partners
    )
    assert [(r.bet, r.kept) for r in rows] == [(1, True), (2, True)]


def test_two_way_grouping_keeps_a_locked_profit_over_a_larger_expected_one() -> None:
    a, b = "KXNBAGAME-26NOV28LALBOS-LAL", "KXNBAGAME-26NOV28LALBOS-BOS"
    rows = group_bets(
        [
            signal(SignalKind.EDGE, a, Side.YES, "5"),
            signal(SignalKind.EDGE, b, Side.YES, "4"),
            signal(SignalKind.ARB, b, Side.NO, "3"),
        ],
        two_way_partners([(a, b)]),
    )
    assert [(r.signal.kind, r.signal.ticker, r.bet, r.kept) for r in rows] == [
        (SignalKind.EDGE, b, 1, True),
        (SignalKind.ARB, b, 2, True),
        (SignalKind.EDGE, a, 2, False),
    ]
