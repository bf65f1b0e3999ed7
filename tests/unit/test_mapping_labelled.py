"""The labelled set: zero false matches and recall of at least 97% across every league and market kind."""

from __future__ import annotations

import pytest
from mapping_labelled import load, score

from engine.mapping.resolver import resolve


def test_labelled_set_is_large_and_covers_every_kind() -> None:
    cases, events = load()
    assert len(cases) >= 200
    series = {c.market.series_ticker for c in cases if c.expect is not None}
    for needed in ("KXNFLGAME", "KXNBAGAME", "KXMLBGAME", "KXNHLGAME", "KXWNBAGAME", "KXNCAAFGAME", "KXNCAAMBGAME"):
        assert needed in series
    assert any(s.endswith("SPREAD") for s in series) and any(s.endswith("TOTAL") for s in series)
    assert any(s in series for s in ("KXEPLGAME", "KXMLSGAME"))
    assert sum(1 for c in cases if c.expect is None) >= 10, "needs traps that must stay unmatched"
    assert len(events) >= 60


def test_zero_false_matches_and_recall(capsys: pytest.CaptureFixture[str]) -> None:
    cases, events = load()
    result = resolve([c.market for c in cases], events)
    s = score(cases, result)
    with capsys.disabled():
        summary = f"recall {s.recall:.3f} ({s.correct}/{s.matchable}), false {len(s.false_matches)}"
        print(f"\nmapping labelled set: {summary}")
    assert s.false_matches == []
    assert s.recall >= 0.97, "\n".join(s.missed)


def test_every_market_gets_an_answer() -> None:
    cases, events = load()
    result = resolve([c.market for c in cases], events)
    answered = set(result.matches) | {u.ticker for u in result.unmatched}
    assert answered == {c.market.ticker for c in cases}
    assert all(u.reason for u in result.unmatched)
