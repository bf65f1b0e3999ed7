"""Process settings from the environment and ``.env``.

One bad value stops start-up with one line naming the variable; secret values never appear in any
message or repr.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from engine.config.profiles import Profile, ProfileName, ProfileOverrides, build_profile
from engine.errors import ConfigError
from engine.pricing.vig import VigMethod

KALSHI_PRODUCTION_URL = "https://external-api.kalshi.com/trade-api/v2"
ODDS_API_URL = "https://api.the-odds-api.com"
_SECRET_FIELDS = frozenset({"odds_api_key"})


class Settings(BaseSettings):
    """Everything an operator configures; see ``.env.example`` for a commented copy."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="forbid", frozen=True, case_sensitive=False
    )

    kalshi_base_url: str = Field(KALSHI_PRODUCTION_URL, description="Kalshi REST root, ending in /trade-api/v2.")
    kalshi_key_id: str | None = Field(None, description="Kalshi API key id (KALSHI-ACCESS-KEY).")
    kalshi_private_key_path: Path | None = Field(None, description="PEM file of the RSA key; must be private.")
    kalshi_tier: Literal["basic", "advanced", "premier", "prime"] = Field(
        "basic", description="Account tier; sizes the client-side rate limiter."
    )
    odds_api_key: SecretStr | None = Field(None, description="The Odds API key (sent as apiKey, never logged).")
    odds_api_base_url: str = Field(ODDS_API_URL, description="The Odds API root.")
    odds_api_daily_credits: int = Field(500, ge=0, description="Quota credits the poller may spend per day.")

    trading_profile: ProfileName = Field(ProfileName.STANDARD, description="Profile used at start-up.")
    trading_bankroll: Decimal = Field(Decimal(10000), gt=0, description="Bankroll in dollars for Kelly sizing.")
    paper_trading: bool = Field(True, description="True: simulate fills; false: send real orders.")
    max_position_size: int = Field(100, ge=1, description="Contracts per signal, at most.")
    max_daily_loss: Decimal = Field(Decimal(100), gt=0, description="Dollars lost in a day before halting.")
    max_consecutive_losses: int = Field(5, ge=1, description="Losing trades in a row before halting.")
    max_trade_risk: Decimal = Field(Decimal(100), gt=0, description="Dollars at risk (cost + fees) per order.")
    max_daily_trades: int = Field(200, ge=1, description="Orders sent per day before only reductions pass.")
    max_daily_contracts: int = Field(5000, ge=1, description="Contracts filled per day before only reductions.")
    max_daily_fees: Decimal = Field(Decimal(50), gt=0, description="Fees paid per day before only reductions.")
    max_event_exposure: Decimal = Field(Decimal("0.05"), gt=0, le=1, description="Bankroll share per event.")
    max_league_exposure: Decimal = Field(Decimal("0.25"), gt=0, le=1, description="Bankroll share per league.")
    max_total_exposure: Decimal = Field(Decimal("0.50"), gt=0, le=1, description="Bankroll share in total.")
    max_orders_per_minute: int = Field(60, ge=1, description="Orders per minute; at most the tier's budget.")
    min_order_gap_s: Decimal = Field(Decimal(2), ge=0, description="Seconds between orders on one market.")
    min_cash_reserve: Decimal = Field(Decimal(0), ge=0, description="Cash a shard keeps after cost + fees.")
    max_book_age_s: Decimal = Field(Decimal(30), gt=0, description="Oldest Kalshi book an order may use (s).")
    max_feed_silence_s: Decimal = Field(
        Decimal(30), gt=0, description="Seconds without a book change while ticker messages arrive."
    )
    risk_timezone: str = Field("America/New_York", description="Time zone whose midnight rolls daily limits.")

    profile_min_edge: Decimal | None = Field(None, ge=0, description="Override the profile's min edge ($).")
    profile_book_consensus: int | None = Field(None, ge=1, description="Override the books required.")
    profile_kelly_fraction: Decimal | None = Field(None, gt=0, le=1, description="Override Kelly fraction.")
    profile_max_quote_age_s: int | None = Field(None, gt=0, description="Override max quote age (s).")
    profile_books: str | None = Field(None, description="Override the books, comma-separated Odds API keys.")
    profile_vig_method: VigMethod | None = Field(None, description="Override the vig removal method.")
    profile_max_edge: Decimal | None = Field(None, gt=0, description="Override the sanity edge/margin limit.")

    mapping_overrides_file: Path | None = Field(
        None, description="JSON file of manual pairs and blocks that always win over automatic mapping."
    )

    database_url: str | None = Field(
        None, description="sqlite:///PATH or a file path; unset: $XDG_DATA_HOME/arbtui/arbtui.db (engine.store)."
    )
    redis_url: str | None = Field(None, description="redis:// URL for the live quote cache (optional).")
    questdb_conf: str | None = Field(None, description="QuestDB client conf string (optional).")

    @field_validator("kalshi_base_url", "odds_api_base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("risk_timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("must be an IANA time zone such as America/New_York") from None
        return value

    @field_validator("trading_profile", mode="before")
    @classmethod
    def _upper_profile(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    def profile(self) -> Profile:
        books = None
        if self.profile_books:
            books = tuple(b.strip() for b in self.profile_books.split(",") if b.strip())
        return build_profile(
            self.trading_profile,
            ProfileOverrides(
                min_edge=self.profile_min_edge,
                book_consensus=self.profile_book_consensus,
                kelly_fraction=self.profile_kelly_fraction,
                max_quote_age_s=self.profile_max_quote_age_s,
                books=books,
                vig_method=self.profile_vig_method,
            ),
        )


def load_settings(env_file: str | Path | None = ".env") -> Settings:
    """Settings or a :class:`ConfigError` whose message names the first bad variable, without its value
    when the variable is a secret."""
    try:
        settings = Settings(_env_file=env_file)  # type: ignore[call-arg]
        settings.profile()
    except ValidationError as exc:
        err = exc.errors()[0]
        name = str(err["loc"][0]) if err["loc"] else "settings"
        detail = err["msg"]
        if name not in _SECRET_FIELDS and "input" in err and err["type"] != "extra_forbidden":
            detail += f" (got {str(err['input'])[:60]!r})"
        if err["type"] == "extra_forbidden":
            detail = "unknown setting in the .env file"
        raise ConfigError(f"invalid setting {name.upper()}: {detail}") from None
    return settings
