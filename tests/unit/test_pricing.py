"""Odds conversion, vig removal, Kalshi fees (every worked example in fee_rounding.md) and Kelly."""

from __future__ import annotations

import itertools
import math
from decimal import Decimal

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from engine.errors import PricingError
from engine.money import CENT, CENTICENT, ZERO
from engine.pricing.fees import (
    DEFAULT_FEES,
    FeeSchedule,
    FeeType,
    buy_fees_charged,
    charge_order,
)
from engine.pricing.kelly import kelly_fraction
from engine.pricing.odds import (
    american_stake,
    american_to_decimal,
    american_to_probability,
    decimal_to_american,
    implied_probability,
)
from engine.pricing.vig import VigMethod, additive, multiplicative, power, remove_vig, shin

D = Decimal
american = st.one_of(st.integers(-100_000, -101), st.integers(100, 100_000))


# --- odds ---------------------------------------------------------------------------------------


@given(american)
def test_american_decimal_round_trip(a: int) -> None:
    back = decimal_to_american(american_to_decimal(a))
    assert abs(back - a) < D("1e-15")


@given(american)
def test_probability_matches_decimal(a: int) -> None:
    assert math.isclose(american_to_probability(a), float(implied_probability(american_to_decimal(a))))


def test_known_conversions() -> None:
    assert american_to_decimal(130) == D("2.3")
    assert american_to_decimal(-150) == 1 + D(100) / D(150)
    assert american_to_decimal(100) == american_to_decimal(-100) == D(2)
    assert american_stake(-150) == D("0.6")
    assert american_stake(300) == D("0.25")


@pytest.mark.parametrize("bad", [0, 50, -99])
def test_invalid_american_odds_rejected(bad: int) -> None:
    with pytest.raises(PricingError):
        american_to_decimal(bad)
    with pytest.raises(PricingError):
        american_to_probability(bad)


def test_invalid_decimal_odds_rejected() -> None:
    with pytest.raises(PricingError):
        implied_probability(D(1))


# --- vig removal --------------------------------------------------------------------------------

VECTOR = [0.6, 100 / 230]  # -150 / +130 from the reference


def test_reference_vector() -> None:
    m = multiplicative(VECTOR)
    assert m[0] == pytest.approx(0.57983, abs=5e-6) and m[1] == pytest.approx(0.42017, abs=5e-6)
    a = additive(VECTOR)
    assert a[0] == pytest.approx(0.58261, abs=5e-6) and a[1] == pytest.approx(0.41739, abs=5e-6)
    s = shin(VECTOR)
    assert s[0] == pytest.approx(a[0], abs=1e-10) and s[1] == pytest.approx(a[1], abs=1e-10)
    p = power(VECTOR)
    assert p[0] == pytest.approx(0.58398, abs=5e-6) and p[1] == pytest.approx(0.41602, abs=5e-6)
    k = math.log(p[0]) / math.log(VECTOR[0])
    assert k == pytest.approx(1.05297, abs=5e-6)


@st.composite
def books(draw: st.DrawFn) -> list[float]:
    """Raw implied probabilities of a 2- or 3-way market with a 0..12% overround."""
    weights = draw(st.lists(st.floats(0.05, 1.0), min_size=2, max_size=3))
    overround = draw(st.floats(0.0, 0.12))
    total = sum(weights)
    raw = [w / total * (1 + overround) for w in weights]
    assume(all(0 < r < 1 for r in raw))
    return raw


@pytest.mark.parametrize("method", list(VigMethod))
@given(raw=books())
def test_vig_methods_sum_to_one_within_bounds(method: VigMethod, raw: list[float]) -> None:
    try:
        fair = remove_vig(raw, method)
    except PricingError:
        assert method is VigMethod.ADDITIVE  # the only method allowed to refuse
        return
    assert math.fsum(fair) == pytest.approx(1.0, abs=1e-12)
    assert all(0.0 <= p <= 1.0 for p in fair)
    # Removing the margin never changes the order of the outcomes, up to float rounding: two prices an ulp
    # apart can come out equal, or an ulp the other way round.
    for i, j in itertools.permutations(range(len(raw)), 2):
        if raw[i] < raw[j]:
            assert fair[i] <= fair[j] * (1 + 1e-12), (i, j)


