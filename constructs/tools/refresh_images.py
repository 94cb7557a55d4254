"""Regenerate a runtime's image table (``tgi_sagemaker/runtimes/<runtime>/*_images.json``) from sagemaker-core,
a dev-only dependency.

    python constructs/tools/refresh_images.py [RUNTIME ...]     (default: every runtime below)

The synth path never imports sagemaker-core; tests/runtimes prove each table still agrees with it.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from importlib import metadata, resources
from pathlib import Path

from sagemaker.core import image_uris

RUNTIMES = Path(__file__).resolve().parents[1] / "tgi_sagemaker" / "runtimes"


@dataclass(frozen=True)
class ImageSource:
    framework: str
    """sagemaker-core's name for the images (``image_uri_config/<framework>.json``)."""
    output: Path
    first_supported: tuple[int, ...]
    default_version: str


SOURCES = {
    "tgi": ImageSource("huggingface-llm", RUNTIMES / "tgi" / "tgi_images.json", (3, 0, 1), "3.3.6"),
    # The default is the newest vLLM whose flag list could be recorded from its released source (the package
    # registry's newest with a SageMaker image): runtimes/vllm/vllm_flags.json.
    "vllm": ImageSource("huggingface-vllm", RUNTIMES / "vllm" / "vllm_images.json", (0, 14, 0), "0.17.0"),
    "sglang": ImageSource("huggingface-sglang", RUNTIMES / "sglang" / "sglang_images.json", (0, 5, 8), "0.5.8"),
}


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def image_table(source: ImageSource) -> dict[str, object]:
    config_file = resources.files("sagemaker.core") / "image_uri_config" / f"{source.framework}.json"
    config = json.loads(config_file.read_text())["inference"]
    supported = [v for v in config["versions"] if _version_key(v) >= source.first_supported]
    versions = sorted(supported, key=_version_key)
    regions = sorted(config["versions"][source.default_version]["registries"])
    tags, repositories = {}, set()
    for version in versions:
        entry = config["versions"][version]
        if sorted(entry["registries"]) != regions:
            raise SystemExit(
                f"{source.framework} {version} is published to other regions than {source.default_version}: "
                "store registries per version"
            )
        repositories.add(entry["repository"])
        # The tag as AWS's own resolver builds it (its shape differs between frameworks).
        uri = image_uris.retrieve(source.framework, region=regions[0], version=version, image_scope="inference")
        tags[version] = uri.rsplit(":", 1)[1]
    if len(repositories) != 1:
        raise SystemExit(f"expected one repository, got {sorted(repositories)}")
    registries = {}
    for region in regions:
        uri = image_uris.retrieve(
            source.framework, region=region, version=source.default_version, image_scope="inference"
        )
        host = uri.split("/", 1)[0]
        account, _, _, _, domain = host.split(".", 4)
        registries[region] = {"account": account, "domain": domain}
    aliases = {
        alias: target
        for alias, target in config["version_aliases"].items()
        if target in tags and _version_key(alias) >= source.first_supported[:2]
    }
    return {
        "source": f"sagemaker-core {metadata.version('sagemaker-core')}: image_uri_config/{source.framework}.json",
        "repository": repositories.pop(),
        "default_version": source.default_version,
        "versions": tags,
        "aliases": aliases,
        "registries": registries,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runtimes", nargs="*", metavar="RUNTIME", help=f"{', '.join(SOURCES)}. Default: all")
    names = parser.parse_args().runtimes or list(SOURCES)
    unknown = sorted(set(names) - set(SOURCES))
    if unknown:
        parser.error(f"unknown runtime(s) {', '.join(unknown)}: use {', '.join(SOURCES)}")
    for name in names:
        source = SOURCES[name]
        data = image_table(source)
        source.output.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
        print(f"wrote {source.output}: {len(data['versions'])} versions, {len(data['registries'])} regions")


if __name__ == "__main__":
    main()
