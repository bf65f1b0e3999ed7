"""SVG snapshots of the main screen in a frozen state, at 120x35 (usable) and 160x50 (good).

Everything that moves is frozen: both clocks stand still (ages come from the pinned clock), the simulator
does not step, the loop-lag monitor reads a still clock, the app pulls only on mount (and waits there for
the selected signal's detail). What still moved was the activity log's scroll: ``RichLog`` scrolls to its
end in a callback after a refresh, and whether that refresh had come before the screenshot depended on how
busy the loop was (the tests run before it in a full suite), so the picture showed the log one line short
of its end now and then. The test now waits until the log stands at its end. The snapshot runs in
the test's own event loop (where the engine, store and simulator live), through pytest-textual-snapshot's
SVG extension; update with ``pytest tests/ui/test_screens_svg.py --snapshot-update`` after a deliberate
change, and look at the new SVG before committing it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pytest_textual_snapshot import SVGImageExtension
from syrupy.assertion import SnapshotAssertion
from textual.pilot import Pilot

from arbtui.app.app import Dashboard, build_app
from tests.ui.kit import frozen_demo

pytestmark = pytest.mark.integration


async def settled(pilot: Pilot[int], app: Dashboard) -> None:
    """Wait until nothing on screen will move by itself: the detail in, the activity log at its end."""
    await app.detail_settled()
    log = app.activity
    for _ in range(100):
        await pilot.pause()
        await pilot.wait_for_scheduled_animations()
        if log.lines and log.scroll_y == log.max_scroll_y:
            return
        if log.lines:
            # a relayout (a scrollbar appearing) can grow the log after its last write scrolled it: the log
            # follows its end, so put it there as it would be a moment later
            log.scroll_end(animate=False, immediate=True)
    pytest.fail(f"the activity log never reached its end (at {log.scroll_y} of {log.max_scroll_y})")


@pytest.mark.parametrize("size", [(120, 35), (160, 50)], ids=["120x35", "160x50"])
async def test_main_screen(size: tuple[int, int], tmp_path: Path, snapshot: SnapshotAssertion) -> None:
    async with frozen_demo(tmp_path) as demo:
        app = build_app(demo.engine, owns_engine=True, refresh_hz=0)
        async with app.run_test(size=size) as pilot:
            await settled(pilot, app)
            svg = app.export_screenshot(title="arbtui")
        assert svg == snapshot.use_extension(SVGImageExtension)
