"""Every invalid spec is rejected before any construct exists, one message per problem: field, value, fix."""

from __future__ import annotations

from typing import Any

import pytest

from helpers import config_with, default_config, problems_of
from tgi_sagemaker import ConfigError, load_app

UNKNOWN_MODEL = "acme/Frontier-9B"
HUB_TOKEN = "hf_" + "AbCdEfGhIjKlMnOpQrStUvWxYz01234567"  # the shape of a Hub token (made up)
# A pre-quantized repo outside the catalog (AWQ, GPTQ, EXL2 checkpoints are such repos), sized by its parameters.
PRE_QUANTIZED_MODEL = {
    "model.id": "acme/Frontier-9B-AWQ",
    "model.parameters_billion": 9,
    "instance_type": "ml.g6e.xlarge",
}

# (case id, changes to the first deployment, top-level changes, field, value, words the fix must contain)
CASES: list[tuple[str, dict[str, Any], dict[str, Any], str, Any, str]] = [
    (
        "unknown instance type",
        {"instance_type": "ml.g5.3xlarge"},
        {},
        "instance_type",
        "ml.g5.3xlarge",
        "ml.g5.2xlarge",
    ),
    (
        "instance type without ml. prefix",
        {"instance_type": "g6e.xlarge"},
        {},
        "instance_type",
        "g6e.xlarge",
        "did you mean ml.g6e.xlarge",
    ),
    (
        "model too big for the instance",
        {"model.id": "deepseek-ai/DeepSeek-R1-Distill-Qwen-32B"},
        {},
        "instance_type",
        "ml.g5.2xlarge",
        "use ml.g6e.12xlarge, ml.g5.12xlarge, ml.g6.12xlarge",
    ),
    (
        "R1 does not fit p5.48xlarge",
        {"model.id": "deepseek-ai/DeepSeek-R1", "instance_type": "ml.p5.48xlarge"},
        {},
        "instance_type",
        "ml.p5.48xlarge",
        "ml.p5e.48xlarge",
    ),
    ("SM_NUM_GPUS above the instance's GPUs", {"num_gpus": 4}, {}, "num_gpus", 4, "at most 1"),
    (
        "GPUs that cannot shard the heads",
        {"model.id": "deepseek-ai/DeepSeek-R1-Distill-Qwen-7B", "instance_type": "ml.g5.48xlarge", "num_gpus": 8},
        {},
        "num_gpus",
        8,
        "[1, 2, 4]",
    ),
    (
        "max_input_tokens >= max_total_tokens",
        {"tgi.max_input_tokens": 4096, "tgi.max_total_tokens": 4096},
        {},
        "tgi.max_input_tokens",
        4096,
        "at most 4095",
    ),
    (
        "max_total_tokens above the context",
        {"tgi.max_total_tokens": 200_000},
        {},
        "tgi.max_total_tokens",
        200_000,
        "at most 131072",
    ),
    (
        "one sequence does not fit the KV cache",
        {"tgi.max_total_tokens": 100_000, "tgi.max_input_tokens": 90_000},
        {},
        "tgi.max_total_tokens",
        100_000,
        "kv_cache_dtype",
    ),
    (
        "max_batch_total_tokens below max_total_tokens",
        {"tgi.max_batch_total_tokens": 2048},
        {},
        "tgi.max_batch_total_tokens",
        2048,
        "at least 4096",
    ),
    (
        "prefill above max_batch_total_tokens",
        {"tgi.max_batch_total_tokens": 8192, "tgi.max_batch_prefill_tokens": 9000},
        {},
        "tgi.max_batch_prefill_tokens",
        9000,
        "at most 8192",
    ),
    (
        "DTYPE together with QUANTIZE",
        {**PRE_QUANTIZED_MODEL, "tgi.dtype": "bfloat16", "tgi.quantize": "awq"},
        {},
        "tgi.dtype",
        "bfloat16",
        "remove tgi.dtype",
    ),
    ("unknown TGI version", {"tgi.version": "3.4.0"}, {}, "tgi.version", "3.4.0", "3.3.6"),
    (
        "exl2 on more than one GPU",
        {**PRE_QUANTIZED_MODEL, "instance_type": "ml.g5.12xlarge", "tgi.quantize": "exl2", "num_gpus": 4},
        {},
        "num_gpus",
        4,
        "num_gpus to 1",
    ),
    (
        "malformed model id",
        {"model.id": "DeepSeek-R1-Distill-Llama-8B"},
        {},
        "model.id",
        "DeepSeek-R1-Distill-Llama-8B",
        "'owner/name'",
    ),
    (
        "model id with a double dash",
        {"model.id": "deepseek-ai/bad--name"},
        {},
        "model.id",
        "deepseek-ai/bad--name",
        "'owner/name'",
    ),
    (
        "min above max instances",
        {"scaling.mode": "instances", "scaling.min_instances": 3, "scaling.max_instances": 2},
        {},
        "scaling.min_instances",
        3,
        "min_instances <= max_instances",
    ),
    (
        "zero instances in instance mode",
        {"scaling.mode": "instances", "scaling.min_instances": 0},
        {},
        "scaling.min_instances",
        0,
        "use scaling.mode 'scale_to_zero'",
    ),
    ("negative min instances", {"scaling.min_instances": -1}, {}, "scaling.min_instances", -1, ">= 0"),
    (
        "scale_to_zero that keeps a copy",
        {"scaling.min_copies": 1},
        {},
        "scaling.min_copies",
        1,
        "set scaling.min_copies to 0",
    ),
    (
        "scale_to_zero that keeps an instance",
        {"scaling.min_instances": 1},
        {},
        "scaling.min_instances",
        1,
        "scaling.mode 'instances'",
    ),
    ("more copies than fit", {"scaling.max_copies": 3}, {}, "scaling.max_copies", 3, "at most 2"),
    ("GPUs per copy above the instance's", {"num_gpus": 2}, {}, "num_gpus", 2, "at most 1"),
    (
        "copy memory above the instance's share",
        {"scaling.min_memory_mb": 40000},
        {},
        "scaling.min_memory_mb",
        40000,
        "at most 32768",
    ),
    (
        "zero concurrency target",
        {"scaling.concurrent_requests_per_copy": 0},
        {},
        "scaling.concurrent_requests_per_copy",
        0,
        "> 0",
    ),
    (
        "wake-up cooldown out of range",
        {"scaling.scale_out_from_zero_cooldown_seconds": 4000},
        {},
        "scaling.scale_out_from_zero_cooldown_seconds",
        4000,
        "<= 3600",
    ),
    (
        "instance-mode knob in scale_to_zero",
        {"scaling.invocations_per_instance": 50},
        {},
        "scaling.invocations_per_instance",
        50,
        "set scaling.mode to 'instances'",
    ),
    (
        "scale_to_zero knob in instance mode",
        {"scaling.mode": "instances", "scaling.max_copies": 2},
        {},
        "scaling.max_copies",
        2,
        "set scaling.mode to 'scale_to_zero'",
    ),
    ("negative max instances", {"scaling.max_instances": -1}, {}, "scaling.max_instances", -1, ">= 1"),
    ("zero concurrent requests", {"tgi.max_concurrent_requests": 0}, {}, "tgi.max_concurrent_requests", 0, "> 0"),
    (
        "zero invocation target",
        {"scaling.mode": "instances", "scaling.invocations_per_instance": 0},
        {},
        "scaling.invocations_per_instance",
        0,
        "> 0",
    ),
    (
        "unknown key (typo)",
        {"tgi.max_total_token": 4096},
        {},
        "tgi.max_total_token",
        4096,
        "did you mean 'max_total_tokens'",
    ),
    ("unknown top-level key", {}, {"deployment": []}, "deployment", [], "did you mean 'deployments'"),
    (
        "Hub model with neither size nor GPUs",
        {"model.id": UNKNOWN_MODEL, "instance_type": "ml.g6e.xlarge"},
        {},
        "model.parameters_billion",
        None,
        "num_gpus",
    ),
    (
        "model outside the catalog without instance type",
        {"model.id": UNKNOWN_MODEL, "instance_type": None, "num_gpus": 1},
        {},
        "instance_type",
        None,
        "name an instance type",
    ),
    (
        "start-up timeout out of range",
        {"timeouts.container_startup_health_check_seconds": 7200},
        {},
        "timeouts.container_startup_health_check_seconds",
        7200,
        "<= 3600",
    ),
    (
        "managed variable in extra_env",
        {"tgi.extra_env": {"HF_MODEL_ID": "s3://bucket/model/"}},
        {},
        "tgi.extra_env.HF_MODEL_ID",
        "s3://bucket/model/",
        "model.id",
    ),
    (
        "ENDPOINT_SERVER_TIMEOUT in extra_env",
        {"tgi.extra_env": {"ENDPOINT_SERVER_TIMEOUT": "3600"}},
        {},
        "tgi.extra_env.ENDPOINT_SERVER_TIMEOUT",
        "3600",
        "timeouts.container_startup_health_check_seconds",
    ),
    (
        "secret in extra_env",
        {"tgi.extra_env": {"HF_TOKEN": "hf_abcdefgh"}},
        {},
        "tgi.extra_env.HF_TOKEN",
        "***",
        "weights.hf_token_secret",
    ),
    (
        "legacy MAX_INPUT_LENGTH in extra_env",
        {"tgi.extra_env": {"MAX_INPUT_LENGTH": "1000"}},
        {},
        "tgi.extra_env.MAX_INPUT_LENGTH",
        "1000",
        "tgi.max_input_tokens",
    ),
    (
        "Hub weights without egress",
        {"weights.source": "hub", "network.egress": False},
        {},
        "network.egress",
        False,
        "network.egress to true",
    ),
    ("S3 weights with egress", {"network.egress": True}, {}, "network.egress", True, "NAT gateway would only add cost"),
    (
        "copy knob with hub weights",
        {"weights.source": "hub", "weights.part_size_mb": 128},
        {},
        "weights.part_size_mb",
        128,
        "set weights.source to 's3'",
    ),
    (
        "copy memory below its parts",
        {"weights.part_size_mb": 256, "weights.max_in_flight": 8},
        {},
        "weights.copy_memory_mb",
        2048,
        "at least 4096",
    ),
    ("part size below S3's minimum", {"weights.part_size_mb": 4}, {}, "weights.part_size_mb", 4, ">= 8"),
    (
        "existing VPC without subnets",
        {"network.vpc": "existing", "network.vpc_id": "vpc-0123456789abcdef0"},
        {},
        "network.subnet_ids",
        [],
        "private subnet ids",
    ),
    (
        "existing ids with a new VPC",
        {"network.subnet_ids": ["subnet-0123456789abcdef0"]},
        {},
        "network.subnet_ids",
        ["subnet-0123456789abcdef0"],
        "network.vpc to 'existing'",
    ),
    (
        "region without pinned AZs",
        {},
        {"environment": {"region": "us-east-1"}},
        "network.availability_zones",
        [],
        "'us-east-1a'",
    ),
    (
        "AZ of another region",
        {"network.availability_zones": ["eu-west-1a"]},
        {"environment": {"region": "us-east-1"}},
        "network.availability_zones",
        ["eu-west-1a"],
        "zones of us-east-1",
    ),
    (
        "region without a TGI image",
        {"network.vpc": "none"},
        {"environment": {"region": "xx-nowhere-1"}},
        "environment.region",
        "xx-nowhere-1",
        "us-east-1",
    ),
    (
        "pinned AZs in a region-agnostic environment",
        {"network.availability_zones": ["eu-west-1a"]},
        {},
        "network.availability_zones",
        ["eu-west-1a"],
        "set environment.region",
    ),
    (
        "environment name with capitals",
        {},
        {"environment": {"name": "Prod"}},
        "environment.name",
        "Prod",
        "'dev' or 'prod'",
    ),
    ("deployment name with capitals", {"name": "Llama8B"}, {}, "name", "Llama8B", "lower-case"),
    ("malformed revision", {"model.revision": "main branch"}, {}, "model.revision", "main branch", "40-hex commit"),
    ("reserved tag key", {"tags": {"aws:owner": "me"}}, {}, "tags.aws:owner", "aws:owner", "rename"),
    ("no deployments", {}, {"deployments": []}, "deployments", [], "at least one"),
    (
        "log retention CloudWatch does not offer",
        {"operations.log_retention_days": 100},
        {},
        "operations.log_retention_days",
        100,
        "90, 120",
    ),
    (
        "alarm emails and a topic",
        {
            "operations.alarm_emails": ["a@example.com"],
            "operations.alarm_topic_arn": "arn:aws:sns:us-east-1:111122223333:t",
        },
        {},
        "operations.alarm_topic_arn",
        "arn:aws:sns:us-east-1:111122223333:t",
        "keep one",
    ),
    (
        "rollback without alarms",
        {"operations.alarms": False},
        {},
        "operations.auto_rollback",
        True,
        "auto_rollback",
    ),
    (
        "emails without alarms",
        {"operations.alarms": False, "operations.auto_rollback": False, "operations.alarm_emails": ["a@example.com"]},
        {},
        "operations.alarm_emails",
        ["a@example.com"],
        "operations.alarms: true",
    ),
    (
        "blue/green for an inference component",
        {"operations.update_strategy": "blue_green"},
        {},
        "operations.update_strategy",
        "blue_green",
        "scaling.mode: instances",
    ),
    (
        "malformed alarm email",
        {"operations.alarm_emails": ["oncall"]},
        {},
        "operations.alarm_emails[0]",
        "oncall",
        "oncall@example.com",
    ),
    ("bake longer than SageMaker waits", {"operations.bake_minutes": 61}, {}, "operations.bake_minutes", 61, "60"),
    (
        "hub weights in a production environment",
        {"weights.source": "hub"},
        {"environment": {"production": True}},
        "weights.source",
        "hub",
        "use weights.source 's3'",
    ),
    (
        "a Hub token where its secret's name belongs",
        {"weights.hf_token_secret": HUB_TOKEN},
        {},
        "weights.hf_token_secret",
        "***",
        "aws secretsmanager create-secret",
    ),
    (
        "a token secret with hub weights (it would reach the model)",
        {"weights.source": "hub", "weights.hf_token_secret": "hf/token"},
        {},
        "weights.hf_token_secret",
        "hf/token",
        "use weights.source 's3'",
    ),
    (
        "a token key without a token secret",
        {"weights.hf_token_kms_key_arn": "arn:aws:kms:us-east-1:111122223333:key/0e3c2f1a-5b6d-4c7e-8f90-a1b2c3d4e5f6"},
        {},
        "weights.hf_token_kms_key_arn",
        "arn:aws:kms:us-east-1:111122223333:key/0e3c2f1a-5b6d-4c7e-8f90-a1b2c3d4e5f6",
        "set weights.hf_token_secret",
    ),
    (
        "a key alias where the token key's ARN belongs",
        {"weights.hf_token_secret": "hf/token", "weights.hf_token_kms_key_arn": "alias/hf-token"},
        {},
        "weights.hf_token_kms_key_arn",
        "alias/hf-token",
        "",
    ),
    (
        "an allow pattern list that selects nothing at all",
        {"weights.allow_patterns": []},
        {},
        "weights.allow_patterns",
        [],
        "",
    ),
    (
        "an invented weights.hf_token holding a token",
        {"weights.hf_token": HUB_TOKEN},
        {},
        "weights.hf_token",
        "***",
        "never put a credential in the config",
    ),
    (
        "a token as an extra_env value",
        {"tgi.extra_env": {"MODEL_LOADER_OPTS": f"--auth {HUB_TOKEN}"}},
        {},
        "tgi.extra_env.MODEL_LOADER_OPTS",
        "***",
        "weights.hf_token_secret",
    ),
    ("a token as a tag value", {"tags": {"owner": HUB_TOKEN}}, {}, "tags.owner", "***", "revoke it"),
    # TGI's start-up checks (tgi_rules.py): each one TGI would otherwise refuse after a 10-30 minute deploy.
    (
        "prefill budget below the input limit without prefill chunking",
        {"tgi.max_batch_prefill_tokens": 2048, "tgi.extra_env": {"PREFILL_CHUNKING": "0"}},
        {},
        "tgi.max_batch_prefill_tokens",
        2048,
        "at least 3072",
    ),
    (
        "prefill budget below the input limit for a model outside the catalog",
        {**PRE_QUANTIZED_MODEL, "tgi.max_batch_prefill_tokens": 1024},
        {},
        "tgi.max_batch_prefill_tokens",
        1024,
        "at least 3072",
    ),
    (
        "a pre-quantized method on a bfloat16 checkpoint",
        {"tgi.quantize": "awq"},
        {},
        "tgi.quantize",
        "awq",
        "eetq, fp8 or bitsandbytes-nf4",
    ),
    (
        "a model outside the catalog that needs several GPUs",
        {"model.id": UNKNOWN_MODEL, "model.parameters_billion": 32, "instance_type": "ml.g5.12xlarge"},
        {},
        "num_gpus",
        None,
        "num_attention_heads",
    ),
    (
        "an fp8 KV cache where TGI uses flashdecoding attention",
        {"model.id": "deepseek-ai/DeepSeek-R1", "instance_type": "ml.p5e.48xlarge", "tgi.kv_cache_dtype": "fp8_e4m3fn"},
        {},
        "tgi.kv_cache_dtype",
        "fp8_e4m3fn",
        "remove tgi.kv_cache_dtype",
    ),
    (
        "an fp8 KV cache with flashdecoding chosen in extra_env",
        {"tgi.kv_cache_dtype": "fp8_e5m2", "tgi.extra_env": {"ATTENTION": "flashdecoding"}},
        {},
        "tgi.kv_cache_dtype",
        "fp8_e5m2",
        "remove tgi.kv_cache_dtype",
    ),
    (
        "an fp8 KV cache with paged attention on TGI 3.0",
        {"tgi.version": "3.0.1", "tgi.kv_cache_dtype": "fp8_e5m2", "tgi.extra_env": {"ATTENTION": "paged"}},
        {},
        "tgi.kv_cache_dtype",
        "fp8_e5m2",
        "remove tgi.kv_cache_dtype",
    ),
    (
        "an attention backend TGI does not know",
        {"tgi.extra_env": {"ATTENTION": "flash"}},
        {},
        "tgi.extra_env.ATTENTION",
        "flash",
        "use one",
    ),
    (
        "prefix caching with paged attention",
        {"tgi.extra_env": {"ATTENTION": "paged", "PREFIX_CACHING": "1"}},
        {},
        "tgi.extra_env.PREFIX_CACHING",
        "1",
        "remove PREFIX_CACHING",
    ),
    (
        "zero validation workers",
        {"tgi.extra_env": {"VALIDATION_WORKERS": "0"}},
        {},
        "tgi.extra_env.VALIDATION_WORKERS",
        "0",
        "1 or more",
    ),
    (
        "zero batch size",
        {"tgi.extra_env": {"MAX_BATCH_SIZE": "0"}},
        {},
        "tgi.extra_env.MAX_BATCH_SIZE",
        "0",
        "1 or more",
    ),
    (
        "a launcher number that is not one",
        {"tgi.extra_env": {"MAX_BEST_OF": "two"}},
        {},
        "tgi.extra_env.MAX_BEST_OF",
        "two",
        "plain number",
    ),
    (
        "a port above 65535",
        {"tgi.extra_env": {"PROMETHEUS_PORT": "70000"}},
        {},
        "tgi.extra_env.PROMETHEUS_PORT",
        "70000",
        "plain number",
    ),
    (
        "a launcher fraction that is not a number",
        {"tgi.extra_env": {"CUDA_MEMORY_FRACTION": "90%"}},
        {},
        "tgi.extra_env.CUDA_MEMORY_FRACTION",
        "90%",
        "0.9",
    ),
    (
        "a launcher choice TGI does not offer",
        {"tgi.extra_env": {"ROPE_SCALING": "yarn"}},
        {},
        "tgi.extra_env.ROPE_SCALING",
        "yarn",
        "use one of them",
    ),
    (
        "CUDA graph sizes that are not numbers",
        {"tgi.extra_env": {"CUDA_GRAPHS": "1,2,four"}},
        {},
        "tgi.extra_env.CUDA_GRAPHS",
        "1,2,four",
        "'1,2,4,8'",
    ),
    (
        "SHARDED that is not true or false",
        {"tgi.extra_env": {"SHARDED": "yes"}},
        {},
        "tgi.extra_env.SHARDED",
        "yes",
        "use one of them",
    ),
    (
        "SHARDED on one GPU",
        {"tgi.extra_env": {"SHARDED": "true"}},
        {},
        "tgi.extra_env.SHARDED",
        "true",
        "num_gpus decides",
    ),
    ("ngrok tunneling", {"tgi.extra_env": {"NGROK": "true"}}, {}, "tgi.extra_env.NGROK", "true", "remove it"),
    (
        "a wiggle room of 100 %",
        {"tgi.extra_env": {"TGI_WIGGLE_ROOM": "1.0"}},
        {},
        "tgi.extra_env.TGI_WIGGLE_ROOM",
        "1.0",
        "0.9",
    ),
    (
        "a LoRA adapter TGI cannot parse",
        {"weights.source": "hub", "tgi.extra_env": {"LORA_ADAPTERS": "acme/a@v1@v2"}},
        {},
        "tgi.extra_env.LORA_ADAPTERS",
        "acme/a@v1@v2",
        "'id@revision'",
    ),
    (
        "LoRA adapters from the Hub behind network isolation",
        {"tgi.extra_env": {"LORA_ADAPTERS": "acme/sql-adapter"}},
        {},
        "tgi.extra_env.LORA_ADAPTERS",
        "acme/sql-adapter",
        "weights.source 'hub'",
    ),
    (
        "S3 prefix list with internet egress",
        {"weights.source": "hub", "network.s3_prefix_list_id": "pl-63a5400a"},
        {},
        "network.s3_prefix_list_id",
        "pl-63a5400a",
        "remove network.s3_prefix_list_id",
    ),
    (
        "S3 prefix list without a security group to put it in",
        {"network.vpc": "none", "network.s3_prefix_list_id": "pl-63a5400a"},
        {},
        "network.s3_prefix_list_id",
        "pl-63a5400a",
        "let the stack create the security group",
    ),
    (
        "a malformed S3 prefix list id",
        {"network.s3_prefix_list_id": "com.amazonaws.us-east-1.s3"},
        {},
        "network.s3_prefix_list_id",
        "com.amazonaws.us-east-1.s3",
        "describe-managed-prefix-lists",
    ),
    (
        "a Hub mirror over plain HTTP",
        {"weights.hub_endpoint": "http://hub-mirror.example.com"},
        {},
        "weights.hub_endpoint",
        "http://hub-mirror.example.com",
        "https://",
    ),
]


