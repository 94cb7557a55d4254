"""Regenerate tgi_sagemaker/runtimes/tgi/tgi_images.json from sagemaker-core (a dev-only dependency).

    python constructs/tools/refresh_tgi_images.py

The synth path never imports sagemaker-core; tests/runtimes/test_tgi_image.py proves the data still agrees with it.
"""

from __future__ import annotations

import json
from importlib import metadata, resources
from pathlib import Path

from sagemaker.core import image_uris

OUTPUT = Path(__file__).resolve().parents[1] / "tgi_sagemaker" / "runtimes" / "tgi" / "tgi_images.json"
FIRST_SUPPORTED = (3, 0, 1)
DEFAULT_VERSION = "3.3.6"


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def main() -> None:
    config_file = resources.files("sagemaker.core") / "image_uri_config" / "huggingface-llm.json"
    config = json.loads(config_file.read_text())["inference"]
    versions = sorted((v for v in config["versions"] if _version_key(v) >= FIRST_SUPPORTED), key=_version_key)
    regions = sorted(config["versions"][DEFAULT_VERSION]["registries"])
    tags, repositories = {}, set()
    for version in versions:
        entry = config["versions"][version]
        if sorted(entry["registries"]) != regions:
            raise SystemExit(f"TGI {version} is published to other regions than {DEFAULT_VERSION}: store per version")
        repositories.add(entry["repository"])
        tags[version] = f"{entry['tag_prefix']}-gpu-{entry['py_versions'][0]}-{entry['container_version']['gpu']}"
    if len(repositories) != 1:
        raise SystemExit(f"expected one repository, got {sorted(repositories)}")
    registries = {}
    for region in regions:
        uri = image_uris.retrieve("huggingface-llm", region=region, version=DEFAULT_VERSION, image_scope="inference")
        host = uri.split("/", 1)[0]
        account, _, _, _, domain = host.split(".", 4)
        registries[region] = {"account": account, "domain": domain}
    aliases = {
        alias: target
        for alias, target in config["version_aliases"].items()
        if target in tags and _version_key(alias) >= FIRST_SUPPORTED[:2]
    }
    data = {
        "source": f"sagemaker-core {metadata.version('sagemaker-core')}: image_uri_config/huggingface-llm.json",
        "repository": repositories.pop(),
        "default_version": DEFAULT_VERSION,
        "versions": tags,
        "aliases": aliases,
        "registries": registries,
    }
    OUTPUT.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    print(f"wrote {OUTPUT}: {len(tags)} versions, {len(registries)} regions")


if __name__ == "__main__":
    main()
