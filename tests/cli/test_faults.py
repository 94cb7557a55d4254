"""Connections that drop, reset or stall mid-stream, and failures the server sends mid-stream, on both transports:
every one is a recorded per-request error with its message, ``invoke`` says it in one line, a bench level ends."""

from __future__ import annotations

import csv
import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from tgi_emulator import Failure, SageMakerRuntimeEmulator, TgiEmulator

from tgi_sagemaker.cli.bench import Workload, run_level
from tgi_sagemaker.cli.client.payloads import Api
from tgi_sagemaker.cli.client.transports import TgiUrlTransport
from tgi_sagemaker.cli.command_line import main

# What each fault looks like from the client, on each transport (the message names the cause, not a line number)
FAULTS: dict[str, dict[Failure, str]] = {
    "tgi": {
        "drop": "IncompleteRead",
        "reset": "Connection reset by peer",
        "stall": "timed out",
        "stream_error": "CUDA out of memory",
    },
    "sagemaker": {
        "drop": "connection broken mid-stream: ProtocolError: Response ended prematurely",
        "reset": "Connection reset by peer",
        "stall": "Read timed out",
        "internal_stream_failure": "InternalStreamFailure: Internal stream failure",
        "corrupt_event": "corrupt event stream: ChecksumMismatch",
    },
}
SERVED_BEFORE_MEASURING: list[Failure | None] = [None] * 3  # the warm-up request and two calibration probes
STALL_TIMEOUT = ["--timeout", "1"]  # the client's read timeout: a stalled stream fails after a second
HANG_LIMIT_S = 60.0  # a run that has not ended by then hangs (each run here takes a few seconds)
T = TypeVar("T")


def _within(seconds: float, call: Callable[[], T]) -> T:
    """``call()``'s result; fails instead of hanging the test session when it does not return in time."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["result"] = call()
        except BaseException as error:  # re-raised below, in the test's own thread
            outcome["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still running after {seconds:.0f} s: it hangs"
    if "error" in outcome:
        raise outcome["error"]
    result: T = outcome["result"]
    return result


@pytest.fixture(params=["tgi", "sagemaker"])
def server(request: pytest.FixtureRequest) -> Iterator[tuple[str, TgiEmulator | SageMakerRuntimeEmulator, list[str]]]:
    """Each transport with its emulator and the target arguments that reach it."""
    if request.param == "tgi":
        tgi = TgiEmulator()
        yield "tgi", tgi, ["--url", tgi.url]
        tgi.close()
        return
    sagemaker = request.getfixturevalue("sagemaker")  # the conftest's: fake credentials in the environment
    target = ["--endpoint", "tgi-endpoint:tgi-component", "--endpoint-url", sagemaker.url, "--region", "us-east-1"]
    yield "sagemaker", sagemaker, target


def test_every_fault_is_a_recorded_error_and_the_level_ends(
    server: tuple[str, TgiEmulator | SageMakerRuntimeEmulator, list[str]], tmp_path: Path
) -> None:
    kind, emulator, target = server
    faults = FAULTS[kind]
    emulator.behaviour.failures.extend([*SERVED_BEFORE_MEASURING, *faults])  # then one measured request a fault
    args = ["bench", *target, *STALL_TIMEOUT, "--requests", "8", "--concurrency", "4", "--input-tokens", "8"]
    assert _within(HANG_LIMIT_S, lambda: main([*args, "--out", str(tmp_path)])) == 0  # some succeeded
    (level,) = json.loads((tmp_path / "summary.json").read_text())["levels"]
    assert (level["finished"], level["succeeded"], level["errors"]) == (8, 8 - len(faults), len(faults))
    with (tmp_path / "requests.csv").open() as handle:
        errors = [row["error"] for row in csv.DictReader(handle) if row["error"]]
    for fault, message in faults.items():
        assert sum(message in error for error in errors) == 1, (fault, message, errors)


@pytest.mark.parametrize("fault", ["drop", "reset", "stall"])
def test_invoke_says_a_broken_connection_in_one_line(
    server: tuple[str, TgiEmulator | SageMakerRuntimeEmulator, list[str]],
    fault: Failure,
    capsys: pytest.CaptureFixture[str],
) -> None:
    kind, emulator, target = server
    emulator.behaviour.failures.append(fault)
    assert _within(HANG_LIMIT_S, lambda: main(["invoke", *target, *STALL_TIMEOUT, "hello"])) == 1
    err = capsys.readouterr().err
    *streamed, last = err.strip().splitlines()
    assert FAULTS[kind][fault] in last and "Traceback" not in err
    assert streamed == [] or "".join(streamed).startswith("Okay, the")  # what came before the fault, then one line


class _FailsFromTheSecondRequest:
    """A transport that raises ``failure`` from its second request on, as no transport should."""

    def __init__(self, inner: TgiUrlTransport, failure: BaseException) -> None:
        self._inner = inner
        self._failure = failure
        self._calls = 0
        self._lock = threading.Lock()

    @property
    def target(self) -> str:
        return self._inner.target

    def stream(self, api: Api, body: dict[str, Any]) -> Iterator[bytes]:
        with self._lock:
            self._calls += 1
            fails = self._calls >= 2
        if fails:
            raise self._failure
        return self._inner.stream(api, body)


@pytest.mark.parametrize(
    ("failure", "recorded", "unsent"),
    [
        # SystemExit ends a thread (nothing may swallow it): both workers die, the rest is recorded as not sent
        (SystemExit("the worker thread is gone"), "worker ended by SystemExit: the worker thread is gone", 3),
        # a defect in a transport: recorded with its type, and the workers go on with the rest
        (RuntimeError("a bug"), "unexpected RuntimeError: a bug", 0),
    ],
)
# The threads a SystemExit ends are meant to die; pytest reports each dead thread as a warning.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_level_ends_even_when_its_workers_die(
    tgi: TgiEmulator, failure: BaseException, recorded: str, unsent: int
) -> None:
    transport = _FailsFromTheSecondRequest(TgiUrlTransport(tgi.url), failure)
    workload = Workload(requests=6, input_tokens=8, warmup=0)
    records: list[Any] = []
    run = _within(
        HANG_LIMIT_S, lambda: run_level(transport, workload, 2, on_record=records.append, stop=threading.Event())
    )
    assert [record.index for record in run.records] == list(range(6))
    assert [record.error for record in run.records].count(None) == 1
    assert [record.error for record in run.records].count(recorded) == 6 - 1 - unsent
    assert [record.error for record in run.records].count("not sent: every worker had ended") == unsent
    assert len(records) == 6  # each one reported as it was recorded


def test_bench_exits_1_when_every_request_of_a_level_failed(
    tgi: TgiEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tgi.behaviour.failures.extend(["status_500"] * 4)
    args = ["bench", "--url", tgi.url, "--requests", "4", "--warmup", "0", "--input-tokens", "8"]
    assert main([*args, "--out", str(tmp_path)]) == 1
    (level,) = json.loads((tmp_path / "summary.json").read_text())["levels"]
    assert (level["succeeded"], level["errors"]) == (0, 4)  # written all the same, with the messages
    assert "at concurrency 1: every request failed (4 errors" in capsys.readouterr().err


@pytest.mark.parametrize("command", [["invoke", "hello"], ["bench"]])
def test_no_region_is_one_line_with_the_fix(
    command: list[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for key in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    for key in ("AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.setenv(key, str(tmp_path / "absent"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no region from an instance's metadata either
    name, *rest = command
    assert main([name, "--endpoint", "my-endpoint:my-component", *rest]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "--region not given and no AWS region configured. Fix: pass --region (e.g. --region us-east-1" in err
