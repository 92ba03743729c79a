"""The console's navigation: pages (F2/F3, a number or a name), vehicles (F6, ``vehicle rover``) and
live plots of any vehicle's points (``plot rover:POINT``)."""

from __future__ import annotations

from textual.widgets import ContentSwitcher

from ..dictionary import ArgumentError
from ..vehicles import UnknownVehicleError, unknown_vehicle
from .base import ConsoleBase
from .completion import fuzzy
from .views import addressed_point
from .widgets import PageBar, PlotPane


class Navigation(ConsoleBase):
    def show_page(self, sid: int) -> None:
        if sid not in self.sids:
            raise ArgumentError(f"no page {sid} (pages of the {self.view.name}: {', '.join(map(str, self.sids))})")
        self.query_one("#pages", ContentSwitcher).current = self.view.table_id(sid)
        self.query_one(PageBar).choose(sid)
        self._refresh_ages_of(sid)

    def action_page(self, step: int) -> None:
        current = self.query_one(PageBar).current
        index = self.sids.index(current) if current in self.sids else 0
        self.show_page(self.sids[(index + step) % len(self.sids)])

    def on_page_bar_chosen(self, message: PageBar.Chosen) -> None:
        self.show_page(message.sid)

    def show_vehicle(self, name: str) -> None:
        """Show the pages of another vehicle (``vehicle rover``, F6)."""
        view = next((view for view in self.views if view.name == name.lower()), None)
        if view is None:
            raise UnknownVehicleError(unknown_vehicle(name, [view.name for view in self.views]))
        self.view = view
        self.query_one(PageBar).show_vehicle(view.name, view.pages())
        if view.sids:
            self.show_page(view.sids[0])

    def action_next_vehicle(self) -> None:
        index = self.views.index(self.view)
        self.show_vehicle(self.views[(index + 1) % len(self.views)].name)

    def page_by_name(self, word: str) -> int:
        if word.isdigit():
            return int(word)
        by_name = {name: sid for sid, name in self.view.dictionary.structures.items()}
        if word in by_name:
            return by_name[word]
        close = fuzzy(word, list(by_name), 1)
        if close:
            return by_name[close[0]]
        raise ArgumentError(f"no page {word!r}")

    def action_toggle_plots(self) -> None:
        plots = self.query_one("#plots", PlotPane)
        plots.set_class(not plots.has_class("hidden"), "hidden")
        plots.redraw()

    def plot(self, points: list[str], remove: bool = False) -> str:
        plots = self.query_one("#plots", PlotPane)
        if remove:
            for point in points or [None]:  # type: ignore[list-item]
                plots.remove_point(point)
            return f"plots: {', '.join(plots.points) or 'none'}"
        addressed = []
        for point in points:  # ``rover:POINT`` for the rover's
            view, bare = addressed_point(self.views, point)
            view.dictionary.point(bare)  # an unknown name is refused with close matches
            addressed.append((f"{view.name}:{bare}" if view.relayed else bare, view, bare))
        for shown, view, bare in addressed:
            plots.add_point(shown)
            sample = view.state.latest.get(bare)
            if sample is not None:
                plots.sample(shown, sample.rx_time, sample.value, sample.state)
        plots.remove_class("hidden")
        plots.redraw()
        return f"plotting {', '.join(plots.points)}"
