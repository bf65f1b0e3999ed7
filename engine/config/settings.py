"""Process settings from the environment and a settings file (``.env`` or ``--env-file``).

One bad value stops start-up with one line naming the variable; secret values never appear in any
message or repr. A settings file the operator named must exist and be readable: the defaults point at
Kalshi production, so a typo in ``--env-file`` silently falling back to them would send a simulator
session's commands to the real exchange.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from engine.config.books import parse_books
from engine.config.profiles import OVERRIDABLE, Profile, ProfileName, ProfileOverrides, build_profile, profile_name
from engine.errors import ConfigError
from engine.pricing.vig import VigMethod

KALSHI_PRODUCTION_URL = "https://external-api.kalshi.com/trade-api/v2"
ODDS_API_URL = "https://api.the-odds-api.com"
DEFAULT_ENV_FILE = Path(".env")
"""Read by every command when no ``--env-file`` is given, if it exists in the working directory."""
_SECRET_FIELDS = frozenset({"odds_api_key"})


class Settings(BaseSettings):
    """Everything an operator configures; see ``.env.example`` for a commented copy."""

    model_config = SettingsConfigDict(
        env_file=None, env_file_encoding="utf-8", extra="forbid", frozen=True, case_sensitive=False
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
        None,
        description="sqlite:///PATH, a file path or postgresql://USER@HOST/DB; unset: "
        "$XDG_DATA_HOME/arbtui/arbtui.db (engine.store).",
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

    @field_validator("profile_books")
    @classmethod
    def _known_books(cls, value: str | None) -> str | None:
        """Canonical form (lower case, no spaces) of a list of known, distinct books; empty means unset."""
        if value is None or not value.strip():
            return None
        return ",".join(parse_books(value))

    def profile_overrides(self) -> dict[str, str]:
        """The ``PROFILE_*`` variables that are set, as ``{"PROFILE_MIN_EDGE": "0.04"}``, in a fixed order."""
        out: dict[str, str] = {}
        for field in OVERRIDABLE:
            value = getattr(self, f"profile_{field}")
            if value is not None:
                out[f"PROFILE_{field.upper()}"] = str(value)
        return out

    def profile(self, base: ProfileName | str | None = None) -> Profile:
        """The trading profile: ``base`` (a command's ``--profile``) or ``TRADING_PROFILE``, with every
        ``PROFILE_*`` override applied on top. A combination that cannot work names the variables."""
        name = profile_name(self.trading_profile if base is None else base)
        overrides = ProfileOverrides(
            min_edge=self.profile_min_edge,
            book_consensus=self.profile_book_consensus,
            kelly_fraction=self.profile_kelly_fraction,
            max_quote_age_s=self.profile_max_quote_age_s,
            books=None if self.profile_books is None else tuple(self.profile_books.split(",")),
            vig_method=self.profile_vig_method,
            max_edge=self.profile_max_edge,
        )
        start = build_profile(name)
        books = overrides.books or start.books
        consensus = overrides.book_consensus or start.book_consensus
        if consensus > len(books):
            raise ConfigError(self._consensus_message(name, books, consensus))
        try:
            return build_profile(name, overrides)
        except ConfigError as exc:
            names = ", ".join(self.profile_overrides())
            raise ConfigError(f"invalid setting {names}: {exc}") from None

    def _consensus_message(self, name: ProfileName, books: tuple[str, ...], consensus: int) -> str:
        listed = f"{len(books)} books ({', '.join(books)})"
        if self.profile_book_consensus is None:
            return (
                f"invalid setting PROFILE_BOOKS: names {listed} but profile {name.value} needs {consensus} "
                f"fresh books (book_consensus {consensus}); name more books or set PROFILE_BOOK_CONSENSUS"
            )
        if self.profile_books is None:
            return (
                f"invalid setting PROFILE_BOOK_CONSENSUS: {consensus} books required (book_consensus) but "
                f"profile {name.value} uses {listed}; lower it or set PROFILE_BOOKS"
            )
        return (
            f"invalid settings PROFILE_BOOK_CONSENSUS and PROFILE_BOOKS: {consensus} books required "
            f"(book_consensus) but only {listed} named"
        )


def check_env_file(path: str | Path) -> Path:
    """``path`` if it is a readable UTF-8 file; otherwise a :class:`ConfigError` saying what is wrong."""
    p = Path(path)
    try:
        p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"settings file {p} does not exist") from None
    except IsADirectoryError:
        raise ConfigError(f"settings file {p} is a directory") from None
    except PermissionError:
        raise ConfigError(f"settings file {p} cannot be read (permission denied)") from None
    except UnicodeDecodeError:
        raise ConfigError(f"settings file {p} is not UTF-8 text") from None
    except OSError as exc:
        raise ConfigError(f"settings file {p} cannot be read: {exc.strerror or type(exc).__name__}") from None
    return p


def load_settings(env_file: str | Path | None = None) -> Settings:
    """Settings from the environment plus ``env_file`` (``None``: the environment alone).

    A named file that is missing or unreadable is a :class:`ConfigError`, never a silent fallback to the
    defaults. Any bad value is a :class:`ConfigError` whose message names the first bad variable, without
    its value when the variable is a secret.
    """
    path = None if env_file is None else check_env_file(env_file)
    try:
        settings = Settings(_env_file=path)  # type: ignore[call-arg]
    except ValidationError as exc:
        raise ConfigError(_first_error(exc, path)) from None
    settings.profile()
    return settings


def settings_for_command(env_file: str | Path | None) -> Settings:
    """What every command's ``--env-file`` means: a named file must be readable; without one, ``./.env``
    is read when it exists and the environment alone is used when it does not."""
    if env_file is None:
        return load_settings(DEFAULT_ENV_FILE if DEFAULT_ENV_FILE.exists() else None)
    return load_settings(env_file)


def _first_error(exc: ValidationError, path: Path | None) -> str:
    err = exc.errors()[0]
    name = str(err["loc"][0]) if err["loc"] else "settings"
    detail = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        return f"invalid setting {name.upper()}: unknown setting in {path or 'the settings file'}"
    if name not in _SECRET_FIELDS and "input" in err:
        detail += f" (got {str(err['input'])[:60]!r})"
    return f"invalid setting {name.upper()}: {detail}"
