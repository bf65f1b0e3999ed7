"""Field readers shared by the payload parsers: each failure names the source, object and field."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar

from engine.errors import PayloadError
from engine.money import parse_count, parse_decimal, parse_price

T = TypeVar("T")


class FieldReader:
    """Reads typed fields from one JSON object, raising :class:`PayloadError` with full context."""

    __slots__ = ("ident", "obj", "prefix", "source")

    def __init__(
        self, source: str, obj: object, ident_field: str, *, ident: str | None = None, prefix: str = ""
    ) -> None:
        """``ident`` and ``prefix`` name a nested object by its parent's identifier and its path."""
        self.source = source
        self.prefix = prefix
        if not isinstance(obj, Mapping):
            raise PayloadError(source, ident or "", "<object>", f"expected a JSON object, got {type(obj).__name__}")
        self.obj: Mapping[str, Any] = obj
        if ident is not None:
            self.ident = ident
            return
        ident = obj.get(ident_field)
        self.ident = ident if isinstance(ident, str) else ""
        if not self.ident:
            raise PayloadError(source, "", ident_field, "missing or not a non-empty string")

    def fail(self, field: str, problem: str) -> PayloadError:
        return PayloadError(self.source, self.ident, self.prefix + field, problem)

    def _get(self, field: str, required: bool) -> Any:
        if field not in self.obj or self.obj[field] is None:
            if required:
                raise self.fail(field, "missing")
            return None
        return self.obj[field]

    def _convert(self, field: str, value: Any, convert: Callable[[Any], T]) -> T:
        try:
            return convert(value)
        except (ValueError, TypeError) as exc:
            raise self.fail(field, str(exc)) from None

    def string(self, field: str, *, required: bool = True, default: str = "") -> str:
        value = self._get(field, required)
        if value is None:
            return default
        if not isinstance(value, str):
            raise self.fail(field, f"expected a string, got {type(value).__name__}")
        return value

    def price(self, field: str, *, required: bool = True) -> Decimal | None:
        value = self._get(field, required)
        return None if value is None else self._convert(field, value, parse_price)

    def count(self, field: str, *, required: bool = True) -> Decimal | None:
        value = self._get(field, required)
        return None if value is None else self._convert(field, value, parse_count)

    def number(self, field: str, *, required: bool = True) -> Decimal | None:
        """A JSON number or numeric string (e.g. ``floor_strike``), kept exact via its text."""
        value = self._get(field, required)
        if value is None:
            return None
        if isinstance(value, float):
            if not math.isfinite(value):
                raise self.fail(field, f"expected a finite number, got {value!r}")
            return Decimal(repr(value))
        return self._convert(field, value, parse_decimal)

    def amount(self, field: str, *, required: bool = True) -> Decimal | None:
        """A signed exact decimal (balances, costs, P&L, net positions), unlike a 0..1 price."""
        value = self._get(field, required)
        return None if value is None else self._convert(field, value, parse_decimal)

    def integer(self, field: str, *, required: bool = True) -> int | None:
        value = self._get(field, required)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(field, f"expected an integer, got {value!r}")
        return value

    def boolean(self, field: str, *, required: bool = True) -> bool | None:
        value = self._get(field, required)
        if value is None:
            return None
        if not isinstance(value, bool):
            raise self.fail(field, f"expected a boolean, got {value!r}")
        return value

    def timestamp(self, field: str, *, required: bool = True) -> datetime | None:
        value = self._get(field, required)
        if value is None:
            return None
        return self._convert(field, value, parse_timestamp)

    def array(self, field: str, *, required: bool = True) -> list[Any]:
        value = self._get(field, required)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(field, f"expected an array, got {type(value).__name__}")
        return value


def parse_timestamp(value: Any) -> datetime:
    """ISO-8601 (``Z`` or offset) or unix seconds, always returned timezone-aware in UTC."""
    if isinstance(value, bool):
        raise ValueError(f"expected a timestamp, got {value!r}")
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, tz=UTC)
    if not isinstance(value, str):
        raise ValueError(f"expected an ISO-8601 timestamp, got {type(value).__name__}")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"expected an ISO-8601 timestamp, got {value!r}") from None
    if parsed.tzinfo is None:
        raise ValueError(f"timestamp {value!r} has no timezone")
    return parsed.astimezone(UTC)
