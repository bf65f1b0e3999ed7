"""``arbtui bench --only detection`` on small boards: every figure is taken (median, p99, minimum and count),
the growth between sizes is reported, and the checks it runs before timing (screened pass, board and exact
rules agree) hold."""

from __future__ import annotations

from engine.bench.detection import bench_detection

FIGURES = (
    "cold_full_pass_ms",
    "cold_full_pass_gc_off_ms",
    "board_load_ms",
    "scan_detection_ms",
    "exact_rules_every_market_ms",
    "warm_rescreen_ms",
    "quote_change_us",
    "quote_repeat_us",
)


def test_detection_bench_reports_every_figure_and_the_growth() -> None:
    out = bench_detection((40, 80), repeat=5)
    assert [b["markets"] for b in out["boards"]] == [40, 80]
    for board in out["boards"]:
        for name in FIGURES:
            figure = board[name]
            assert figure["n"] >= 5, name
            assert 0 < figure["min"] <= figure["median"] <= figure["p99"], (name, figure)
    assert board["quote_repeat_us"]["n"] == 40  # one repeat per game of the larger board
    assert set(out["growth"]) == set(FIGURES)
    assert out["environment"]["python"]
