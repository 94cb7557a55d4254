"""``tags``: the deployment's and the app's tags, valid for AWS and free of credentials; and the cost tags."""

from __future__ import annotations

import re
from collections.abc import Mapping

from tgi_sagemaker.config.credentials import looks_like_credential
from tgi_sagemaker.config.errors import Problems
from tgi_sagemaker.config.spec import AppSpec, DeploymentSpec

# Cost allocation: every taggable resource carries the deployment and model (activate the keys in Billing).
COST_TAG_DEPLOYMENT = "tgi-sagemaker:deployment"
COST_TAG_MODEL = "tgi-sagemaker:model"
_TAG_KEY = re.compile(r"^[\w .:/=+\-@]{1,128}$")


def check_tags(tags: Mapping[str, str], problems: Problems) -> None:
    for key, value in tags.items():
        if key.lower().startswith("aws:") or not _TAG_KEY.match(key):
            problems.add(
                f"tags.{key}", key, "not a valid tag key (1-128 characters, no 'aws:' prefix)", "rename the tag"
            )
        elif looks_like_credential([key, value]):
            problems.add(
                f"tags.{key}",
                value,  # shown as *** (ConfigProblem redacts it)
                "looks like a credential: tags are written into the template and readable by anyone who lists tags",
                "remove it (and revoke it: it has been in a file)",
            )
        elif len(value) > 256:
            problems.add(f"tags.{key}", value[:40] + "...", "tag values are at most 256 characters", "shorten it")


def deployment_tags(spec: DeploymentSpec, app: AppSpec | None) -> dict[str, str]:
    """The tags of every resource of the deployment: the cost tags, the app's, then the deployment's own."""
    return {COST_TAG_DEPLOYMENT: spec.name, COST_TAG_MODEL: spec.model.id, **(app.tags if app else {}), **spec.tags}
