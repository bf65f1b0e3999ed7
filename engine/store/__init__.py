"""Durable state: orders, fills, settlements, breaker state and the audit log (see :mod:`engine.store.base`)."""

from __future__ import annotations

from engine.store.base import DuplicateOrderError, Store, StoreError

__all__ = ["DuplicateOrderError", "Store", "StoreError"]
