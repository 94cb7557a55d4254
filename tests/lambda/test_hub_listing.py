"""Listing a revision the way huggingface_hub does (the revision API for the commit, the paged tree for the files),
and the Hub's redirects for renamed repos, with the token kept on the Hub's own host."""

from __future__ import annotations

from typing import Any

import pytest
from emulated_models import MIB, model_files
from hub_emulator import HubEmulator
from weights_copy.copier import CopySettings, FileCopier
from weights_copy.errors import CopyError, RepoNotFoundError
from weights_copy.hub import HubApi
from weights_copy.retry import RetryPolicy
from weights_copy.snapshot_copy import copy_snapshot

REPO = "acme/many-files"
TOKEN = "hf_ListingSecretToken7"


def _copier(hub: HubEmulator, s3: Any, token: str | None = None) -> FileCopier:
    retry = RetryPolicy(attempts=3, base_delay=0.01, sleep=lambda _: None)
    return FileCopier(HubApi(hub.endpoint, token, retry=retry), s3, CopySettings(part_size=5 * MIB, max_in_flight=2))


def _many_files() -> dict[str, bytes]:
    files = model_files(shard_bytes=64 * 1024)
    files.update({f"extra/part-{i:02d}/notes.txt": f"file {i}\n".encode() for i in range(9)})
    return files


def test_every_file_is_copied_when_the_hub_truncates_siblings_and_pages_the_tree(hub: HubEmulator, s3: Any) -> None:
    hub.siblings_limit = 3  # what the revision API lists of a large repo
    hub.tree_page_size = 4
    files = _many_files()
    commit = hub.add_repo(REPO, files)
    result = copy_snapshot(_copier(hub, s3), REPO, "main", s3.bucket)
    copied = {o["Key"][len(result.prefix) :] for o in s3.list_objects_v2(Bucket=s3.bucket)["Contents"]}
    assert {r.path for r in result.files} == set(files) and set(files) <= copied
    tree_pages = [p for p in hub.hub_paths if "/tree/" in p]
    assert len(tree_pages) == hub.requests["tree"] > 3  # the directories are entries too
    assert all(f"/tree/{commit}?" in p for p in tree_pages)  # the commit the revision resolved to, not "main"
    assert all("cursor=" in p for p in tree_pages[1:])


def test_listed_sizes_and_hashes_come_from_the_tree(hub: HubEmulator) -> None:
    files = _many_files()
    commit = hub.add_repo(REPO, files)
    hub.tree_page_size = 5
    listed = {f.path: f for f in HubApi(hub.endpoint).snapshot(REPO, "main").files}
    repo_files = hub.repos[REPO].commits[commit]
    assert set(listed) == set(files)
    for path, f in listed.items():
        assert f.size == len(files[path])
        assert f.git_oid == repo_files[path].blob_id
        assert f.sha256 == (repo_files[path].sha256 if repo_files[path].lfs else None)


def test_a_revision_without_files_fails_instead_of_copying_nothing(hub: HubEmulator, s3: Any) -> None:
    commit = hub.add_repo(REPO, {})
    with pytest.raises(CopyError, match=f"lists no files at commit {commit}: nothing to copy"):
        copy_snapshot(_copier(hub, s3), REPO, "main", s3.bucket)


def test_a_tree_listing_that_links_back_to_a_page_it_gave_fails(hub: HubEmulator, monkeypatch: Any) -> None:
    hub.add_repo(REPO, _many_files())
    hub.tree_page_size = 2
    from weights_copy import hub as hub_module

    monkeypatch.setattr(hub_module, "_next_page", lambda url, link: url)  # a server whose cursor never moves
    with pytest.raises(CopyError, match="the tree listing does not end"):
        HubApi(hub.endpoint).snapshot(REPO, "main")


def test_a_renamed_repo_is_followed_with_its_token_and_copied_under_the_id_asked_for(hub: HubEmulator, s3: Any) -> None:
    files = model_files(shard_bytes=6 * MIB)  # LFS shards (302 to the CDN) and small files the Hub serves itself
    commit = hub.add_repo("old-owner/old-name", files, gated=True, approved={TOKEN})
    hub.rename_repo("old-owner/old-name", "new-owner/new-name")
    hub.tree_page_size = 3
    result = copy_snapshot(_copier(hub, s3, TOKEN), "old-owner/old-name", "main", s3.bucket)
    assert result.commit == commit and result.prefix == f"models/old-owner/old-name/{commit}/"
    for path, data in files.items():
        assert s3.get_object(Bucket=s3.bucket, Key=result.prefix + path)["Body"].read() == data
    assert hub.requests["rename-307"] >= 2 + len(files)  # revision, tree, every /resolve
    assert hub.authorization_seen_by_cdn == []


def test_redirects_are_bounded(hub: HubEmulator) -> None:
    hub.add_repo("a/one", {"config.json": b"{}"})
    hub.renamed.update({"a/one": "a/two", "a/two": "a/one"})
    del hub.repos["a/one"]
    with pytest.raises(CopyError, match="more than 5 redirects"):
        HubApi(hub.endpoint).snapshot("a/one", "main")
    assert hub.requests["rename-307"] == 6


def test_a_redirect_off_the_hub_host_does_not_carry_the_token(hub: HubEmulator) -> None:
    hub.add_repo("old-owner/old-name", {"config.json": b"{}"})
    hub.rename_repo("old-owner/old-name", "new-owner/new-name", location_base=hub.cdn)  # the CDN serves no API
    with pytest.raises(RepoNotFoundError):
        HubApi(hub.endpoint, TOKEN).snapshot("old-owner/old-name", "main")
    assert hub.requests["cdn-404"] == 1
    assert hub.authorization_seen_by_cdn == []
