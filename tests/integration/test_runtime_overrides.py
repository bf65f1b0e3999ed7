"""MAPPING_OVERRIDES_FILE in the running engine, over the simulator: an edit re-maps within a second without
a restart (a block withdraws the market's signals), a bad edit keeps the last good overrides and says why as
an error event and a degraded ``mapping_overrides`` health, and a fixed file is in force again."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.runtime.snapshot import FeedState
from engine.sim import Simulator
from tests.integration.clientkit import eventually
from tests.integration.runtime_kit import feed_state, running_engine, single_market_signal

pytestmark = pytest.mark.integration


def _write(path: Path, doc: object) -> None:
    _replace(path, json.dumps(doc))


def _replace(path: Path, text: str) -> None:
    """All at once, as an editor saving through a rename does: the engine polls the file every 0.1 s and
    would otherwise, now and then, read it half written (and rightly refuse that read instead)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


async def test_overrides_edits_apply_while_running_and_a_bad_edit_keeps_the_last_good_ones(
    sim: Simulator, tmp_path: Path
) -> None:
    overrides = tmp_path / "overrides.json"
    _write(overrides, {"pairs": [], "blocks": []})
    async with running_engine(sim, tmp_path, mapping_overrides_file=overrides) as run:
        engine = run.engine
        signal = await single_market_signal(engine)
        ticker = signal.ticker
        assert ticker in engine.pipeline.universe.mapping.matches
        _write(overrides, {"blocks": [{"ticker": ticker, "reason": "operator checked: wrong game"}]})
        await eventually(lambda: ticker not in engine.pipeline.universe.mapping.matches, timeout_s=10)
        assert all(s.ticker != ticker for s in engine.pipeline.live.values())
        reasons = [u.reason for u in engine.pipeline.universe.mapping.unmatched if u.ticker == ticker]
        assert reasons and "wrong game" in reasons[0]

        _replace(overrides, '{"blocks": [{"tickr": "typo"}], "pairs": [] }')
        await eventually(lambda: feed_state(engine, "mapping_overrides") is FeedState.DEGRADED, timeout_s=10)
        health = next(f for f in engine.feed_health() if f.name == "mapping_overrides")
        assert "tickr" in health.detail and "last good overrides stay in force" in health.detail
        errors = []
        while (event := engine.events.get_nowait()) is not None:
            if event.kind == "error":
                errors.append(event.message)
        assert any("refused" in m and "tickr" in m for m in errors), errors
        assert ticker not in engine.pipeline.universe.mapping.matches  # the block is still in force

        _write(overrides, {"pairs": [], "blocks": []})
        await eventually(lambda: ticker in engine.pipeline.universe.mapping.matches, timeout_s=10)
        assert feed_state(engine, "mapping_overrides") is FeedState.CONNECTED
