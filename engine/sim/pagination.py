"""Opaque cursor pagination as Kalshi serves it: a page, then a cursor that is empty on the last page."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")


class CursorError(ValueError):
    """A cursor this server did not issue."""


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def decode_cursor(cursor: str) -> int:
    if not cursor:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise CursorError(f"invalid cursor {cursor[:40]!r}") from None
    prefix, _, number = text.partition(":")
    if prefix != "offset" or not number.isdigit():
        raise CursorError(f"invalid cursor {cursor[:40]!r}")
    return int(number)


def page(items: Sequence[T], cursor: str, limit: int) -> tuple[list[T], str]:
    """One page of ``items`` from ``cursor``; the returned cursor is "" when nothing follows."""
    start = decode_cursor(cursor)
    chunk = list(items[start : start + limit])
    end = start + len(chunk)
    return chunk, encode_cursor(end) if end < len(items) else ""
