"""``python -m weights_copy``: the shell copy, in-process for its exit codes and messages, and as a real process for
Ctrl-C."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
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


def _one_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1, text
    assert "Traceback" not in text
    return lines[0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--part-size-mb", "1"], "--part-size-mb: '1': give a whole number from 5 to 5120"),
        (["--part-size-mb", "6000"], "--part-size-mb: '6000': give a whole number from 5 to 5120"),
        (["--part-size-mb", "big"], "--part-size-mb: 'big': give a whole number"),
        (["--max-in-flight", "0"], "--max-in-flight: '0': give a whole number 1 or more"),
        (["--parallel-files", "-1"], "--parallel-files: '-1': give a whole number 1 or more"),
        (["--revision", ""], "--revision: revision is empty"),
        (["--revision", "main\n"], "--revision: revision 'main\\n' has a control character"),
        (["--hub-endpoint", "huggingface.co"], "--hub-endpoint: Hub endpoint 'huggingface.co': give an http"),
    ],
)
def test_bad_options_are_refused_in_one_line_with_exit_2(
    hub: HubEmulator, s3: Any, aws_env: None, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    hub.add_repo(SMALL_REPO, model_files(shard_bytes=64 * 1024))
    with pytest.raises(SystemExit) as exited:
        _run(hub, s3, *args)
    assert exited.value.code == 2
    line = _one_line(capsys.readouterr().err)
    assert line.startswith("python -m weights_copy: error: argument ") and message in line, line
    assert sum(hub.requests.values()) == 0


@pytest.mark.parametrize(
    ("repo_id", "message"),
    [("gpt2", "a repo id is 'owner/name'"), ("../../etc/x", "must be 'owner/name'"), ("a/b--c", "without '--'")],
)
def test_a_bad_repo_id_is_refused_in_one_line_with_exit_2(
    s3: Any, aws_env: None, capsys: pytest.CaptureFixture[str], repo_id: str, message: str
) -> None:
    with pytest.raises(SystemExit) as exited:
        main([repo_id, "--bucket", s3.bucket])
    assert exited.value.code == 2
    assert message in _one_line(capsys.readouterr().err)


def _stderr_line(capsys: pytest.CaptureFixture[str]) -> str:
    """The last line of stderr, after the INFO log lines of the run, with no traceback anywhere."""
    err = capsys.readouterr().err
    assert "Traceback" not in err, err
    return err.strip().splitlines()[-1]


def test_a_missing_bucket_fails_in_one_line(
    hub: HubEmulator, s3: Any, aws_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    hub.add_repo(SMALL_REPO, model_files(shard_bytes=64 * 1024))
    assert main([SMALL_REPO, "--bucket", "no-such-bucket", "--hub-endpoint", hub.endpoint]) == 1
    assert _stderr_line(capsys) == (
        "copy failed: bucket 'no-such-bucket' does not exist (or is not in this account): create it or fix --bucket"
    )


def test_a_missing_secret_fails_in_one_line(
    hub: HubEmulator, s3: Any, aws_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    hub.add_repo(SMALL_REPO, model_files(shard_bytes=64 * 1024))
    assert _run(hub, s3, "--token-secret", "hf/no-such-secret") == 1
    assert _stderr_line(capsys) == (
        "copy failed: secret 'hf/no-such-secret' not found in this account and region: fix --token-secret or --region"
    )


def test_no_region_fails_in_one_line_with_exit_2(
    hub: HubEmulator, s3: Any, aws_env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.delenv("AWS_REGION", raising=False)
    hub.add_repo(SMALL_REPO, model_files(shard_bytes=64 * 1024))
    assert _run(hub, s3, "--token-secret", "hf/token") == 2
    assert _stderr_line(capsys) == "copy failed: no AWS region: pass --region or set AWS_REGION"


def test_no_credentials_fail_in_one_line(
    hub: HubEmulator, s3: Any, aws_env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    hub.add_repo(SMALL_REPO, model_files(shard_bytes=64 * 1024))
    assert _run(hub, s3) == 1
    assert _stderr_line(capsys).startswith("copy failed: no AWS credentials found")


def test_the_gated_repo_message_names_the_shell_options(
    hub: HubEmulator, s3: Any, aws_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    hub.add_repo(SMALL_REPO, model_files(shard_bytes=64 * 1024), gated=True, approved={TOKEN})
    assert _run(hub, s3) == 1
    line = _stderr_line(capsys)
    assert line.endswith(
        "gated: request access on the Hub and pass a token of an approved account "
        "(--token-secret <Secrets Manager id>, or HF_TOKEN)"
    ), line
    assert "weights.hf_token_secret" not in line


ROOT = Path(__file__).resolve().parents[2]


def _wait_for(condition: Callable[[], bool], what: str, process: subprocess.Popen[str]) -> None:
    """Poll until ``condition`` holds; a generous bound only turns a hang into a failure (not a timing check)."""
    deadline = time.monotonic() + 120
    while not condition():
        assert process.poll() is None, f"the copy ended before {what}: {process.communicate()}"
        assert time.monotonic() < deadline, f"never saw {what}"
        time.sleep(0.05)


def _uploads(s3: Any) -> set[str]:
    return {u["UploadId"] for u in s3.list_multipart_uploads(Bucket=s3.bucket).get("Uploads", [])}


@pytest.mark.parametrize("presses", [1, 2])
def test_ctrl_c_stops_at_once_aborts_only_this_runs_uploads_and_exits_130(
    hub: HubEmulator, s3: Any, s3_endpoint: str, presses: int
) -> None:
    """The CDN goes silent mid-part (a stalled read, which only closing the socket ends): Ctrl-C, once or twice,
    must still end the run, abort the uploads it started, leave another run's upload alone, and say so in a line."""
    files = model_files(shard_bytes=12 * 1024 * 1024)  # two shards of three 5 MiB parts
    commit = hub.add_repo(SMALL_REPO, files)
    hub.fail("stall", "/blobs/", times=1000)
    other_run = s3.create_multipart_upload(Bucket=s3.bucket, Key=f"models/{SMALL_REPO}/{commit}/other-run.bin")
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(ROOT / "lambda" / "weights_copy"),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": s3_endpoint,
        "AWS_CONFIG_FILE": "/nonexistent",
        "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
    }
    command = [sys.executable, "-m", "weights_copy", SMALL_REPO, "--bucket", s3.bucket]
    command += ["--hub-endpoint", hub.endpoint, "--part-size-mb", "5", "--max-in-flight", "3", "--parallel-files", "2"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(lambda: hub.requests["fault-stall"] >= 2 and len(_uploads(s3)) >= 3, "stalled parts", process)
        for _ in range(presses):
            process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
        hub.stalls_released.set()
    assert process.returncode == 130, err[-3000:]
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err[-3000:]
    last = err.strip().splitlines()[-1]
    assert last.startswith("interrupted: stopped; 2 unfinished upload(s) of this run aborted (other runs' untouched)")
    assert _uploads(s3) == {other_run["UploadId"]}
    copied = s3.list_objects_v2(Bucket=s3.bucket, Prefix=f"models/{SMALL_REPO}/").get("Contents", [])
    assert not any(o["Key"].endswith(".safetensors") for o in copied)
    assert out == ""


def test_a_retry_wait_ends_when_the_run_is_stopped() -> None:
    from weights_copy.__main__ import _sleep_unless
    from weights_copy.errors import CopyCancelled

    stop = threading.Event()
    stop.set()
    with pytest.raises(CopyCancelled, match="stopped during a retry wait"):
        _sleep_unless(stop)(300.0)


def test_the_shell_copy_selects_what_a_deployment_selects_unless_told_otherwise(
    hub: HubEmulator, s3: Any, aws_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    files = {**model_files(shard_bytes=64 * 1024), "original/consolidated.00.pth": b"\x80pickle", "README.md": b"#"}
    commit = hub.add_repo(SMALL_REPO, files)
    assert _run(hub, s3) == 0, capsys.readouterr().err
    prefix = f"models/{SMALL_REPO}/{commit}/"
    listed = s3.list_objects_v2(Bucket=s3.bucket, Prefix=prefix).get("Contents", [])
    copied = {o["Key"].removeprefix(prefix) for o in listed}
    assert copied == {p for p in files if p.endswith((".safetensors", ".json"))}  # not README.md, not original/
    assert _run(hub, s3, "--allow-pattern", "*.md") == 0
    listed = s3.list_objects_v2(Bucket=s3.bucket, Prefix=prefix).get("Contents", [])
    assert "README.md" in {o["Key"].removeprefix(prefix) for o in listed}


def test_the_shell_copies_the_default_branch_unless_given_a_revision(
    hub: HubEmulator, s3: Any, aws_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """As a deployment without model.revision does: the repo's default branch, which need not be main."""
    on_main = hub.add_repo(SMALL_REPO, model_files(shard_bytes=64 * 1024, seed=1))
    on_release = hub.add_repo(SMALL_REPO, model_files(shard_bytes=64 * 1024, seed=2), default_branch="release")
    assert _run(hub, s3) == 0, capsys.readouterr().err
    assert f"/{on_release}/ ({on_release})" in capsys.readouterr().out
    assert _run(hub, s3, "--revision", "main") == 0
    assert f"/{on_main}/ ({on_main})" in capsys.readouterr().out
