"""Repo ids, revisions, commits and file paths are checked before they go into a URL or an S3 key."""

from __future__ import annotations

import pytest
from hub_emulator import HubEmulator
from huggingface_hub.errors import HFValidationError
from huggingface_hub.utils import validate_repo_id as hub_validate_repo_id
from weights_copy.errors import CopyError
from weights_copy.hub import HubApi
from weights_copy.names import check_repo_id

REPO_IDS = [
    "deepseek-ai/DeepSeek-R1",
    "Qwen/Qwen2.5-7B-Instruct",
    "a/b",
    "_x/_y_",
    "o/" + "n" * 96,
    "o" * 96 + "/n",
    "o/" + "n" * 97,
    "o" * 97 + "/n",
    "owner/name.v1",
    "owner/name.git",
    "owner/.name",
    "owner/name.",
    "owner/-name",
    "owner/name-",
    "-owner/name",
    "owner./name",
    "owner/na..me",
    "owner/na--me",
    "owner/na me",
    "owner/caf\u00e9",
    "owner/name/extra",
    "owner/",
    "/name",
    "../../etc",
    "owner/..",
    "owner/na%2fme",
    "owner/name\n",
    "owner/name?x=1",
    "owner/name#frag",
]


@pytest.mark.parametrize("repo_id", REPO_IDS)
def test_repo_ids_follow_huggingface_hub_validate_repo_id_in_owner_name_form(repo_id: str) -> None:
    try:
        hub_validate_repo_id(repo_id)
        hub_says_valid = repo_id.count("/") == 1
    except HFValidationError:
        hub_says_valid = False
    if hub_says_valid:
        check_repo_id(repo_id)
    else:
        with pytest.raises(CopyError, match="repo id"):
            check_repo_id(repo_id)


def test_a_bare_name_without_owner_is_refused_with_the_form_expected() -> None:
    with pytest.raises(CopyError, match="'gpt2': a repo id is 'owner/name'"):
        check_repo_id("gpt2")


@pytest.mark.parametrize("repo_id", ["../../etc", "owner/name/../../x", "owner/name\r\nX-Injected: 1", "o/n?x=1"])
def test_a_bad_repo_id_fails_before_any_request(hub: HubEmulator, repo_id: str) -> None:
    with pytest.raises(CopyError, match="repo id"):
        HubApi(hub.endpoint).snapshot(repo_id, "main")
    assert sum(hub.requests.values()) == 0, hub.requests


@pytest.mark.parametrize(
    ("revision", "message"),
    [
        ("", "revision is empty"),
        ("main\n", "control character"),
        ("ma\x00in", "control character"),
        ("../../main", "'..'"),
        ("refs/../main", "'..'"),
        ("/main", "start or end with '/'"),
        ("x" * 300, "longer than 255"),
    ],
)
def test_a_bad_revision_fails_before_any_request(hub: HubEmulator, revision: str, message: str) -> None:
    hub.add_repo("acme/tiny", {"config.json": b"{}"})
    with pytest.raises(CopyError, match=message):
        HubApi(hub.endpoint).snapshot("acme/tiny", revision)
    assert sum(hub.requests.values()) == 0, hub.requests


@pytest.mark.parametrize("revision", ["main", "v1.0", "refs/pr/1", "a" * 40])
def test_good_revisions_reach_the_hub_quoted(hub: HubEmulator, revision: str) -> None:
    commit = hub.add_repo("acme/tiny", {"config.json": b"{}"})
    hub.repos["acme/tiny"].refs[revision] = commit
    assert HubApi(hub.endpoint).snapshot("acme/tiny", revision).commit == commit


@pytest.mark.parametrize(
    ("commit", "path"),
    [
        ("0" * 39, "config.json"),
        ("main", "config.json"),
        ("0" * 40, "../config.json"),
        ("0" * 40, "a/../../config.json"),
        ("0" * 40, "/etc/passwd"),
        ("0" * 40, "a//b"),
        ("0" * 40, "conf\nig.json"),
    ],
)
def test_a_copy_item_with_a_bad_commit_or_path_fails_before_any_request(
    hub: HubEmulator, commit: str, path: str
) -> None:
    """Map items come from the manifest, which came from the Hub: still, nothing unchecked goes into a URL."""
    with pytest.raises(CopyError, match=r"commit|file path"):
        HubApi(hub.endpoint).locate("acme/tiny", commit, path)
    assert sum(hub.requests.values()) == 0


def test_listed_file_paths_that_would_escape_the_prefix_are_refused(hub: HubEmulator) -> None:
    hub.add_repo("acme/tiny", {"config.json": b"{}", "../outside.json": b"{}"})
    with pytest.raises(CopyError, match=r"the Hub listed an unsafe file path '\.\./outside\.json'"):
        HubApi(hub.endpoint).snapshot("acme/tiny", "main")


def test_special_characters_in_file_paths_are_quoted_in_the_url(hub: HubEmulator) -> None:
    commit = hub.add_repo("acme/tiny", {"dir/we ird#name?.json": b'{"a": 1}'})
    location, served = HubApi(hub.endpoint).locate("acme/tiny", commit, "dir/we ird#name?.json", first_bytes=8)
    assert "/dir/we%20ird%23name%3F.json" in location.url
    assert served is not None and served.body == b'{"a": 1}'