@given(st.floats(0.05, 0.9), st.floats(0.0, 0.06))
def test_shin_equals_additive_for_two_outcomes(p: float, margin: float) -> None:
    raw = [p + margin / 2, 1 - p + margin / 2]
    assume(all(0 < r < 1 for r in raw))
    assert shin(raw) == pytest.approx(additive(raw), abs=1e-9)


def test_power_never_negative_on_long_shots() -> None:
    raw = [0.9, 0.08, 0.08]
    with pytest.raises(PricingError):
        additive([0.95, 0.01, 0.01, 0.01, 0.1])
    assert all(p > 0 for p in power(raw))


def test_vig_rejects_bad_inputs() -> None:
    with pytest.raises(PricingError):
        power([0.5])
    with pytest.raises(PricingError):
        power([1.2, 0.3])


# --- fees ---------------------------------------------------------------------------------------


def test_trade_fee_rounds_up_to_centicent() -> None:
    # 0.07 * 1 * 0.42 * 0.58 = 0.017052 -> 0.0171
    assert DEFAULT_FEES.trade_fee(D("0.42"), D(1)) == D("0.0171")
    # the combined worked example's trade fee: 0.07 * 0.03 * 0.3301 * 0.6699 = 0.000464... -> 0.0005
    assert DEFAULT_FEES.trade_fee(D("0.3301"), D("0.03")) == D("0.0005")
    assert DEFAULT_FEES.trade_fee(D("0.50"), D(100)) == D("1.75")


def test_per_contract_fee_is_unrounded() -> None:
    assert DEFAULT_FEES.per_contract(D("0.42")) == D("0.07") * D("0.42") * D("0.58")


def test_maker_rates_follow_fee_type() -> None:
    assert FeeSchedule(FeeType.QUADRATIC).maker_rate == ZERO
    assert FeeSchedule(FeeType.QUADRATIC_WITH_MAKER_FEES).maker_rate == D("0.0175")
    assert FeeSchedule(FeeType.QUADRATIC_WITH_COMBO_MAKER_FEES).maker_rate == D("0.035")
    assert FeeSchedule(FeeType.QUADRATIC, D("0.5")).taker_rate == D("0.035")
    with pytest.raises(PricingError):
        _ = FeeSchedule(FeeType.FLAT).taker_rate


# (trade fee, rounding, accumulator, rebate, net fee, balance change) per fill, from fee_rounding.md.
WORKED = [
    (
        D("-0.055"),
        D("0.0085"),
        [
            ("0.0085", "0.0065", "0.0065", "0", "0.0150", "-0.07"),
            ("0.0085", "0.0065", "0.0130", "0.01", "0.0050", "-0.07"),
            ("0.0085", "0.0065", "0.0095", "0", "0.0150", "-0.07"),
        ],
    ),
    (
        D("-0.15"),
        D("0.0041"),
        [
            ("0.0041", "0.0059", "0.0059", "0", "0.0100", "-0.16"),
            ("0.0041", "0.0059", "0.0118", "0.01", "0.0000", "-0.16"),
            ("0.0041", "0.0059", "0.0077", "0", "0.0100", "-0.16"),
        ],
    ),
    (
        D("-0.3301") * D("0.03"),
        D("0.0005"),
        [
            ("0.0005", "0.009597", "0.009597", "0", "0.010097", "-0.02"),
            ("0.0005", "0.009597", "0.019194", "0.01", "0.000097", "-0.02"),
            ("0.0005", "0.009597", "0.018791", "0.01", "0.000097", "-0.02"),
        ],
    ),
]


