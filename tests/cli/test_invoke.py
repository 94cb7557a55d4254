"""``tgi-sagemaker invoke`` against the emulators: answer apart from reasoning, wake-up ridden out, clear errors."""

from __future__ import annotations

import io
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import pytest
from rich.console import Console
from tgi_emulator import SageMakerRuntimeEmulator, TgiEmulator

from tgi_sagemaker.cli.client.streaming import stream_completion
from tgi_sagemaker.cli.client.transports import EndpointError, NoCapacity, SageMakerTransport, TgiUrlTransport
from tgi_sagemaker.cli.command_line import main
from tgi_sagemaker.cli.invoke import InvokeOptions, invoke

R1_OUTPUT = ["Okay", ",", " two", " plus", " two", ".", "\n", "</think>", "\n\n", "It", " is", " 4", "."]


def _endpoint_args(sagemaker: SageMakerRuntimeEmulator) -> list[str]:
    return ["--endpoint", "tgi-endpoint:tgi-component", "--endpoint-url", sagemaker.url, "--region", "us-east-1"]


@pytest.mark.parametrize("api", ["messages", "generate"])
def test_answer_on_stdout_reasoning_and_figures_on_stderr(
    sagemaker: SageMakerRuntimeEmulator, capsys: pytest.CaptureFixture[str], api: str
) -> None:
    sagemaker.behaviour.script = list(R1_OUTPUT)
    sagemaker.behaviour.output_tokens = len(R1_OUTPUT)
    assert main(["invoke", *_endpoint_args(sagemaker), "--api", api, "What is 2+2?"]) == 0
    out, err = capsys.readouterr()
    assert out == "It is 4.\n"
    assert err.startswith("Okay, two plus two.\n")
    figures = " ".join(err.split())
    assert "time to first token" in figures
    assert f"3 input + {len(R1_OUTPUT)} output tokens" in figures  # the server's counts (3 prompt words)
    assert sagemaker.behaviour.requests[0]["stream"] is True


def test_hide_reasoning_prints_the_answer_only(tgi: TgiEmulator, capsys: pytest.CaptureFixture[str]) -> None:
    tgi.behaviour.script, tgi.behaviour.output_tokens = list(R1_OUTPUT), len(R1_OUTPUT)
    assert main(["invoke", "--url", tgi.url, "--hide-reasoning", "What is 2+2?"]) == 0
    out, err = capsys.readouterr()
    assert out == "It is 4.\n"
    assert "two plus" not in err


def test_reasoning_is_dimmed_on_a_terminal(tgi: TgiEmulator) -> None:
    tgi.behaviour.script, tgi.behaviour.output_tokens = list(R1_OUTPUT), len(R1_OUTPUT)
    out, err = io.StringIO(), io.StringIO()
    terminal = {"force_terminal": True, "color_system": "standard", "width": 200}
    code = invoke(
        TgiUrlTransport(tgi.url),
        InvokeOptions(prompt="What is 2+2?"),
        out=Console(file=out, **terminal),
        err=Console(file=err, **terminal),
    )
    assert code == 0
    assert "\x1b[2;3mOkay\x1b[0m" in err.getvalue()  # dim italic
    assert "It is 4." in out.getvalue() and "\x1b[2" not in out.getvalue()


