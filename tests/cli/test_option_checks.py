"""Options checked before any work: an output folder that cannot be written and out-of-range numbers are one line
each (the option, the value, the fix), exit 2, before a request is sent; results are never lost at the end."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from tgi_emulator import Behaviour, TgiEmulator

from tgi_sagemaker.cli import bench_report
from tgi_sagemaker.cli.command_line import main


def _fast() -> Behaviour:
    """A fresh one each test: it records the requests it was sent."""
    return Behaviour(ttft_s=0.0, itl_s=0.0, output_tokens=4)


def _one_error_line(capsys: pytest.CaptureFixture[str], *needles: str) -> str:
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err + captured.out
    lines = [line for line in captured.err.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    for needle in needles:
        assert needle in lines[0]
    return lines[0]


@pytest.mark.parametrize("in_the_way", ["afile", "afile/sub"])
def test_bench_out_under_a_file_is_refused_before_any_request(
    tgi: TgiEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str], in_the_way: str
) -> None:
    tgi.behaviour = _fast()
    (tmp_path / "afile").write_text("not a folder")
    out = tmp_path / in_the_way
    assert main(["bench", "--url", tgi.url, "--requests", "2", "--out", str(out)]) == 2
    _one_error_line(capsys, f"--out {out}", "a file, not a folder", "Fix:")
    assert tgi.behaviour.requests == []  # nothing sent, nothing paid for


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
def test_bench_out_without_permission_is_refused_before_any_request(
    tgi: TgiEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tgi.behaviour = _fast()
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    assert main(["bench", "--url", tgi.url, "--requests", "2", "--out", str(locked / "run")]) == 2
    _one_error_line(capsys, f"--out {locked / 'run'}", "cannot write there", "Fix:")
    assert tgi.behaviour.requests == []


def test_bench_results_that_cannot_be_written_at_the_end_go_to_a_temporary_folder(
    tgi: TgiEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The folder was fine before the run, then the disk filled: the figures land elsewhere, said, exit 1."""
    tgi.behaviour = _fast()
    out = tmp_path / "run"
    real_write_csv = bench_report._write_csv

    def disk_full_in_out(path: Path, records: list[bench_report.RequestRecord]) -> Path:
        if path.parent == out:
            raise OSError(28, "No space left on device")
        return real_write_csv(path, records)

    monkeypatch.setattr(bench_report, "_write_csv", disk_full_in_out)
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", None)  # TMPDIR is read again
    assert main(["bench", "--url", tgi.url, "--requests", "2", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and f"could not write the results in {out}" in err
    (fallback,) = (tmp_path / "tmp").iterdir()
    assert f"written in {fallback} instead" in err and f"results: {fallback}/" in err
    assert (fallback / "requests.csv").is_file() and (fallback / "summary.json").is_file()


def test_report_out_under_a_file_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = Path(__file__).parents[2] / "bench" / "price_performance" / "bench-fast"
    (tmp_path / "afile").write_text("not a folder")
    assert main(["report", str(folder), "--out", str(tmp_path / "afile")]) == 2
    _one_error_line(capsys, f"--out {tmp_path / 'afile'}", "a file, not a folder", "e.g. --out bench-report")


@pytest.mark.parametrize(
    ("command", "option", "value", "shown"),
    [
        ("invoke", "--timeout", "-1", "--timeout = -1: must be > 0 seconds. Fix: e.g. --timeout 300"),
        ("invoke", "--timeout", "0", "--timeout = 0: must be > 0 seconds"),
        ("invoke", "--timeout", "inf", "--timeout = inf: must be > 0 seconds"),
        ("invoke", "--wake-up-timeout", "-5", "--wake-up-timeout = -5: must be >= 0 seconds"),
        ("invoke", "--wake-up-interval", "0", "--wake-up-interval = 0: must be > 0 seconds"),
        ("invoke", "--max-tokens", "0", "--max-tokens = 0: must be >= 1 tokens. Fix: e.g. --max-tokens 2048"),
        ("invoke", "--max-tokens", "-1", "--max-tokens = -1: must be >= 1 tokens"),
        ("invoke", "--temperature", "-1", "--temperature = -1: must be 0 to 100. Fix: e.g. --temperature 0.6"),
        ("invoke", "--temperature", "nan", "--temperature = nan: must be 0 to 100"),
        ("invoke", "--seed", "-3", "--seed = -3: must be >= 0"),
        ("bench", "--timeout", "-1", "--timeout = -1: must be > 0 seconds"),
        ("bench", "--temperature", "-0.5", "--temperature = -0.5: must be 0 to 100"),
        ("bench", "--requests", "0", "--requests = 0: must be >= 1. Fix: e.g. --requests 20"),
        ("bench", "--burstiness", "0", "--burstiness = 0: must be > 0. Fix: e.g. --burstiness 1"),
        ("bench", "--max-concurrency", "0", "--max-concurrency = 0: must be >= 1"),
    ],
)
def test_numeric_options_out_of_range_are_one_line_before_any_request(
    tgi: TgiEmulator,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    command: str,
    option: str,
    value: str,
    shown: str,
) -> None:
    tgi.behaviour = _fast()
    tail = ["hi"] if command == "invoke" else ["--requests", "2", "--out", str(tmp_path / "run")]
    args = [command, "--url", tgi.url, f"{option}={value}", *tail]
    if option == "--requests":
        args = [command, "--url", tgi.url, "--out", str(tmp_path / "run"), f"{option}={value}"]
    assert main(args) == 2
    _one_error_line(capsys, shown)
    assert tgi.behaviour.requests == []
    assert not (tmp_path / "run").exists()


def test_every_out_of_range_number_is_said_at_once(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["invoke", "--url", "http://127.0.0.1:9", "--timeout", "0", "--max-tokens", "0", "hi"]) == 2
    err = capsys.readouterr().err
    assert "--timeout = 0" in err and "--max-tokens = 0" in err


@pytest.mark.parametrize(
    ("option", "value", "shown"),
    [
        ("--slo-percentile", "150", "--slo-percentile = 150: must be 0 to 100. Fix: e.g. --slo-percentile 90"),
        ("--max-error-rate", "2", "--max-error-rate = 2: must be 0 to 1. Fix: e.g. --max-error-rate 0.01"),
    ],
)
def test_report_numbers_name_reports_own_options(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], option: str, value: str, shown: str
) -> None:
    folder = Path(__file__).parents[2] / "bench" / "price_performance" / "bench-fast"
    assert main(["report", str(folder), f"{option}={value}", "--out", str(tmp_path / "report")]) == 2
    line = _one_error_line(capsys, shown)
    assert "--percentiles" not in line
