"""Property: any sequence of fills (duplicates included), cancels, settlements and restarts keeps
positions = the sum of fills and cash = start - costs - fees + redemptions + settlement revenue.

The expected values come from an oracle that never nets: it only counts what each market received, so
the ledger's netting, average cost and idempotency are checked against arithmetic, not against themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal as D

from breaker_kit import T0, fill, settlement
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.detection.signals import Side
from engine.execution.model import Action, FillRecord, SettlementRecord
from engine.portfolio import Ledger, LedgerError, MarketRef, apply_fill, apply_settlement

START = D(500)
MARKETS = [("KXA-1", "EVA", "NFL"), ("KXA-2", "EVA", "NFL"), ("KXB-1", "EVB", "NBA")]


@dataclass
class Oracle:
    gross: dict[tuple[str, Side], int] = field(default_factory=dict)
    net: dict[str, int] = field(default_factory=dict)
    paid: D = D(0)
    fees: D = D(0)
    revenue: D = D(0)
    settled: set[str] = field(default_factory=set)

    def fill(self, f: FillRecord) -> None:
        long_yes = (f.side is Side.YES) == (f.action is Action.BUY)
        side = Side.YES if long_yes else Side.NO
        unit = f.price if f.action is Action.BUY else 1 - f.price
        self.gross[(f.ticker, side)] = self.gross.get((f.ticker, side), 0) + f.count
        self.net[f.ticker] = self.net.get(f.ticker, 0) + (f.count if long_yes else -f.count)
        self.paid += unit * f.count
        self.fees += f.fee

    def settle(self, s: SettlementRecord) -> None:
        n = self.net.get(s.ticker, 0)
        self.revenue += n * s.value if n > 0 else -n * (1 - s.value)
        self.settled.add(s.ticker)

    def cash(self) -> D:
        redeemed = sum(min(self.gross.get((t, Side.YES), 0), self.gross.get((t, Side.NO), 0)) for t, _, _ in MARKETS)
        return START - self.paid - self.fees + redeemed + self.revenue


fills = st.builds(
    lambda m, side, action, count, cents, fee_cents: (m, side, action, count, D(cents) / 100, D(fee_cents) / 10000),
    st.integers(0, len(MARKETS) - 1),
    st.sampled_from(Side),
    st.sampled_from(Action),
    st.integers(1, 40),
    st.integers(1, 99),
    st.integers(0, 5000),
)
ops = st.one_of(
    st.tuples(st.just("fill"), fills),
    st.tuples(st.just("duplicate"), st.integers(0, 1000)),
    st.tuples(st.just("cancel"), st.integers(0, 10)),
    st.tuples(st.just("settle"), st.tuples(st.integers(0, len(MARKETS) - 1), st.sampled_from(["0", "1", "0.5"]))),
    st.tuples(st.just("restart"), st.none()),
)


def replay(log: list[FillRecord | SettlementRecord]) -> Ledger:
    lg = Ledger.start(START)
    refs = {t: MarketRef(e, league) for t, e, league in MARKETS}
    for item in log:
        if isinstance(item, FillRecord):
            lg = apply_fill(lg, item, refs[item.ticker]).ledger
        else:
            lg = apply_settlement(lg, item).ledger
    return lg


@settings(max_examples=300, deadline=None)
@given(st.lists(ops, max_size=60))
def test_positions_and_cash_follow_the_fills(sequence: list[tuple[str, object]]) -> None:
    lg = Ledger.start(START)
    oracle = Oracle()
    applied: list[FillRecord] = []
    log: list[FillRecord | SettlementRecord] = []  # what a store would hold, duplicates included
    refs = {t: MarketRef(e, league) for t, e, league in MARKETS}
    now = T0
    for i, (kind, arg) in enumerate(sequence):
        now += timedelta(minutes=7)
        if kind == "fill":
            m, side, action, count, price, fee = arg  # type: ignore[misc]
            ticker = MARKETS[m][0]
            f = fill(f"f{i}", count, str(price), side=side, action=action, fee=str(fee), ts=now, ticker=ticker)
            if ticker in oracle.settled:
                before = lg
                try:
                    apply_fill(lg, f, refs[ticker])
                except LedgerError:
                    pass
                else:
                    raise AssertionError("a fill on a settled market was accepted")
                assert lg is before
                continue
            lg = apply_fill(lg, f, refs[ticker]).ledger
            oracle.fill(f)
            applied.append(f)
            log.append(f)
        elif kind == "duplicate" and applied:
            f = applied[int(arg) % len(applied)]  # type: ignore[call-overload]
            result = apply_fill(lg, f, refs[f.ticker])
            assert not result.applied and result.ledger is lg
            log.append(f)
        elif kind == "cancel":
            pass  # an order cancelled before any fill leaves nothing for the ledger to record
        elif kind == "settle":
            m, value = arg  # type: ignore[misc]
            s = settlement(value, ticker=MARKETS[m][0], event=MARKETS[m][1], ts=now)
            lg = apply_settlement(lg, s).ledger
            if s.ticker not in oracle.settled:
                oracle.settle(s)
            log.append(s)
        elif kind == "restart":
            rebuilt = replay(log)
            assert rebuilt == lg
            lg = rebuilt

        assert lg.cash == oracle.cash()
        for ticker, _, _ in MARKETS:
            p = lg.positions.get(ticker)
            net = oracle.net.get(ticker, 0)
            if p is None:
                assert net == 0
                continue
            assert p.net_fills == net
            assert p.yes_position == (0 if ticker in oracle.settled else net)
            assert p.count >= 0 and (p.count == 0) == (p.side is None)
        realised = sum((p.realised for p in lg.positions.values()), D(0))
        fees = sum((p.fees for p in lg.positions.values()), D(0))
        open_cost = sum((p.cost for p in lg.positions.values()), D(0))
        assert fees == oracle.fees
        assert lg.cash == START + realised - fees - open_cost
