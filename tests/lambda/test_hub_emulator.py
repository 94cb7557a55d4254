"""The emulator speaks the Hub's protocol: the real huggingface_hub client downloads from it byte for byte."""

from __future__ import annotations

import json
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


MODEL_INFO = """
import json, sys
from huggingface_hub import HfApi
api, repo = HfApi(endpoint=sys.argv[1]), sys.argv[2]
print(json.dumps({"default": api.model_info(repo).sha, "main": api.model_info(repo, revision="main").sha}))
"""


def _snapshot_download(
    hub: HubEmulator, tmp_path: Path, revision: str, token: str | None = None, repo_id: str = REPO
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
        [sys.executable, "-c", DOWNLOAD, repo_id, revision, str(tmp_path / "cache")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def _downloaded(result: subprocess.CompletedProcess[str]) -> tuple[Path, dict[str, bytes]]:
    assert result.returncode == 0, result.stderr[-3000:]
    folder = Path(result.stdout.strip().splitlines()[-1])
    return folder, {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_snapshot_download_gets_byte_identical_files(hub: HubEmulator, tmp_path: Path) -> None:
    files = model_files()
    commit = hub.add_repo(REPO, files)
    folder, downloaded = _downloaded(_snapshot_download(hub, tmp_path, "main"))
    assert folder.name == commit
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


def test_snapshot_download_follows_the_paged_tree_past_truncated_siblings(hub: HubEmulator, tmp_path: Path) -> None:
    """The real client lists files through the tree API and follows its Link rel="next" pages as the emulator
    serves them; the revision API's siblings (truncated here as the Hub does for large repos) are not needed."""
    hub.siblings_limit = 1
    hub.tree_page_size = 2
    files = model_files(shard_bytes=64 * 1024)
    files.update({f"extra/sub-{i}/notes.txt": f"notes {i}\n".encode() for i in range(4)})
    hub.add_repo(REPO, files)
    _, downloaded = _downloaded(_snapshot_download(hub, tmp_path, "main"))
    assert downloaded == files
    assert hub.requests["tree"] > len(files) // 2  # every page, each by its cursor
    assert sum("cursor=" in p for p in hub.hub_paths) == hub.requests["tree"] - 1


def test_snapshot_download_follows_a_renamed_repo(hub: HubEmulator, tmp_path: Path) -> None:
    """The Hub answers a renamed repo's API and /resolve URLs with a relative 307; the real client follows it."""
    files = model_files(shard_bytes=64 * 1024)
    hub.add_repo("old-owner/old-name", files, gated=True, approved={"hf_approved"})
    hub.rename_repo("old-owner/old-name", REPO)
    result = _snapshot_download(hub, tmp_path, "main", token="hf_approved", repo_id="old-owner/old-name")
    assert _downloaded(result)[1] == files
    assert hub.requests["rename-307"] >= 2 + len(files)
    assert hub.authorization_seen_by_cdn == []


def test_the_model_api_without_a_revision_answers_for_the_default_branch(hub: HubEmulator) -> None:
    """huggingface_hub's model_info without a revision asks ``/api/models/{repo}`` (with one,
    ``.../revision/{revision}``), which the Hub answers for the repo's default branch: the emulator's repo here has
    ``release`` as its default, and the real client gets that branch's commit, and main's when it names main."""
    on_main = hub.add_repo(REPO, model_files(shard_bytes=64 * 1024, seed=1))
    on_release = hub.add_repo(REPO, model_files(shard_bytes=64 * 1024, seed=2), default_branch="release")
    env = {"HF_HUB_DISABLE_TELEMETRY": "1", "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-c", MODEL_INFO, hub.endpoint, REPO], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout) == {"default": on_release, "main": on_main}
    assert f"/api/models/{REPO}" in hub.hub_paths and f"/api/models/{REPO}/revision/main" in hub.hub_paths
