"""The full-screen console: :class:`GroundConsole` (the app), its command line's completion and
parsing, its status bar and its widgets."""

from .app import GroundConsole
from .completion import complete, parse_line

__all__ = ["GroundConsole", "complete", "parse_line"]