def test_a_model_without_reasoning_still_gets_its_answer_on_stdout(
    tgi: TgiEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    tgi.behaviour.script, tgi.behaviour.output_tokens = ["Paris", " is", " the", " capital", "."], 5
    assert main(["invoke", "--url", tgi.url, "--hide-reasoning", "Capital of France?"]) == 0
    assert capsys.readouterr().out == "Paris is the capital.\n"
    assert main(["invoke", "--url", tgi.url, "--no-reasoning", "Capital of France?"]) == 0
    out, err = capsys.readouterr()
    assert out == "Paris is the capital.\n" and "Paris" not in err


def test_a_scaled_to_zero_endpoint_is_waited_for(
    sagemaker: SageMakerRuntimeEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    sagemaker.behaviour.failures.extend(["no_capacity"] * 3)
    args = [*_endpoint_args(sagemaker), "--wake-up-interval", "0.05", "--wake-up-timeout", "30", "hello"]
    assert main(["invoke", *args]) == 0
    out, err = capsys.readouterr()
    assert out.strip() == "The word word word word word word"  # the default script's answer
    waits = [line for line in err.splitlines() if "has no capacity (scaled to zero)" in line]
    assert len(waits) == 3 and "retry 3 in 0.05 s" in " ".join(err.split())  # visible: one line a retry in a log
    assert len(sagemaker.behaviour.requests) == 4


def test_the_wake_up_wait_has_a_deadline(
    sagemaker: SageMakerRuntimeEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    sagemaker.behaviour.failures.extend(["no_capacity"] * 100)
    args = [*_endpoint_args(sagemaker), "--wake-up-interval", "0.05", "--wake-up-timeout", "0.3", "hello"]
    assert main(["invoke", *args]) == 1
    err = capsys.readouterr().err
    assert "still no capacity after" in err and "--wake-up-timeout" in err
    assert 3 <= len(sagemaker.behaviour.requests) <= 8


@pytest.mark.parametrize(
    ("failure", "message"),
    [("status_422", "HTTP 422: Input validation error"), ("status_500", "HTTP 500"), ("stream_error", "CUDA out of")],
)
def test_tgi_errors_exit_1_with_the_servers_message(
    tgi: TgiEmulator, capsys: pytest.CaptureFixture[str], failure: Any, message: str
) -> None:
    tgi.behaviour.failures.append(failure)
    assert main(["invoke", "--url", tgi.url, "hello"]) == 1
    assert message in capsys.readouterr().err


def test_sagemaker_errors_name_the_target_and_the_models_status(
    sagemaker: SageMakerRuntimeEmulator, runtime_client: Any
) -> None:
    transport = SageMakerTransport(runtime_client, "tgi-endpoint", inference_component="tgi-component")
    sagemaker.behaviour.failures.extend(["status_500", "stream_error", "no_capacity"])
    body = {"inputs": "x", "parameters": {"max_new_tokens": 5}, "stream": True}
    with pytest.raises(EndpointError, match="tgi-endpoint/tgi-component: ModelError") as model_error:
        stream_completion(transport, "generate", body)
    assert model_error.value.status == 500
    with pytest.raises(EndpointError, match=r"ModelStreamError.*CUDA out of memory"):
        stream_completion(transport, "generate", body)
    with pytest.raises(NoCapacity):
        stream_completion(transport, "generate", body)
    wrong = SageMakerTransport(runtime_client, "other-endpoint", inference_component="tgi-component")
    with pytest.raises(EndpointError, match=r"ValidationError.*not found"):
        stream_completion(wrong, "generate", body)


def test_a_truncated_stream_is_an_error_not_a_short_answer(tgi: TgiEmulator) -> None:
    tgi.behaviour.failures.append("truncate")
    with pytest.raises(EndpointError, match="truncated"):
        stream_completion(TgiUrlTransport(tgi.url), "generate", {"inputs": "x", "parameters": {}, "stream": True})


def test_an_unreachable_url_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["invoke", "--url", "http://127.0.0.1:9", "hello"]) == 1
    assert "http://127.0.0.1:9: ConnectionRefusedError" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--endpoint", "bad_name"], "--endpoint = 'bad_name': endpoint 'bad_name' is not a SageMaker name"),
        (["--endpoint", "ok:bad component"], "inference component 'bad component' is not a SageMaker name"),
        (["--url", "ftp://x"], "--url = 'ftp://x': not an http(s) URL"),
        ([], "no target: pass --endpoint"),
        (["--url", "http://a", "--endpoint", "b"], "--endpoint and --url both given"),
    ],
)
def test_bad_targets_name_the_field_value_and_fix(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    assert main(["invoke", *args, "hello"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert message in err and ("Fix" in err or "pass" in err)


def _invoke_process(args: list[str]) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "tgi_sagemaker.cli", "invoke", *args]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _interrupt_when(process: subprocess.Popen[bytes], ready: Callable[[], bool]) -> tuple[int, str]:
    deadline = time.monotonic() + 30
    while not ready() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)  # into the stream, or the sleep between two wake-up tries
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=30)
    return process.returncode, err.decode()


def test_ctrl_c_while_streaming_exits_130_in_one_line(tgi: TgiEmulator) -> None:
    tgi.behaviour.ttft_s, tgi.behaviour.itl_s, tgi.behaviour.output_tokens = 0.1, 0.2, 200  # 40 s of tokens
    process = _invoke_process(["--url", tgi.url, "hello"])
    code, err = _interrupt_when(process, lambda: len(tgi.behaviour.requests) == 1)
    assert code == 130, err
    assert err.strip().splitlines()[-1] == "stopped by Ctrl-C" and "Traceback" not in err


def test_ctrl_c_while_waiting_for_a_copy_exits_130_in_one_line(sagemaker: SageMakerRuntimeEmulator) -> None:
    sagemaker.behaviour.failures.extend(["no_capacity"] * 100)
    process = _invoke_process([*_endpoint_args(sagemaker), "--wake-up-interval", "1", "hello"])
    code, err = _interrupt_when(process, lambda: len(sagemaker.behaviour.requests) >= 2)
    assert code == 130, err
    assert err.strip().splitlines()[-1] == "stopped by Ctrl-C" and "Traceback" not in err


def test_a_retry_interval_longer_than_the_time_left_still_gets_a_last_try(
    sagemaker: SageMakerRuntimeEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    """15 s between tries, 0.5 s to wait: it waits the 0.5 s and tries again (it used to give up at once)."""
    sagemaker.behaviour.failures.append("no_capacity")
    args = [*_endpoint_args(sagemaker), "--wake-up-interval", "15", "--wake-up-timeout", "0.5", "hello"]
    assert main(["invoke", *args]) == 0
    assert re.search(r"Waited 0\.?\d* s of 0\.5 s, retry 1 in 0\.[45]\d* s", capsys.readouterr().err)
    assert len(sagemaker.behaviour.requests) == 2
