"""How a bench session shows its progress: live bars on a terminal, plain lines as it goes anywhere else.

Off a terminal (CI, nohup, ``tee``) rich's live display prints nothing until it stops, which for a 15-minute
scale-from-zero wait and a long sweep means silence; a log gets one line a step instead: each warm-up, each
wake-up retry, each level's start and end.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from types import TracebackType
from typing import Protocol

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from tgi_sagemaker.cli.bench import LevelRun, RequestRecord
from tgi_sagemaker.cli.bench_workload import PromptCalibration
from tgi_sagemaker.cli.client.streaming import WakeUpWait


class BenchProgress(Protocol):
    def __enter__(self) -> BenchProgress: ...

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None: ...

    def warm_up_started(self, target: str, requests: int) -> None: ...

    def waiting(self, target: str, wait: WakeUpWait) -> None: ...

    def warm_up_done(self, target: str, calibration: PromptCalibration) -> None: ...

    def level_started(self, target: str, level: int | float, requests: int) -> Callable[[RequestRecord], None]:
        """``level``: requests in flight (``int``, closed loop) or arrivals a second (``float``, open loop).
        Returns what to call with each record as it finishes."""
        ...

    def level_done(self, run: LevelRun) -> None: ...


def progress_for(console: Console) -> BenchProgress:
    return TerminalProgress(console) if console.is_terminal else LogProgress(console)


def _load(level: int | float) -> str:
    return f"c={level}" if isinstance(level, int) else f"{level:g}/s"


def _waiting_text(target: str, wait: WakeUpWait) -> str:
    return f"{target} warm-up: no capacity (scaled to zero), waking up: {wait.describe()}"


class TerminalProgress:
    """A bar a level, updated in place."""

    def __init__(self, console: Console) -> None:
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[errors]}"),
        )
        self._progress = Progress(*columns, TimeElapsedColumn(), console=console)
        self._warm_ups: dict[str, TaskID] = {}

    def __enter__(self) -> TerminalProgress:
        self._progress.__enter__()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._progress.__exit__(kind, error, trace)

    def warm_up_started(self, target: str, requests: int) -> None:
        self._warm_ups[target] = self._progress.add_task(f"{target} warm-up", total=None, errors="")

    def waiting(self, target: str, wait: WakeUpWait) -> None:
        self._progress.update(self._warm_ups[target], description=_waiting_text(target, wait))

    def warm_up_done(self, target: str, calibration: PromptCalibration) -> None:
        task = self._warm_ups[target]
        self._progress.update(task, description=f"{target} warm-up, prompt lengths {calibration.note}", total=1)
        self._progress.update(task, completed=1)

    def level_started(self, target: str, level: int | float, requests: int) -> Callable[[RequestRecord], None]:
        task = self._progress.add_task(f"{target} {_load(level)}", total=requests, errors="")
        errors = 0

        def on_record(record: RequestRecord) -> None:
            nonlocal errors
            errors += record.error is not None
            self._progress.update(task, advance=1, errors=f"[red]{errors} errors[/]" if errors else "")

        return on_record

    def level_done(self, run: LevelRun) -> None:
        pass  # the bar says it


class LogProgress:
    """One plain line a step, printed when it happens."""

    def __init__(self, console: Console) -> None:
        self._console = console
        self._started = time.monotonic()

    def __enter__(self) -> LogProgress:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        pass

    def warm_up_started(self, target: str, requests: int) -> None:
        self._line(f"{target} warm-up: {requests} request(s), not measured")

    def waiting(self, target: str, wait: WakeUpWait) -> None:
        self._line(_waiting_text(target, wait))

    def warm_up_done(self, target: str, calibration: PromptCalibration) -> None:
        self._line(f"{target} warm-up done; prompt lengths {calibration.note}")

    def level_started(self, target: str, level: int | float, requests: int) -> Callable[[RequestRecord], None]:
        how = f"{level} in flight" if isinstance(level, int) else f"arriving at {level:g} a second (open loop)"
        self._line(f"{target} {_load(level)}: {requests} requests, {how}")
        return lambda record: None

    def level_done(self, run: LevelRun) -> None:
        errors = sum(record.error is not None for record in run.records)
        stopped = " (stopped by Ctrl-C)" if run.interrupted else ""
        self._line(
            f"{run.target} {run.load}: {len(run.records)}/{run.planned} done, {errors} errors, "
            f"{run.wall_s:.1f} s{stopped}"
        )

    def _line(self, text: str) -> None:
        elapsed = time.monotonic() - self._started
        self._console.print(f"[{elapsed:7.1f} s] {text}", markup=False, highlight=False)
