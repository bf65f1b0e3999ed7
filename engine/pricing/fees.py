"""Kalshi's fee model and its balance rounding (getting_started/fee_rounding.md).

Two layers: the *trade fee* of the quadratic fee model, ``rate * count * P * (1 - P)`` rounded up to
the centicent; then the *rounding fee* that brings the balance back to the account's precision
($0.01 for non-direct members), offset by whole-cent rebates from a per-order accumulator.
Detection prices with the unrounded per-contract fee; reports show what is actually charged.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from engine.errors import PricingError
from engine.money import CENT, CENTICENT, ONE, ZERO, ceil_to, floor_to

TAKER_RATE = Decimal("0.07")
MAKER_RATE = Decimal("0.0175")  # 0.25 of the taker rate, on series whose fee_type has maker fees
COMBO_MAKER_RATE = Decimal("0.035")  # 0.5 of the taker rate


class FeeType(StrEnum):
    QUADRATIC = "quadratic"
    QUADRATIC_WITH_MAKER_FEES = "quadratic_with_maker_fees"
    QUADRATIC_WITH_COMBO_MAKER_FEES = "quadratic_with_combo_maker_fees"
    FLAT = "flat"


@dataclass(frozen=True, slots=True)
class FeeSchedule:
    """A series' fee structure. ``flat`` follows a table we do not have, so it refuses to price."""

    fee_type: FeeType = FeeType.QUADRATIC
    multiplier: Decimal = ONE
    supported: bool = field(init=False, compare=False, repr=False)
    """False for a fee table arbtui does not model (``flat``): such a schedule refuses to price."""
    _taker: Decimal = field(init=False, compare=False, repr=False)
    _taker_float: float = field(init=False, compare=False, repr=False)
    _maker: Decimal = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        """The rates, taken once: detection asks for them several times per market it evaluates."""
        object.__setattr__(self, "supported", self.fee_type is not FeeType.FLAT)
        object.__setattr__(self, "_taker", TAKER_RATE * self.multiplier)
        object.__setattr__(self, "_taker_float", float(self._taker))
        if self.fee_type is FeeType.QUADRATIC_WITH_MAKER_FEES:
            maker = MAKER_RATE * self.multiplier
        elif self.fee_type is FeeType.QUADRATIC_WITH_COMBO_MAKER_FEES:
            maker = COMBO_MAKER_RATE * self.multiplier
        else:
            maker = ZERO
        object.__setattr__(self, "_maker", maker)

    @property
    def taker_rate(self) -> Decimal:
        self._require_supported()
        return self._taker

    @property
    def taker_rate_float(self) -> float:
        """The taker rate as a float, for the float pre-screens in front of the exact fee math."""
        self._require_supported()
        return self._taker_float

    @property
    def maker_rate(self) -> Decimal:
        self._require_supported()
        return self._maker

    def rate(self, *, maker: bool) -> Decimal:
        return self.maker_rate if maker else self.taker_rate

    def per_contract(self, price: Decimal, *, maker: bool = False) -> Decimal:
        """Unrounded fee for one contract at ``price``: what detection subtracts from the edge."""
        return self.rate(maker=maker) * price * (ONE - price)

    def trade_fee(self, price: Decimal, count: Decimal, *, maker: bool = False) -> Decimal:
        """The fee model's charge for one fill, rounded up to $0.0001 as the exchange does."""
        return ceil_to(self.rate(maker=maker) * count * price * (ONE - price), CENTICENT)

    def _require_supported(self) -> None:
        if not self.supported:
            raise PricingError(f"fee_type {self.fee_type.value!r} uses a fee table arbtui does not model")


DEFAULT_FEES = FeeSchedule()


@dataclass(frozen=True, slots=True)
class FillCharge:
    """What one fill costs in fees once the account's balance precision is restored."""

    trade_fee: Decimal
    rounding_fee: Decimal
    rebate: Decimal
    accumulator: Decimal  # accumulated rounding after this fill, before any rebate is taken out
    balance_change: Decimal  # floored to the precision; the rebate is credited on top of it

    @property
    def net_fee(self) -> Decimal:
        return self.trade_fee + self.rounding_fee - self.rebate


def _balance_step(
    revenue: Decimal, fee: Decimal, accumulated: Decimal, precision: Decimal
) -> tuple[Decimal, Decimal, Decimal, Decimal, Decimal]:
    """One fill's balance arithmetic (``fee`` already in centicents): rounding fee, rebate, accumulator
    before the rebate, balance change, and the accumulator carried to the order's next fill."""
    exact = revenue - fee
    floored = floor_to(exact, precision)
    rounding = exact - floored
    acc = accumulated + rounding
    if acc > precision:
        rebate = floor_to(acc, precision)
        return rounding, rebate, acc, floored, acc - rebate
    return rounding, ZERO, acc, floored, acc


def charge_fill(
    revenue: Decimal, trade_fee: Decimal, accumulated: Decimal, precision: Decimal = CENT
) -> tuple[FillCharge, Decimal]:
    """Apply one fill; returns its charge and the accumulator to carry into the order's next fill.

    ``revenue`` is signed (negative for a buyer). ``trade_fee`` is rounded up to the centicent here too,
    so callers may pass the raw fee-model value.
    """
    fee = ceil_to(trade_fee, CENTICENT)
    rounding, rebate, acc, floored, carried = _balance_step(revenue, fee, accumulated, precision)
    charge = FillCharge(
        trade_fee=fee,
        rounding_fee=rounding,
        rebate=rebate,
        accumulator=acc,
        balance_change=floored,
    )
    return charge, carried


def charge_order(fills: Iterable[tuple[Decimal, Decimal]], precision: Decimal = CENT) -> list[FillCharge]:
    """Charges for the fills of one order, given as ``(revenue, trade_fee)`` pairs in fill order."""
    charges: list[FillCharge] = []
    acc = ZERO
    for revenue, trade_fee in fills:
        charge, acc = charge_fill(revenue, trade_fee, acc, precision)
        charges.append(charge)
    return charges


def buy_fees_charged(
    fills: Iterable[tuple[Decimal, Decimal]], schedule: FeeSchedule, precision: Decimal = CENT
) -> Decimal:
    """Total net fee for buying ``(price, count)`` fills as one taker order, as the exchange charges it:
    :func:`charge_order`'s net fees summed, without building the per-fill records (detection sizes every
    signal with this)."""
    total = ZERO
    acc = ZERO
    for price, count in fills:
        fee = schedule.trade_fee(price, count)  # already in centicents
        rounding, rebate, _, _, acc = _balance_step(-(price * count), fee, acc, precision)
        total += fee + rounding - rebate
    return total
