"""``arbtui map SNAPSHOT [--json]`` end to end on a snapshot built from the labelled set."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from mapping_labelled import LABELLED

from arbtui.cli import main


def snapshot(tmp_path: Path) -> tuple[Path, dict[str, dict[str, object] | None]]:
    doc = json.loads(LABELLED.read_text(encoding="utf-8"))
    markets = [c["market"] for c in doc["cases"]]
    snap = {"as_of": doc["as_of"], "kalshi": {"markets": markets, "orderbooks": {}, "series": []}, "odds": doc["odds"]}
    path = tmp_path / "snapshot.json"
    path.write_text(json.dumps(snap), encoding="utf-8")
    return path, {c["market"]["ticker"]: c["expect"] for c in doc["cases"]}


def test_map_json_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path, expect = snapshot(tmp_path)
    assert main(["map", str(path), "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["ticker"] for r in rows] == list(expect)
    for row in rows:
        assert {"ticker", "odds_event_id", "outcome", "point", "confidence", "reason"} <= set(row)
        want = expect[row["ticker"]]
        if want is None:
            assert row["odds_event_id"] is None and row["reason"]
        elif row["odds_event_id"] is not None:
            assert (row["odds_event_id"], row["outcome"]) == (want["odds_event_id"], want["outcome"])
    spread = next(r for r in rows if r["ticker"] == "KXMLSSPREAD-26JUN20RSLSJ-RSL1")
    assert (spread["outcome"], spread["point"]) == ("Real Salt Lake", "-1.5")


def test_map_text_and_overrides(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path, _ = snapshot(tmp_path)
    overrides = tmp_path / "overrides.json"
    overrides.write_text(json.dumps({"blocks": [{"event_ticker": "KXNFLGAME-26OCT05ATLNO", "reason": "check"}]}))
    assert main(["map", str(path), "--overrides", str(overrides)]) == 0
    out = capsys.readouterr().out
    assert "UNMATCHED KXNFLGAME-26OCT05ATLNO-ATL: blocked by operator override: check" in out
    assert "KXNFLTOTAL-26OCT05ATLNO-45 -> " in out and "YES=Over 44.5" in out
    assert "NOT PRICED KXLALIGA2GAME: second division" in out


def test_map_missing_file_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["map", str(tmp_path / "nope.json")]) == 1
    assert "does not exist" in capsys.readouterr().err
