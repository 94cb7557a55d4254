"""Checks on command-line options made before any work: numbers in range, an output folder that can be written.

A bad number or an output path that cannot be a folder is said at once, one line each with the option, the value
and the fix, instead of surfacing as a traceback from the socket layer or, worse, after a paid benchmark ran.
"""

from __future__ import annotations

import argparse
import math
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class NumericOption:
    """One numeric option's valid range: above ``low`` (or at it, when ``low_included``), at most ``high``."""

    dest: str
    low: float
    low_included: bool
    example: str
    high: float | None = None
    unit: str = ""

    @property
    def option(self) -> str:
        return "--" + self.dest.replace("_", "-")

    def problem(self, value: float | None) -> str | None:
        if value is None:  # an optional option left out
            return None
        above_low = value >= self.low if self.low_included else value > self.low
        if math.isfinite(value) and above_low and (self.high is None or value <= self.high):
            return None
        bound = f"{'>=' if self.low_included else '>'} {self.low:g}"
        if self.high is not None:
            bound = f"{self.low:g} to {self.high:g}" if self.low_included else f"{bound} and <= {self.high:g}"
        unit = f" {self.unit}" if self.unit else ""
        return f"{self.option} = {value:g}: must be {bound}{unit}. Fix: e.g. {self.option} {self.example}"


_TARGET_OPTIONS = (
    NumericOption("timeout", 0, False, "300", unit="seconds"),
    NumericOption("wake_up_timeout", 0, True, "900", unit="seconds"),
    NumericOption("wake_up_interval", 0, False, "15", unit="seconds"),
    NumericOption("temperature", 0, True, "0.6", high=100.0),
    NumericOption("seed", 0, True, "0"),
)
NUMERIC_OPTIONS: dict[str, tuple[NumericOption, ...]] = {
    "invoke": (*_TARGET_OPTIONS, NumericOption("max_tokens", 1, True, "2048", unit="tokens")),
    "bench": (
        *_TARGET_OPTIONS,
        NumericOption("requests", 1, True, "20"),
        NumericOption("warmup", 0, True, "1"),
        NumericOption("input_tokens", 1, True, "512", unit="tokens"),
        NumericOption("input_spread", 0, True, "0", unit="tokens"),
        NumericOption("output_tokens", 1, True, "256", unit="tokens"),
        NumericOption("output_spread", 0, True, "32", unit="tokens"),
        NumericOption("burstiness", 0, False, "1"),
        NumericOption("max_concurrency", 1, True, "16"),
    ),
    "report": (
        NumericOption("slo_percentile", 0, True, "90", high=100.0),
        NumericOption("max_error_rate", 0, True, "0.01", high=1.0),
    ),
}


def sentence(text: str) -> str:
    """``text`` ended as a sentence: a full stop unless it ends with one already or a question mark."""
    return text if text.endswith((".", "?", "!")) else f"{text}."


def listed(values: Sequence[float]) -> str:
    """Values as a list option takes them: ``1,4,8``."""
    return ",".join(f"{value:g}" for value in values)


def repeated(option: str, values: Sequence[float]) -> list[str]:
    """A list option's values given more than once (``--concurrency 1,1``), one line with the list to pass instead:
    a repeated level would run (and be paid for) twice and show as two rows, a repeated percentile as two columns."""
    twice = [value for value in dict.fromkeys(values) if values.count(value) > 1]
    if not twice:
        return []
    once = listed(tuple(dict.fromkeys(values)))
    return [f"{option} {listed(values)}: {listed(twice)} given more than once. Fix: {option} {once}"]


def numeric_problems(command: str, args: argparse.Namespace) -> list[str]:
    """Every numeric option of ``command`` outside its range, one line each (plan's own: :class:`TrafficProfile`)."""
    found = (option.problem(getattr(args, option.dest, None)) for option in NUMERIC_OPTIONS.get(command, ()))
    return [problem for problem in found if problem]


def prepare_out_folder(folder: Path, *, example: str, option: str = "--out") -> list[Path]:
    """Make ``folder`` (and its missing parents) and prove a file can be written in it; returns the folders this
    made, outermost first, so a run that writes nothing can take them away again (:func:`remove_unused`).
    Raises ``ValueError``: one line naming the option, the path, what is in the way and the fix."""
    fix = f"Fix: pass {option} a folder you can write, e.g. {option} {example}"
    blocker = next((path for path in (folder, *folder.parents) if path.exists() and not path.is_dir()), None)
    if blocker is not None:
        where = "" if blocker == folder else f" ({blocker} is a file)"
        raise ValueError(f"{option} {folder}: a file, not a folder{where}. {fix}")
    missing = [path for path in (*reversed(folder.parents), folder) if not path.exists()]
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        remove_unused(missing)
        raise ValueError(f"{option} {folder}: cannot write there ({error.strerror or error}). {fix}") from None
    return missing


def remove_unused(created: list[Path]) -> None:
    """Remove the folders :func:`prepare_out_folder` made, innermost first, where they are still empty."""
    for path in reversed(created):
        try:
            path.rmdir()
        except OSError:  # something was written there after all, or it is gone: keep what is
            return


def fallback_folder(prefix: str) -> Path:
    """A fresh folder under the system's temporary directory, for results the chosen folder would not take."""
    return Path(tempfile.mkdtemp(prefix=prefix))
