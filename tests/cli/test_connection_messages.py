"""A target's connection failures say the fix: nothing listening, an unknown host, and on both transports a first
token slower than --timeout (named, with how to raise it, not reported as a dropped connection)."""

from __future__ import annotations

import socket

import pytest
from tgi_emulator import Behaviour, SageMakerRuntimeEmulator, TgiEmulator

from tgi_sagemaker.cli.command_line import main


def _closed_port() -> int:
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_nothing_listening_says_check_the_server_and_port(capsys: pytest.CaptureFixture[str]) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    assert main(["invoke", "--url", url, "hi"]) == 1
    err = capsys.readouterr().err
    assert "ConnectionRefusedError" in err
    assert "Fix: is the server running, and listening at this URL (host and port)?" in err


def test_a_first_token_slower_than_the_timeout_names_the_timeout(
    tgi: TgiEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    tgi.behaviour = Behaviour(ttft_s=3.0, itl_s=0.0, output_tokens=2)
    assert main(["invoke", "--url", tgi.url, "--timeout", "0.5", "hi"]) == 1
    err = " ".join(capsys.readouterr().err.split())  # the console may wrap a long line
    assert "no data for 0.5 s, the --timeout" in err and "Fix: a larger --timeout" in err
    assert "connection broken mid-stream" not in err


def test_an_endpoint_slower_than_the_timeout_names_the_timeout(
    sagemaker: SageMakerRuntimeEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    sagemaker.behaviour = Behaviour(ttft_s=3.0, itl_s=0.0, output_tokens=2)
    target = ["--endpoint", "tgi-endpoint:tgi-component", "--endpoint-url", sagemaker.url, "--region", "us-east-1"]
    assert main(["invoke", *target, "--timeout", "0.5", "hi"]) == 1
    err = " ".join(capsys.readouterr().err.split())
    assert "tgi-endpoint/tgi-component: no data for 0.5 s, the --timeout" in err
    assert "Fix: a larger --timeout" in err and "ReadTimeoutError" in err  # urllib3's words kept, in brackets
    assert "connection broken mid-stream" not in err
