"""When to poll each sport at the Odds API: as often as the day's credits allow, more often for games
starting soon, and never past the budget.

Pure: the poller passes the credits left, the instant, and per sport its cost and next kickoff. The
remaining credits are spread over what is left of the budget's day (UTC, as :class:`QuotaBudget` counts
it), weighted by urgency, so spending ends the day at about zero instead of running out at noon.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class PollTarget:
    """One sport the poller may call: what one ``/odds`` call costs and the soonest mapped kickoff."""

    sport: str
    cost: int
    next_kickoff: datetime | None


@dataclass(frozen=True, slots=True)
class CadencePolicy:
    min_interval_s: float = 20.0
    """Never poll one sport more often than this (the venue's books update about this often)."""
    max_interval_s: float = 3600.0
    soon: timedelta = timedelta(hours=1)
    later: timedelta = timedelta(hours=6)
    soon_weight: float = 4.0
    later_weight: float = 2.0


def urgency(target: PollTarget, now: datetime, policy: CadencePolicy) -> float:
    """0 for a sport with no game still to start; higher the sooner its next game starts."""
    if target.next_kickoff is None or target.next_kickoff <= now:
        return 0.0
    until = target.next_kickoff - now
    if until <= policy.soon:
        return policy.soon_weight
    if until <= policy.later:
        return policy.later_weight
    return 1.0


def intervals(
    targets: Sequence[PollTarget], credits_left: int, now: datetime, policy: CadencePolicy
) -> dict[str, float]:
    """Seconds between polls per sport; a sport missing from the answer is not polled (nothing to start,
    or not even one call fits the credits left)."""
    weights = {t.sport: urgency(t, now, policy) for t in targets}
    live = [t for t in targets if weights[t.sport] > 0 and t.cost <= credits_left]
    if not live:
        return {}
    day_end = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), tzinfo=now.tzinfo)
    seconds_left = max(1.0, (day_end - now).total_seconds())
    # spend rate if every sport polled at base interval B / weight: sum(cost * weight) / B per second
    demand = sum(t.cost * weights[t.sport] for t in live)
    base = seconds_left * demand / max(1, credits_left)
    out: dict[str, float] = {}
    for t in live:
        out[t.sport] = min(policy.max_interval_s, max(policy.min_interval_s, base / weights[t.sport]))
    return out


def due(
    targets: Sequence[PollTarget],
    last_polled: Mapping[str, datetime],
    credits_left: int,
    now: datetime,
    policy: CadencePolicy,
) -> tuple[list[str], float]:
    """The sports to poll now (never-polled ones first) and seconds until the next one falls due."""
    plan = intervals(targets, credits_left, now, policy)
    ready: list[str] = []
    wait = policy.max_interval_s
    spent = 0
    for sport in sorted(plan, key=lambda s: last_polled.get(s, datetime.min.replace(tzinfo=now.tzinfo))):
        last = last_polled.get(sport)
        if last is None or (now - last).total_seconds() >= plan[sport]:
            cost = next(t.cost for t in targets if t.sport == sport)
            if spent + cost <= credits_left:
                ready.append(sport)
                spent += cost
        else:
            wait = min(wait, plan[sport] - (now - last).total_seconds())
    return ready, max(0.0, wait) if not ready else 0.0
