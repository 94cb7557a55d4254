"""``python -m weights_copy``: the shell copy, in-process for its exit codes and messages, and as a real process for
Ctrl-C."""

from __future__ import annotations

from typing import Any

import pytest
from emulated_models import model_files
from hub_emulator import HubEmulator
from weights_copy.__main__ import main

SMALL_REPO = "acme/tiny-model"
TOKEN = "hf_ShellSecretToken42"


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, s3_endpoint: str) -> None:
    """Credentials and endpoints for moto, nothing from the machine (no profile, no HF_TOKEN)."""
    for name in ("HF_TOKEN", "HF_ENDPOINT", "AWS_PROFILE", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_endpoint)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")


def _run(hub: HubEmulator, s3: Any, *args: str) -> int:
    return main([SMALL_REPO, "--bucket", s3.bucket, "--hub-endpoint", hub.endpoint, "--part-size-mb", "5", *args])


def test_an_hf_token_with_a_trailing_crlf_is_used_without_it(
    hub: HubEmulator, s3: Any, aws_env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    hub.add_repo(SMALL_REPO, model_files(shard_bytes=64 * 1024), gated=True, approved={TOKEN})
    monkeypatch.setenv("HF_TOKEN", f"{TOKEN}\r\n")
    assert _run(hub, s3) == 0, capsys.readouterr().err
    assert TOKEN not in "".join(capsys.readouterr())


def test_an_hf_token_with_a_line_break_inside_fails_in_one_line_without_echoing_it(
    hub: HubEmulator, s3: Any, aws_env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    hub.add_repo(SMALL_REPO, model_files(shard_bytes=64 * 1024), gated=True, approved={TOKEN})
    monkeypatch.setenv("HF_TOKEN", f"{TOKEN[:6]}\r\n{TOKEN[6:]}")
    assert _run(hub, s3) == 1
    out, err = capsys.readouterr()
    assert TOKEN[6:] not in out + err
    assert err.strip().splitlines()[-1].startswith("copy failed: the Hub token in HF_TOKEN has a control")
