"""The cloud assembly as the CDK CLI wrote it (cdk.out): stacks, their templates, and the asset folders that the
templates' Lambda code points at (through each stack's asset manifest, as cdk-assets would publish them)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class StackArtifact:
    name: str
    template: dict[str, Any]
    assets: dict[str, Path]  # the S3 object key a template names -> the folder that becomes that zip

    def asset_folder(self, code: dict[str, Any]) -> Path:
        """The folder of a ``AWS::Lambda::Function`` ``Code`` property (an S3Key the asset manifest publishes)."""
        key = code.get("S3Key")
        if not isinstance(key, str) or key not in self.assets:
            raise KeyError(f"Lambda code {code} is not an asset of this assembly")
        return self.assets[key]


class CloudAssembly:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        manifest = json.loads((folder / "manifest.json").read_text())
        self.stacks: dict[str, StackArtifact] = {}
        for artifact in manifest["artifacts"].values():
            if artifact["type"] != "aws:cloudformation:stack":
                continue
            properties = artifact["properties"]
            name = properties.get("stackName") or artifact["displayName"]
            template = json.loads((folder / properties["templateFile"]).read_text())
            self.stacks[name] = StackArtifact(name, template, self._assets(manifest, artifact))

    def _assets(self, manifest: dict[str, Any], stack: dict[str, Any]) -> dict[str, Path]:
        assets: dict[str, Path] = {}
        for dependency in stack.get("dependencies", []):
            artifact = manifest["artifacts"].get(dependency, {})
            if artifact.get("type") != "cdk:asset-manifest":
                continue
            files = json.loads((self.folder / artifact["properties"]["file"]).read_text()).get("files", {})
            for entry in files.values():
                source = entry["source"]
                if "path" not in source:
                    continue
                for destination in entry["destinations"].values():
                    assets[destination["objectKey"]] = self.folder / source["path"]
        return assets

    def stack(self, name: str) -> StackArtifact:
        return self.stacks[name]