@pytest.mark.parametrize(("revenue", "trade_fee", "rows"), WORKED)
def test_fee_rounding_worked_examples(revenue: Decimal, trade_fee: Decimal, rows: list[tuple[str, ...]]) -> None:
    charges = charge_order([(revenue, trade_fee)] * 3)
    for charge, row in zip(charges, rows, strict=True):
        expected = [D(x) for x in row]
        got = [
            charge.trade_fee,
            charge.rounding_fee,
            charge.accumulator,
            charge.rebate,
            charge.net_fee,
            charge.balance_change,
        ]
        assert got == expected


def test_direct_member_precision_has_no_rounding_fee() -> None:
    (charge,) = charge_order([(D("-0.42"), D("0.0171"))], precision=CENTICENT)
    assert charge.rounding_fee == ZERO
    assert charge.net_fee == D("0.0171")


def test_buy_fees_charged_one_level() -> None:
    # 10 @ 0.42: trade fee ceil(0.17052) = 0.1706; balance -4.2 - 0.1706 = -4.3706 -> -4.38; rounding 0.0094.
    assert buy_fees_charged([(D("0.42"), D(10))], DEFAULT_FEES) == D("0.1800")


@given(
    st.decimals(D("0.01"), D("0.99"), places=2),
    st.integers(1, 500),
)
def test_charged_fee_is_at_least_the_model_fee_and_at_most_a_cent_more(price: Decimal, count: int) -> None:
    charged = buy_fees_charged([(price, D(count))], DEFAULT_FEES)
    model = DEFAULT_FEES.per_contract(price) * count
    assert model <= charged < model + D("0.0101")


@given(
    st.lists(st.tuples(st.decimals(D("0.01"), D("0.99"), places=4), st.integers(1, 900)), min_size=1, max_size=6),
    st.sampled_from([DEFAULT_FEES, FeeSchedule(FeeType.QUADRATIC_WITH_MAKER_FEES, D("0.5"))]),
    st.sampled_from([CENT, CENTICENT]),
)
def test_buy_fees_charged_is_the_net_fee_of_the_orders_fills(
    levels: list[tuple[Decimal, int]], schedule: FeeSchedule, precision: Decimal
) -> None:
    """Detection's shortcut sums what :func:`charge_order` charges the same fills, to the last digit."""
    fills = [(price, D(count)) for price, count in levels]
    pairs = [(-(price * count), schedule.trade_fee(price, count)) for price, count in fills]
    expected = sum((c.net_fee for c in charge_order(pairs, precision)), ZERO)
    got = buy_fees_charged(fills, schedule, precision)
    assert got == expected
    assert str(got) == str(expected)


# --- kelly --------------------------------------------------------------------------------------


def test_kelly_fraction() -> None:
    assert kelly_fraction(0.6, 0.5) == pytest.approx(0.2)
    assert kelly_fraction(0.5, 0.5) == 0.0
    assert kelly_fraction(0.4, 0.5) < 0
    assert kelly_fraction(0.9, 1.0) == 0.0


@given(st.floats(0.01, 0.99), st.floats(0.01, 0.99))
def test_kelly_positive_exactly_when_edge_positive(q: float, p: float) -> None:
    f = kelly_fraction(q, p)
    assert (f > 0) == (q > p)
    assert f <= 1.0


@pytest.mark.parametrize("method", [VigMethod.POWER, VigMethod.MULTIPLICATIVE, VigMethod.SHIN])
def test_prices_an_ulp_apart_keep_their_order_up_to_rounding(method: VigMethod) -> None:
    raw = [0.9659090909090908, 0.04829545454545455, 0.048295454545454544]  # found by the property above
    fair = remove_vig(raw, method)
    assert fair[0] > fair[1] and fair[0] > fair[2]
    assert fair[1] == pytest.approx(fair[2], rel=1e-12)
