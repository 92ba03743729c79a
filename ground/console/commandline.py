"""The console's command line: inline checks as one types, dictionary commands (``rover:NAME`` for
the rover's, checked with its dictionary; critical ones confirmed), and the console's own words
(page, vehicle, plot, ack, find, help, quit)."""

from __future__ import annotations

import asyncio
from typing import Any

from rich.text import Text
from textual.widgets import Input, Static

from ..dictionary import ArgumentError, CommandSpec, Dictionary
from .base import ConsoleBase
from .completion import KEYS_HELP, LOCAL_COMMANDS, describe, label, search
from .views import addressed_dictionary, parse_addressed
from .widgets import ConfirmCritical, HelpScreen


class CommandLine(ConsoleBase):
    def on_input_changed(self, event: Input.Changed) -> None:
        hint = self.query_one("#hint", Static)
        line = event.value.strip()
        if not line or line.split()[0] in LOCAL_COMMANDS or line.isdigit():
            hint.update("")
            return
        try:
            target, spec, values = self.parse_command(line)
        except ArgumentError as error:
            hint.update(Text(str(error), style="red"))
            return
        critical = "  CRITICAL: will ask to arm and fire" if spec.critical else ""
        hint.update(Text(f"ok: {target}{label(spec, values)}{critical}", style="green"))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        line = event.value.strip()
        if not line:
            return
        hint = self.query_one("#hint", Static)
        words = line.split()
        try:
            if self._local(words):
                event.input.value = ""
                return
        except ArgumentError as error:
            hint.update(Text(str(error), style="bold red"))
            return
        if getattr(self.session, "read_only", False):
            hint.update(Text("replay: commanding is disabled", style="bold red"))
            return
        try:
            target, spec, values = self.parse_command(line)
        except ArgumentError as error:
            hint.update(Text(str(error), style="bold red"))
            return
        event.input.value = ""
        if spec.critical:
            arm = self.command_dictionary(target).commands.get("ARM")
            screen = ConfirmCritical(target + label(spec, values), arm.opcode if arm else 0, spec.opcode)

            def answered(confirmed: bool | None) -> None:
                if confirmed:
                    self.execute(spec, values, target)
                else:
                    hint.update(Text(f"{spec.name} not sent", style="yellow"))

            self.push_screen(screen, answered)
        else:
            self.execute(spec, values, target)

    def parse_command(self, line: str) -> tuple[str, CommandSpec, list[Any]]:
        return parse_addressed(self.session, line)

    def command_dictionary(self, target: str) -> Dictionary:
        return addressed_dictionary(self.session, target)

    def _local(self, words: list[str]) -> bool:
        """Handle a console command; False when the line is a dictionary command."""
        hint = self.query_one("#hint", Static)
        verb, rest = words[0], words[1:]
        if verb.isdigit():
            self.show_page(int(verb))
        elif verb == "page":
            self.show_page(self.page_by_name(rest[0] if rest else ""))
        elif verb == "quit":
            self.exit()
        elif verb == "vehicle":
            if rest:
                self.show_vehicle(rest[0])
            else:
                self.action_next_vehicle()
        elif verb == "ack":
            self.acknowledge(rest[0] if rest else None)
        elif verb in ("plot", "unplot"):
            hint.update(self.plot(rest, remove=verb == "unplot"))
        elif verb == "help":
            title = f"help: {rest[0]}" if rest else "help"
            self.push_screen(HelpScreen(title, describe(self.dictionary, rest[0]) if rest else KEYS_HELP))
        elif verb == "find":
            found = search(self.dictionary, " ".join(rest))
            self.push_screen(HelpScreen(f"find {' '.join(rest)}: {len(found)} found", "\n".join(found) or "nothing"))
        else:
            return False
        return True

    def action_help(self) -> None:
        self.push_screen(HelpScreen("help", KEYS_HELP))

    def execute(self, spec: CommandSpec, values: list[Any], target: str = "") -> None:
        task = asyncio.get_running_loop().create_task(self._execute(spec, values, target))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _execute(self, spec: CommandSpec, values: list[Any], target: str = "") -> None:
        try:
            await self.session.command(target + spec.name, values, on_entry=lambda entry: self._refresh_history(),
                                       on_stage=lambda entry, phase, report: self._refresh_history())
        except (ArgumentError, ConnectionError) as error:
            self.query_one("#hint", Static).update(Text(str(error), style="bold red"))
        self._refresh_history()