@pytest.mark.parametrize(
    ("changes", "app_changes", "field", "value", "fix"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_each_invalid_spec_gives_one_problem_naming_field_value_and_fix(
    changes: dict[str, Any], app_changes: dict[str, Any], field: str, value: Any, fix: str
) -> None:
    problems = problems_of(config_with(changes, **app_changes))
    assert len(problems) == 1, "\n".join(map(str, problems))
    (problem,) = problems
    assert problem.field.endswith(field), problem
    assert problem.value == value, problem
    assert fix in problem.fix, problem
    rendered = str(problem)
    assert field in rendered and "Fix:" in rendered


def test_there_are_at_least_twenty_distinct_rules() -> None:
    assert len(CASES) >= 20
    assert len({case[0] for case in CASES}) == len(CASES)


def test_every_problem_is_reported_at_once_across_fields_and_deployments() -> None:
    config = default_config()
    first = config["deployments"][0]
    first["instance_type"] = "ml.g5.3xlarge"
    first["tgi"] = {"max_input_tokens": 5000, "max_total_tokens": 4096, "dtype": "float16", "quantize": "gptq"}
    second = {"name": "second", "model": {"id": "not a repo"}, "scaling": {"max_instances": 0}}
    config["deployments"].append(second)
    with pytest.raises(ConfigError) as raised:
        load_app(config)
    fields = sorted(p.field for p in raised.value.problems)
    assert fields == [
        "deployments[r1-distill-llama-8b].instance_type",
        "deployments[r1-distill-llama-8b].tgi.dtype",
        "deployments[r1-distill-llama-8b].tgi.max_input_tokens",
        "deployments[r1-distill-llama-8b].tgi.quantize",  # gptq needs a pre-quantized checkpoint
        "deployments[second].model.id",
        "deployments[second].scaling.max_instances",
    ]
    message = str(raised.value)
    assert message.startswith("config has 6 problems:")


def test_an_app_tag_problem_is_reported_once_not_under_each_deployment() -> None:
    config = default_config()
    config["deployments"].append({**config["deployments"][0], "name": "second"})
    config["tags"] = {"aws:team": "ml"}
    problems = problems_of(config)
    assert [(p.field, p.value) for p in problems] == [("tags.aws:team", "aws:team")]
    config["deployments"][1]["tags"] = {"aws:cost": "x"}  # a deployment's own tag stays under the deployment
    config["stack_name_prefix"] = "1-bad"  # and the app's tags are still checked when another key fails to parse
    fields = sorted(p.field for p in problems_of(config))
    assert fields == ["deployments[second].tags.aws:cost", "stack_name_prefix", "tags.aws:team"]


def test_duplicate_deployment_names_are_rejected() -> None:
    config = default_config()
    config["deployments"].append(dict(config["deployments"][0]))
    problems = problems_of(config)
    assert [p.field for p in problems] == ["deployments[r1-distill-llama-8b].name"]
    assert "its own name" in problems[0].fix


def test_messages_never_echo_secret_values() -> None:
    problems = problems_of(config_with({"tgi.extra_env": {"MY_API_KEY": "sk-live-123456"}}))
    assert problems and all("sk-live-123456" not in str(p) for p in problems)


def test_a_token_anywhere_in_the_config_is_never_echoed() -> None:
    changes = {
        "weights.hf_token": HUB_TOKEN,
        "weights.hf_token_secret": HUB_TOKEN,
        "tgi.extra_env": {"OPTS": HUB_TOKEN, HUB_TOKEN: "1"},
        "tags": {"t": HUB_TOKEN},
    }
    with pytest.raises(ConfigError) as raised:
        load_app(config_with(changes, unknown={"nested": [HUB_TOKEN]}))
    assert len(raised.value.problems) == 6, str(raised.value)
    assert HUB_TOKEN not in str(raised.value) and HUB_TOKEN[3:20] not in str(raised.value)
    assert all(HUB_TOKEN not in repr(problem.value) for problem in raised.value.problems)


def test_a_secret_name_is_not_taken_for_a_token() -> None:
    for name in (
        "hf/token",
        "hf_productiontokenforllamamodels",
        "prod/hf_token",
        "arn:aws:secretsmanager:us-east-1:111122223333:secret:hf/token-AbCdEf",
    ):
        assert problems_of(config_with({"weights.hf_token_secret": name})) == [], name


def test_hub_model_outside_the_catalog_works_when_its_size_is_given() -> None:
    changes = {"model.id": UNKNOWN_MODEL, "model.parameters_billion": 9, "instance_type": "ml.g6e.xlarge"}
    app = load_app(config_with(changes))
    (deployment,) = app.deployments
    assert deployment.num_gpus == 1
    assert deployment.weights_bytes == 18_000_000_000
    assert deployment.tgi_environment["MAX_TOTAL_TOKENS"] == "4096"
    assert "DTYPE" not in deployment.tgi_environment  # TGI reads it from the model's config.json


def test_what_tgi_accepts_is_accepted() -> None:
    """The other side of the start-up rules: settings TGI takes must not be refused."""
    accepted = [
        {"tgi.max_batch_prefill_tokens": 1024},  # below max_input_tokens: the distills chunk their prefill
        {"tgi.dtype": "bfloat16", "tgi.quantize": "bitsandbytes-nf4"},  # DTYPE goes with bitsandbytes
        {"tgi.quantize": "eetq"},  # quantized at load time
        {"tgi.kv_cache_dtype": "fp8_e4m3fn"},  # flashinfer attention
        {"tgi.kv_cache_dtype": "fp8_e4m3fn", "tgi.extra_env": {"ATTENTION": "paged"}},  # paged: since TGI 3.1
        {"tgi.extra_env": {"CUDA_GRAPHS": "1,2,4", "ROPE_SCALING": "dynamic", "MAX_BATCH_SIZE": "+8"}},
        {"tgi.extra_env": {"LORA_ADAPTERS": "sql=/opt/ml/model/adapters/sql"}},  # local adapters need no network
        {"tgi.extra_env": {"NGROK": "false", "CUDA_MEMORY_FRACTION": "0.85", "TGI_WIGGLE_ROOM": ".8"}},
    ]
    for changes in accepted:
        assert problems_of(config_with(changes)) == [], changes


def test_a_model_outside_the_catalog_gets_one_gpu_where_its_weights_fit() -> None:
    changes = {"model.id": UNKNOWN_MODEL, "model.parameters_billion": 9, "instance_type": "ml.g6e.12xlarge"}
    (deployment,) = load_app(config_with(changes)).deployments
    assert deployment.num_gpus == 1  # not the 4 GPUs of the instance: its heads might not divide by 4
    assert deployment.scaling.max_copies == 8  # four one-GPU copies an instance


def test_hub_model_outside_the_catalog_works_when_its_gpus_are_given() -> None:
    app = load_app(config_with({"model.id": UNKNOWN_MODEL, "num_gpus": 4, "instance_type": "ml.g6e.12xlarge"}))
    (deployment,) = app.deployments
    assert deployment.tgi_environment["SM_NUM_GPUS"] == "4"
    assert deployment.weights_bytes is None


def test_a_deployment_with_a_typo_still_gets_its_other_problems_checked() -> None:
    problems = problems_of(
        config_with({"tgi.max_total_token": 8192, "tgi.extra_env": {"ENDPOINT_SERVER_TIMEOUT": "3600"}, "num_gpus": 4})
    )
    fields = sorted(p.field.split("].", 1)[1] for p in problems)
    assert fields == ["num_gpus", "tgi.extra_env.ENDPOINT_SERVER_TIMEOUT", "tgi.max_total_token"]


def test_the_other_rules_still_run_with_the_default_in_place_of_a_bad_value() -> None:
    problems = problems_of(config_with({"scaling.max_instances": 0, "scaling.min_instances": 1}))
    assert [p.field.split("].", 1)[1] for p in problems] == ["scaling.max_instances", "scaling.min_instances"]
