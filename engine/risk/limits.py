"""The circuit breaker's limits: one frozen record built from the settings and the active profile.

Kept apart from the rules so a profile switch is just a new ``RiskLimits`` handed to the same pure
``check``; validation here means a limit that cannot work (a rate above the account tier's write budget,
an unknown time zone) stops start-up with one line instead of surfacing as a 429 or a wrong midnight.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from engine.config.profiles import Profile
from engine.config.settings import Settings
from engine.connectors.kalshi.ratelimit import DEFAULT_COST, TIERS
from engine.errors import ConfigError


def tier_orders_per_second(tier: str) -> int:
    """Orders per second the tier's write bucket sustains (each order costs ``DEFAULT_COST`` tokens)."""
    try:
        budget = TIERS[tier.lower()]
    except KeyError:
        raise ConfigError(f"unknown Kalshi tier {tier!r}; expected one of {', '.join(TIERS)}") from None
    return int(budget.write_rate // DEFAULT_COST)


@dataclass(frozen=True, slots=True)
class RiskLimits:
    """Every number the breaker enforces. Money is ``Decimal`` dollars; shares are fractions of bankroll."""

    max_trade_contracts: int = 100
    max_trade_risk: Decimal = Decimal(100)
    max_daily_loss: Decimal = Decimal(100)
    max_daily_trades: int = 200
    max_daily_contracts: int = 5000
    max_daily_fees: Decimal = Decimal(50)
    max_consecutive_losses: int = 5
    bankroll: Decimal = Decimal(10000)
    max_event_exposure: Decimal = Decimal("0.05")
    max_league_exposure: Decimal = Decimal("0.25")
    max_total_exposure: Decimal = Decimal("0.50")
    max_orders_per_minute: int = 60
    min_order_gap: timedelta = timedelta(seconds=2)
    tier: str = "basic"
    min_cash_reserve: Decimal = Decimal(0)
    max_book_age: timedelta = timedelta(seconds=30)
    max_quote_age: timedelta = timedelta(seconds=120)
    max_feed_silence: timedelta = timedelta(seconds=30)
    max_edge: Decimal = Decimal("0.15")
    timezone: str = "America/New_York"

    def __post_init__(self) -> None:
        positive: dict[str, int | Decimal] = {
            "max_trade_contracts": self.max_trade_contracts,
            "max_trade_risk": self.max_trade_risk,
            "max_daily_loss": self.max_daily_loss,
            "max_daily_trades": self.max_daily_trades,
            "max_daily_contracts": self.max_daily_contracts,
            "max_daily_fees": self.max_daily_fees,
            "max_consecutive_losses": self.max_consecutive_losses,
            "bankroll": self.bankroll,
            "max_orders_per_minute": self.max_orders_per_minute,
            "max_edge": self.max_edge,
        }
        for name, value in positive.items():
            if value <= 0:
                raise ConfigError(f"risk limit {name} must be > 0, got {value}")
        for name, share in (
            ("max_event_exposure", self.max_event_exposure),
            ("max_league_exposure", self.max_league_exposure),
            ("max_total_exposure", self.max_total_exposure),
        ):
            if not Decimal(0) < share <= Decimal(1):
                raise ConfigError(f"risk limit {name} must be a share of bankroll in (0, 1], got {share}")
        if self.min_cash_reserve < 0:
            raise ConfigError(f"risk limit min_cash_reserve must be >= 0, got {self.min_cash_reserve}")
        if self.min_order_gap < timedelta(0):
            raise ConfigError(f"risk limit min_order_gap must be >= 0 s, got {self.min_order_gap}")
        for name, age in (
            ("max_book_age", self.max_book_age),
            ("max_quote_age", self.max_quote_age),
            ("max_feed_silence", self.max_feed_silence),
        ):
            if age <= timedelta(0):
                raise ConfigError(f"risk limit {name} must be > 0 s, got {age}")
        budget = self.tier_orders_per_minute
        if self.max_orders_per_minute > budget:
            raise ConfigError(
                f"risk limit max_orders_per_minute {self.max_orders_per_minute} exceeds the Kalshi {self.tier} "
                f"tier's write budget of {budget} orders per minute"
            )
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(f"risk limit timezone {self.timezone!r} is not an IANA time zone") from None

    @property
    def max_orders_per_second(self) -> int:
        """The tier's sustained write rate in orders: at most this many in any one second keeps every window
        inside the exchange's token bucket, whose capacity is at least one second of refill."""
        return tier_orders_per_second(self.tier)

    @property
    def tier_orders_per_minute(self) -> int:
        return self.max_orders_per_second * 60

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @classmethod
    def from_settings(cls, settings: Settings, profile: Profile | None = None) -> RiskLimits:
        """The limits in force for ``profile`` (default: the settings' own profile)."""
        prof = settings.profile() if profile is None else profile
        max_edge = settings.profile_max_edge if settings.profile_max_edge is not None else prof.max_edge
        return cls(
            max_trade_contracts=settings.max_position_size,
            max_trade_risk=settings.max_trade_risk,
            max_daily_loss=settings.max_daily_loss,
            max_daily_trades=settings.max_daily_trades,
            max_daily_contracts=settings.max_daily_contracts,
            max_daily_fees=settings.max_daily_fees,
            max_consecutive_losses=settings.max_consecutive_losses,
            bankroll=settings.trading_bankroll,
            max_event_exposure=settings.max_event_exposure,
            max_league_exposure=settings.max_league_exposure,
            max_total_exposure=settings.max_total_exposure,
            max_orders_per_minute=settings.max_orders_per_minute,
            min_order_gap=_seconds(settings.min_order_gap_s),
            tier=settings.kalshi_tier,
            min_cash_reserve=settings.min_cash_reserve,
            max_book_age=_seconds(settings.max_book_age_s),
            max_quote_age=timedelta(seconds=prof.max_quote_age_s),
            max_feed_silence=_seconds(settings.max_feed_silence_s),
            max_edge=max_edge,
            timezone=settings.risk_timezone,
        )


def _seconds(value: Decimal) -> timedelta:
    """Whole microseconds, so a limit compares exactly with timestamps (timedelta's own resolution)."""
    return timedelta(microseconds=int(value * 1_000_000))
