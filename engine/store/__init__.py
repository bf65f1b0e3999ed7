"""Durable state: orders, fills, settlements, breaker state and the audit log (see :mod:`engine.store.base`)."""

from __future__ import annotations

from engine.store.base import DuplicateOrderError, Store, StoreError
from engine.store.factory import open_store
from engine.store.location import StoreLocation, resolve_location

__all__ = ["DuplicateOrderError", "Store", "StoreError", "StoreLocation", "open_store", "resolve_location"]
