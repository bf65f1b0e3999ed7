"""The dashboard app: one screen over an ``EngineControl``, repainted from its latest snapshot at ~10 Hz.

The app never runs per engine event: a timer pulls ``control.dashboard()`` and applies it inside
``batch_update()``, so a slow terminal can never slow detection (the engine does not know the screen
exists). The snapshot carries rows only; the selected signal's detail (books, ladder, fees, sparkline,
audit trail) is fetched apart by a worker, ``control.signal_detail(key)``, once per pull and on each move
of the cursor, latest selection wins: at 2,000 markets the details of every live signal were most of a
snapshot's megabyte, though only one is ever on screen. Halt and kill are App-level priority bindings,
handled before any refresh and even under a dialog.
``build_app`` is the one factory the CLI (``launch``, ``attach``) and the tests use.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any, ClassVar

from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Input
from textual.worker import Worker

from arbtui.app.messages import Selected
from arbtui.app.screens.confirm import ConfirmScreen
from arbtui.app.screens.detail import SignalDetailScreen
from arbtui.app.screens.filter import FilterScreen
from arbtui.app.screens.help import HelpScreen
from arbtui.app.widgets.activity import ActivityLog
from arbtui.app.widgets.breaker import BreakerPane
from arbtui.app.widgets.consensus import ConsensusPane
from arbtui.app.widgets.header import StatusBar
from arbtui.app.widgets.portfolio import PortfolioTabs
from arbtui.app.widgets.signals import SignalsTable
from engine.errors import ArbError
from engine.runtime.control_api import EngineControl
from engine.runtime.dashboard import DashboardSnapshot, SignalDetail

PROFILES = ("CONSERVATIVE", "STANDARD", "AGGRESSIVE", "VERY_AGGRESSIVE")
"""In order of risk: a LIVE move to the right asks to confirm."""
OPERATOR = "operator (dashboard)"


class Dashboard(App[int]):
    """The operator's dashboard. ``owns_engine``: ``q`` ends the process's engine (launch) rather than
    only closing a viewer (attach); the caller stops the engine once ``run_async`` returns."""

    CSS_PATH = "arbtui.tcss"
    TITLE = "arbtui"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]  # noqa: RUF012 (Textual reads a list)
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("h", "halt", "Halt", id="halt", priority=True, tooltip="Stop new orders now (no confirmation)"),
        Binding("K", "kill", "Kill", id="kill", priority=True, tooltip="Halt and cancel every resting order"),
        Binding("r", "resume", "Resume", id="resume", tooltip="Leave a halt or a kill (asks to confirm)"),
        Binding("1", "profile('CONSERVATIVE')", "Conservative", id="profile.conservative", show=False),
        Binding("2", "profile('STANDARD')", "Standard", id="profile.standard", show=False),
        Binding("3", "profile('AGGRESSIVE')", "Aggressive", id="profile.aggressive", show=False),
        Binding("4", "profile('VERY_AGGRESSIVE')", "Very aggressive", id="profile.very_aggressive", show=False),
        Binding("p", "cycle_profile", "Profile", id="profile.cycle", tooltip="Next trading profile"),
        Binding("slash", "filter", "Filter", id="filter", key_display="/"),
        Binding("enter", "details", "Details", id="details", show=False),
        Binding("question_mark", "help", "Help", id="help", key_display="?"),
        Binding("q", "quit_dashboard", "Quit", id="quit"),
    ]

    def __init__(
        self,
        control: EngineControl,
        *,
        owns_engine: bool,
        refresh_hz: float = 10.0,
        attached: bool = False,
    ) -> None:
        super().__init__()
        self.control = control
        self.owns_engine = owns_engine
        self.attached = attached
        self.refresh_hz = refresh_hz
        self.latest: DashboardSnapshot | None = None
        self.selected: str | None = None
        self.detail: SignalDetail | None = None
        """The last detail fetched, for ``detail_key`` (it may lag the selection by one fetch)."""
        self.detail_key: str | None = None
        self.pulls = 0
        self.detail_fetches = 0
        self._pulling = False
        self._detail_wanted: str | None = None
        self._detail_worker: Worker[None] | None = None
        self._last_error = ""
        self.theme = "textual-dark"

    # -- layout ---------------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield StatusBar(attached=self.attached)
        with Vertical(id="body"):
            with Horizontal(id="top"):
                yield SignalsTable()
                yield ConsensusPane()
            with Horizontal(id="bottom"):
                yield BreakerPane()
                yield PortfolioTabs()
                yield ActivityLog()
        yield Footer()

    async def on_mount(self) -> None:
        # the main screen's panes, held so a dialog on top (the active screen) never hides them from a refresh
        self.status_bar = self.query_one(StatusBar)
        self.signals = self.query_one(SignalsTable)
        self.consensus = self.query_one(ConsensusPane)
        self.breaker = self.query_one(BreakerPane)
        self.portfolio = self.query_one(PortfolioTabs)
        self.activity = self.query_one(ActivityLog)
        self.signals.focus()
        await self.pull()
        await self.detail_settled()  # the first picture is whole: its selected signal's detail included
        if self.refresh_hz > 0:
            self.set_interval(1.0 / self.refresh_hz, self.pull, name="dashboard-pull")

    # -- the pull -------------------------------------------------------------------------------------

    async def pull(self) -> None:
        """Fetch the engine's latest snapshot and paint it (skipped while the previous fetch runs)."""
        if self._pulling:
            return
        self._pulling = True
        try:
            snap = await self.control.dashboard()
        except (ArbError, OSError) as exc:
            message = f"cannot read the engine: {exc}"
            if message != self._last_error:
                self._last_error = message
                self.notify(message, severity="error", timeout=8)
            return
        finally:
            self._pulling = False
        self._last_error = ""
        self.pulls += 1
        if not self._exit:
            self.apply(snap)
            self.request_detail()

    def apply(self, snap: DashboardSnapshot) -> None:
        self.latest = snap
        with self.batch_update():
            self.status_bar.show(snap)
            self.signals.show(snap.signals)
            self.selected = self.signals.selected_key()
            self._show_selected()
            self.breaker.show(snap)
            self.portfolio.show(snap)
            self.activity.show(snap.activity)

    def _show_selected(self) -> None:
        if self.latest is None:
            return
        row = self.signals.shown.get(self.selected) if self.selected is not None else None
        self.consensus.show(self._detail_of(self.selected), row, loading=self.selected != self.detail_key)

    def _detail_of(self, key: str | None) -> SignalDetail | None:
        return self.detail if key is not None and key == self.detail_key else None

    # -- the selected signal's detail -------------------------------------------------------------------

    def request_detail(self) -> None:
        """Fetch the selected signal's detail in a worker, unless one is running (it fetches the newest
        selection when it finishes): the screen never waits on it, and a burst of moves costs one fetch."""
        self._detail_wanted = self.selected
        worker = self._detail_worker
        if self._exit:
            return  # closing: a fetch started now would never be awaited
        if worker is None or worker.is_finished:
            # the coroutine function, not a coroutine: the worker creates it only when it really starts
            self._detail_worker = self.run_worker(self._fetch_details, group="detail", exit_on_error=False)

    async def detail_settled(self) -> None:
        """Wait until the detail of the latest selection is in (mount, and tests that freeze the picture)."""
        worker = self._detail_worker
        if worker is not None and not worker.is_finished:
            await worker.wait()

    async def _fetch_details(self) -> None:
        """Fetch until the detail for the latest selection is in (latest wins; skipped ones never shown)."""
        while True:
            key = self._detail_wanted
            detail = None
            if key is not None:
                try:
                    detail = await self.control.signal_detail(key)
                except (ArbError, OSError) as exc:
                    self._report(f"cannot read the signal's detail: {exc}")
                    return
                self.detail_fetches += 1
            if key == self._detail_wanted:
                self.detail, self.detail_key = detail, key
                if not self._exit:
                    self._show_detail()
                return

    def _show_detail(self) -> None:
        self._show_selected()
        screen = self.screen
        if isinstance(screen, SignalDetailScreen) and screen.row.key == self.detail_key:
            screen.show(self.detail)

    def _report(self, message: str) -> None:
        if message != self._last_error:
            self._last_error = message
            self.notify(message, severity="error", timeout=8)

    def on_data_table_row_highlighted(self, event: SignalsTable.RowHighlighted) -> None:
        if event.data_table.id == "signals" and event.row_key.value is not None:
            self.post_message(Selected(str(event.row_key.value)))

    def on_data_table_row_selected(self, event: SignalsTable.RowSelected) -> None:
        if event.data_table.id == "signals":  # enter on the table (the table binds enter itself)
            self.action_details()

    def on_selected(self, message: Selected) -> None:
        self.selected = message.key
        self._show_selected()
        self.request_detail()

    # -- commands -------------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """While the operator types (the filter's input), letters are text, not commands."""
        return not (action in ("halt", "kill") and isinstance(self.focused, Input))

    async def _command(self, what: str, call: Callable[[], Awaitable[None]]) -> bool:
        try:
            await call()
        except (ArbError, OSError) as exc:
            self.notify(f"{what} failed: {exc}", severity="error", timeout=10)
            return False
        await self.pull()
        return True

    async def action_halt(self) -> None:
        if await self._command("halt", lambda: self.control.halt(f"{OPERATOR}: h")):
            self.notify("HALTED: no new orders (resting orders stay; K kills)", severity="warning")

    def action_kill(self) -> None:
        resting = self.latest.resting_orders if self.latest is not None else 0
        question = (
            f"KILL: halt and cancel {resting} resting order{'s' if resting != 1 else ''}, "
            "and trigger every order group?\nOnly resume trades again."
        )
        self.push_screen(ConfirmScreen(question, yes="Kill"), self._kill_answered)

    async def _kill_answered(self, yes: bool | None) -> None:
        if yes and await self._command("kill", lambda: self.control.kill(f"{OPERATOR}: K")):
            self.notify("KILLED: resting orders cancelled, order groups triggered", severity="error")

    def action_resume(self) -> None:
        state = self.latest.breaker_state if self.latest is not None else "?"
        self.push_screen(ConfirmScreen(f"Resume trading? The breaker is {state}.", yes="Resume"), self._resume_answered)

    async def _resume_answered(self, yes: bool | None) -> None:
        if yes and await self._command("resume", self.control.resume):
            self.notify("resumed: orders flow again under the breaker's rules")

    async def action_profile(self, name: str) -> None:
        current = self.latest.profile if self.latest is not None else ""
        riskier = current in PROFILES and name in PROFILES and PROFILES.index(name) > PROFILES.index(current)
        if self.latest is not None and self.latest.mode == "LIVE" and riskier:

            async def answered(yes: bool | None) -> None:
                if yes:
                    await self._set_profile(name)

            self.push_screen(ConfirmScreen(f"LIVE: switch to the riskier profile {name}?", yes="Switch"), answered)
            return
        await self._set_profile(name)

    async def _set_profile(self, name: str) -> None:
        if await self._command("profile", lambda: self.control.set_profile(name)):
            self.notify(f"profile {name} from the next evaluation")

    async def action_cycle_profile(self) -> None:
        current = self.latest.profile if self.latest is not None else PROFILES[0]
        nxt = PROFILES[(PROFILES.index(current) + 1) % len(PROFILES)] if current in PROFILES else PROFILES[1]
        await self.action_profile(nxt)

    def action_filter(self) -> None:
        table = self.signals
        self.push_screen(FilterScreen(" ".join(table.words)), self._filter_answered)

    def _filter_answered(self, text: str | None) -> None:
        if text is None:
            return
        self.set_filter(text)

    def set_filter(self, text: str) -> None:
        table = self.signals
        table.words = tuple(text.split())
        if self.latest is not None:
            self.apply(self.latest)

    def action_details(self) -> None:
        table = self.signals
        key = table.selected_key()
        if key is None or self.latest is None:
            self.notify("no signal selected", severity="warning", timeout=3)
            return
        row = table.shown.get(key)
        if row is None:
            return
        self.push_screen(SignalDetailScreen(row, self._detail_of(key)))
        if key != self.detail_key:
            self.selected = key
            self.request_detail()

    def action_help(self) -> None:
        self.push_screen(HelpScreen(self.key_help()))

    def key_help(self) -> list[tuple[str, str]]:
        keys = []
        for binding in self._bindings_for_help():
            display = binding.key_display or binding.key
            keys.append((display, binding.tooltip or binding.description))
        keys.append(("tab", "Next pane"))
        keys.append(("ctrl+p", "Command palette: every action by name; theme (dark/light)"))
        return keys

    def _bindings_for_help(self) -> Iterable[Binding]:
        for b in self.BINDINGS:
            if isinstance(b, Binding):
                yield b
        for b in SignalsTable.BINDINGS:
            if isinstance(b, Binding):
                yield b

    async def action_quit_dashboard(self) -> None:
        if self.owns_engine:
            self.notify("stopping the engine: no new orders; finishing the order in flight")
        self.exit(0)

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Halt", "Stop new orders now (resting orders stay)", self.action_halt)
        yield SystemCommand("Kill", "Halt and cancel every resting order (asks to confirm)", self.action_kill)
        yield SystemCommand("Resume", "Leave a halt or a kill (asks to confirm)", self.action_resume)
        for name in PROFILES:
            yield SystemCommand(f"Profile {name}", f"Switch the trading profile to {name}",
                                lambda n=name: self.action_profile(n))  # fmt: skip
        yield SystemCommand("Next profile", "Cycle the trading profile", self.action_cycle_profile)
        yield SystemCommand("Filter signals", "Filter the signals table by league and kind", self.action_filter)
        yield SystemCommand("Signal details", "The selected signal's consensus and audit trail", self.action_details)
        yield SystemCommand("Sort signals", "Sort the signals by the next column",
                            self.signals.action_cycle_sort)  # fmt: skip
        yield SystemCommand("Help", "Every key of the dashboard", self.action_help)


def build_app(
    control: EngineControl,
    *,
    owns_engine: bool,
    refresh_hz: float = 10.0,
    attached: bool = False,
) -> Dashboard:
    """The dashboard over ``control``: the in-process engine (``launch``) or a remote one (``attach``).

    ``refresh_hz`` is how often the app pulls the engine's snapshot; 0 pulls only on mount and after each
    command (tests that freeze the picture).
    """
    return Dashboard(control, owns_engine=owns_engine, refresh_hz=refresh_hz, attached=attached)
