"""``weights``: where the weights come from, the Hub token's secret, and the copy's settings."""

from __future__ import annotations

from tgi_sagemaker.catalog.sizing import copy_memory_needed_mb
from tgi_sagemaker.config.credentials import looks_like_credential
from tgi_sagemaker.config.errors import Problems
from tgi_sagemaker.config.spec import DeploymentSpec
from tgi_sagemaker.runtimes.runtime import hub_revision_is_commit, where_to_find_the_commit

_S3_ONLY_WEIGHTS_FIELDS = (
    "hub_endpoint",
    "copy_max_concurrency",
    "part_size_mb",
    "max_in_flight",
    "copy_memory_mb",
    "bucket_versioned",
    "bucket_removal_policy",
    "delete_objects_on_delete",
    "allow_patterns",
    "ignore_patterns",
    "hf_token_kms_key_arn",
)


def check_weights(spec: DeploymentSpec, problems: Problems, *, production: bool) -> None:
    """``production``: the app's environment.production (a production model runs with network isolation, on
    weights of a pinned commit)."""
    weights = spec.weights
    if production:
        check_revision_pinned(spec, problems)
    if weights.source == "hub" and production:
        problems.add(
            "weights.source",
            "hub",
            "environment.production is true: a production model runs with network isolation, which 'hub' "
            "weights cannot have (the container downloads them from the internet at every start)",
            "use weights.source 's3' (the default: copied once at deploy, served from the stack's bucket)",
        )
    if weights.hf_token_secret is not None and looks_like_credential(weights.hf_token_secret):
        problems.add(
            "weights.hf_token_secret",
            weights.hf_token_secret,  # shown as *** (ConfigProblem redacts it)
            "this is a token itself, not the name or ARN of a Secrets Manager secret holding one: it would be "
            "written into the template",
            "revoke it on the Hub (it has been in a file), store a new one with `aws secretsmanager create-secret "
            "--name hf/token --secret-string <token>` and set weights.hf_token_secret: hf/token",
        )
    elif weights.hf_token_secret is not None and weights.source == "hub":
        problems.add(
            "weights.hf_token_secret",
            weights.hf_token_secret,
            "with weights.source 'hub' CloudFormation would resolve the token into the SageMaker model's "
            "environment, where anyone allowed sagemaker:DescribeModel (and the console) can read it",
            "use weights.source 's3' (the default) for gated or private models: the copy reads the token at deploy "
            "time and the model never sees it",
        )
    if weights.hf_token_kms_key_arn is not None and weights.hf_token_secret is None:
        problems.add(
            "weights.hf_token_kms_key_arn",
            weights.hf_token_kms_key_arn,
            "it names the key of a token secret, and weights.hf_token_secret is not set",
            "set weights.hf_token_secret to the secret it encrypts, or remove it",
        )
    if weights.source == "hub":
        for name in _S3_ONLY_WEIGHTS_FIELDS:
            if name in weights.model_fields_set:
                problems.add(
                    f"weights.{name}",
                    getattr(weights, name),
                    "only used with weights.source 's3' (it is 'hub')",
                    "remove it, or set weights.source to 's3'",
                )
        return
    needed = copy_memory_needed_mb(weights.part_size_mb, weights.max_in_flight)
    if needed > weights.copy_memory_mb:
        problems.add(
            "weights.copy_memory_mb",
            weights.copy_memory_mb,
            f"part_size_mb {weights.part_size_mb} x max_in_flight {weights.max_in_flight} needs about {needed} MB",
            f"set it to at least {needed}, or lower weights.part_size_mb or weights.max_in_flight",
        )


def check_revision_pinned(spec: DeploymentSpec, problems: Problems) -> None:
    """A production deployment names the commit it serves: the only revision that cannot move.

    Outside production, Hub weights of an unpinned revision are a synth warning, given by ``HubWeights`` itself (on
    the model construct, so that the library's users get it too); S3 weights are resolved once per deploy there.
    """
    revision = spec.model.revision
    if hub_revision_is_commit(revision):
        return
    if revision is not None and hub_revision_is_commit(revision.lower()):
        problems.add(
            "model.revision",
            revision,
            "a commit id in upper case: the Hub writes commit ids in lower case, and the copy and the container "
            "compare them as written",
            f"write it in lower case: {revision.lower()}",
        )
        return
    what = (
        "no revision is pinned (the repo's default branch)"
        if revision is None
        else "the revision is a branch or a tag, which the repo's owner can move (the config cannot tell which "
        "without asking the Hub)"
    )
    when = (
        "the container resolves it at every instance start, so one endpoint can serve two model versions at once"
        if spec.weights.source == "hub"
        else "the weights copy resolves it at each stage's first deploy and whenever weights.allow_patterns or "
        "ignore_patterns change, so prod can serve another commit than the one dev tested"
    )
    problems.add(
        "model.revision",
        revision,
        f"environment.production is true and {what}: {when}",
        f"pin model.revision to the 40-hex commit you tested: {where_to_find_the_commit(spec.model.id, revision)}",
    )
