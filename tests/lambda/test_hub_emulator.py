"""The emulator speaks the Hub's protocol: the real huggingface_hub client downloads from it byte for byte."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from emulated_models import REPO, model_files
from hub_emulator import HubEmulator

DOWNLOAD = """
import sys
from huggingface_hub import snapshot_download
print(snapshot_download(sys.argv[1], revision=sys.argv[2], cache_dir=sys.argv[3]))
"""


def _snapshot_download(
    hub: HubEmulator, tmp_path: Path, revision: str, token: str | None = None
) -> subprocess.CompletedProcess[str]:
    # A fresh process: huggingface_hub reads HF_ENDPOINT once, at import.
    env = {
        "HF_ENDPOINT": hub.endpoint,
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "HF_HUB_DISABLE_XET": "1",
        "HF_HUB_DISABLE_PROGRESS_BARS": "1",
        "PATH": "/usr/bin:/bin",
    }
    if token:
        env["HF_TOKEN"] = token
    return subprocess.run(
        [sys.executable, "-c", DOWNLOAD, REPO, revision, str(tmp_path / "cache")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_snapshot_download_gets_byte_identical_files(hub: HubEmulator, tmp_path: Path) -> None:
    files = model_files()
    commit = hub.add_repo(REPO, files)
    result = _snapshot_download(hub, tmp_path, "main")
    assert result.returncode == 0, result.stderr[-3000:]
    folder = Path(result.stdout.strip().splitlines()[-1])
    assert folder.name == commit
    downloaded = {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    assert downloaded == files
    assert hub.requests["cdn-get"] >= 2  # the shards came from the CDN host, through the 302
    assert hub.authorization_seen_by_cdn == []


def test_snapshot_download_sees_gated_and_missing_repos_as_the_hub_reports_them(
    hub: HubEmulator, tmp_path: Path
) -> None:
    hub.add_repo(REPO, model_files(shard_bytes=64 * 1024), gated=True, approved={"hf_approved"})
    denied = _snapshot_download(hub, tmp_path, "main")
    assert denied.returncode != 0 and "GatedRepoError" in denied.stderr
    allowed = _snapshot_download(hub, tmp_path, "main", token="hf_approved")
    assert allowed.returncode == 0, allowed.stderr[-2000:]
    missing = _snapshot_download(hub, tmp_path, "no-such-revision", token="hf_approved")
    assert missing.returncode != 0 and "RevisionNotFoundError" in missing.stderr
