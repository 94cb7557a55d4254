"""What the commands print through: rich consoles that read well on a terminal and in a file, a pipe or a CI log."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

INTERRUPTED = 130  # the shell's exit code for a command ended by SIGINT (Ctrl-C)
# Off a terminal rich would hard-wrap every line at 80 columns (or $COLUMNS), splitting figures, URLs and table
# rows; a log line is as long as its content instead.
UNWRAPPED_WIDTH = 10_000


def console(*, stderr: bool = False) -> Console:
    """A console for stdout (or stderr): as wide as the terminal, or not wrapped at all when not a terminal."""
    from rich.console import Console  # the constructs alone do not need rich

    found = Console(stderr=stderr)
    if not found.is_terminal:
        found.width = UNWRAPPED_WIDTH
        found.soft_wrap = True
    return found
