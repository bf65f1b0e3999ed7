"""The engine's collector policy: what is alive at an install leaves the collector's walk."""

from __future__ import annotations

import gc

from engine.runtime.heap import frozen_objects, settle


def test_settle_takes_what_is_alive_out_of_the_collectors_walk() -> None:
    gc.unfreeze()
    board = [{"quote": i} for i in range(1000)]
    try:
        assert any(o is board for o in gc.get_objects())
        settle()
        assert frozen_objects() >= len(board)
        assert not any(o is board for o in gc.get_objects())  # the permanent generation is never walked
        later = [-1]
        assert any(o is later for o in gc.get_objects())  # what comes after is collected as before
    finally:
        gc.unfreeze()
