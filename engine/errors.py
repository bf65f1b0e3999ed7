"""Typed errors that name what was wrong and where, so an operator can act on one line."""

from __future__ import annotations


class ArbError(Exception):
    """Base for every error the engine raises on purpose."""


class PayloadError(ArbError):
    """An API payload (or snapshot entry) is missing a required field or has a malformed one.

    Carries the source, the object's identifier and the field so that one bad market is reported
    precisely and the rest of the batch is still processed.
    """

    def __init__(self, source: str, ident: str, field: str, problem: str) -> None:
        self.source = source
        self.ident = ident
        self.field = field
        self.problem = problem
        super().__init__(f"{source} {ident or '<unknown>'}: field '{field}': {problem}")


class ConfigError(ArbError):
    """A setting or profile value is invalid; the message names the variable."""


class SnapshotError(ArbError):
    """A snapshot file cannot be read at all (missing, not JSON, wrong top-level shape)."""


class PricingError(ArbError):
    """A pricing computation has no meaningful answer for its inputs (e.g. odds of 1.0)."""
