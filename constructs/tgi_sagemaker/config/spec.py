"""The deployment spec: what a user writes in cdk.json context or a YAML/JSON config file.

Pydantic checks shapes, types and single-field ranges here; the rules (``rules/``, one module per section of this
spec) check everything that spans fields (fit, token limits, network) and derive the values left open (GPUs, token
limits, instance type), and ``resolve.py`` runs them. Every default a deployment can get is written in this module,
read from ``defaults.py`` (the defaults the constructs apply too) or derived by the rules and ``catalog/sizing.py``;
the ranges the constructs check too are read from ``limits.py``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from tgi_sagemaker import defaults, limits
from tgi_sagemaker.hub_weights_copy.runtime.weights_copy import settings as copy_settings
from tgi_sagemaker.runtimes.server_flags import FLAG_NAME
from tgi_sagemaker.runtimes.sglang.image import default_sglang_version
from tgi_sagemaker.runtimes.tgi.image import default_tgi_version
from tgi_sagemaker.runtimes.vllm.image import default_vllm_version

# Hub repo ids: "owner/name", letters, digits, '-', '_', '.'; no leading/trailing separators, no "--" or "..".
HUB_REPO_ID_PATTERN = r"^(?!.*(--|\.\.))[A-Za-z0-9][A-Za-z0-9_.-]{0,95}/[A-Za-z0-9][A-Za-z0-9_.-]{0,95}$"
KMS_KEY_ARN_PATTERN = r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]{1,128}$"
DEPLOYMENT_NAME_PATTERN = r"^[a-z][a-z0-9-]{0,38}[a-z0-9]$"
SECRET_REF_PATTERN = (
    r"^(arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+|[A-Za-z0-9/_+=.@-]{1,512})$"
)

Dtype = Literal["bfloat16", "float16"]
Quantize = Literal[
    "awq",
    "compressed-tensors",
    "eetq",
    "exl2",
    "gptq",
    "marlin",
    "bitsandbytes",
    "bitsandbytes-nf4",
    "bitsandbytes-fp4",
    "fp8",
]
KvCacheDtype = Literal["fp8_e4m3fn", "fp8_e5m2"]
PositiveInt = Annotated[int, Field(gt=0)]
FilePattern = Annotated[str, StringConstraints(min_length=1, max_length=256, pattern=r"^[^\x00-\x1f]+$")]
StartupSeconds = Annotated[int, Field(ge=limits.STARTUP_TIMEOUT_SECONDS[0], le=limits.STARTUP_TIMEOUT_SECONDS[1])]
CooldownSeconds = Annotated[int, Field(ge=limits.COOLDOWN_SECONDS[0], le=limits.COOLDOWN_SECONDS[1])]
AlarmPercent = Annotated[float, Field(gt=0, le=limits.MAX_ALARM_PERCENT)]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, regex_engine="python-re")


class ModelSpec(_Spec):
    id: Annotated[str, StringConstraints(pattern=HUB_REPO_ID_PATTERN)]
    """Hugging Face Hub repo id, e.g. ``deepseek-ai/DeepSeek-R1-Distill-Llama-8B``."""
    revision: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,127}$")] | None = None
    """Branch, tag or commit. Default: the repo's default branch. A production environment needs a 40-hex commit;
    hub weights of anything else warn at synth (the container resolves it again at every instance start)."""
    parameters_billion: Annotated[float, Field(gt=0, le=5000)] | None = None
    """Model size, for models outside the catalog. Default: the catalog's figure."""
    context_length: PositiveInt | None = None
    """``max_position_embeddings`` of the model. Default: the catalog's figure; unknown for other models."""
    trust_remote_code: bool = False
    """Sets HF_MODEL_TRUST_REMOTE_CODE. Default: false (never run code from the repo)."""


class WeightsSpec(_Spec):
    source: Literal["s3", "hub"] = "s3"
    """``s3``: copied once from the Hub into a bucket of the stack at deploy time, served with network isolation
    from /opt/ml/model. ``hub``: the container downloads from the Hub at every start (needs egress). Default: s3."""
    hf_token_secret: Annotated[str, StringConstraints(pattern=SECRET_REF_PATTERN)] | None = None
    """Secrets Manager secret (name or ARN) holding a Hub token, for gated or private repos. Default: none."""
    hf_token_kms_key_arn: Annotated[str, StringConstraints(pattern=KMS_KEY_ARN_PATTERN)] | None = None
    """The customer managed KMS key that encrypts hf_token_secret, when it is not Secrets Manager's own key
    (``aws/secretsmanager``): the copy functions may decrypt with it, through Secrets Manager only. Default: none."""
    hub_endpoint: Annotated[str, StringConstraints(pattern=r"^https://[A-Za-z0-9.-]+(:\d+)?(/.*)?$")] = (
        copy_settings.HUB_ENDPOINT
    )
    """s3: where the copy reads from (a mirror works too; https only). Default: https://huggingface.co."""
    copy_max_concurrency: Annotated[int, Field(ge=1, le=1000)] = defaults.COPY_MAX_CONCURRENCY
    """s3: files copied at once (Step Functions Map concurrency). Default: 16."""
    part_size_mb: Annotated[int, Field(ge=8, le=512)] = copy_settings.PART_SIZE_MB
    """s3: bytes a range GET and an UploadPart carry. Default: 64."""
    max_in_flight: Annotated[int, Field(ge=1, le=64)] = copy_settings.MAX_IN_FLIGHT
    """s3: parallel parts per file (connections to the CDN). Default: 8."""
    copy_memory_mb: Annotated[int, Field(ge=512, le=10240)] = defaults.COPY_MEMORY_MB
    """s3: copy Lambda memory; needs about 2 x part_size_mb x max_in_flight. Default: 2048."""
    bucket_versioned: bool = False
    """s3: keep object versions in the weights bucket. Default: false (each commit has its own prefix)."""
    bucket_removal_policy: Literal["retain", "destroy"] = "retain"
    """s3: what stack deletion does to the weights bucket. Default: retain (destroy also empties it)."""
    delete_objects_on_delete: bool = False
    """s3: delete a commit's objects when its copy resource is deleted. Default: false."""
    allow_patterns: Annotated[tuple[FilePattern, ...], Field(min_length=1)] = copy_settings.ALLOW_PATTERNS
    """s3: which repo files to copy (shell-style patterns on their paths; ``*`` also matches ``/``). Default:
    safetensors, JSON, text, tokenizer models, chat templates and Python files: what the container loads."""
    ignore_patterns: tuple[FilePattern, ...] = copy_settings.IGNORE_PATTERNS
    """s3: files not to copy even if allowed. Default: ``original/*`` (the unconverted checkpoints of Llama repos)."""


class TgiSpec(_Spec):
    version: str = Field(default_factory=default_tgi_version)
    """TGI DLC version (``3.3.6`` or a minor alias like ``3.3``). Default: the newest supported."""
    dtype: Dtype | None = None
    """DTYPE. Default: the catalog model's dtype (bfloat16 for the distills); unset for fp8 checkpoints, with
    tgi.quantize, and for models outside the catalog (TGI reads the dtype from their config.json)."""
    quantize: Quantize | None = None
    """QUANTIZE (as HF_MODEL_QUANTIZE). Default: none."""
    kv_cache_dtype: KvCacheDtype | None = None
    """KV_CACHE_DTYPE. Default: the model dtype."""
    max_input_tokens: PositiveInt | None = None
    """Default: max_total_tokens - 1024, or half of max_total_tokens when that is more (the blog's 3072)."""
    max_total_tokens: PositiveInt | None = None
    """Default: 4096, lowered to the model's context and the KV cache that fits (in steps of 256, at least 512);
    raised to max_input_tokens + 1024 when max_input_tokens is given."""
    max_batch_prefill_tokens: PositiveInt | None = None
    """Default: max_input_tokens + 128 (the blog's 3200), at most max_batch_total_tokens."""
    max_batch_total_tokens: PositiveInt | None = None
    """Default: unset, TGI sizes it from free GPU memory at start-up."""
    max_concurrent_requests: PositiveInt = 128
    """MAX_CONCURRENT_REQUESTS. Default: 128 (TGI's own default, stated explicitly)."""
    extra_env: dict[str, str] = Field(default_factory=dict)
    """More container environment variables. Managed variables and secrets are refused. Default: none."""


Runtime = Literal["tgi", "vllm", "sglang"]
RUNTIMES: tuple[Runtime, ...] = ("tgi", "vllm", "sglang")
FlagName = Annotated[str, StringConstraints(pattern=FLAG_NAME.pattern)]
FlagValue = bool | int | float | str
ReasoningParser = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")]
MemoryFraction = Annotated[float, Field(gt=0, lt=1)]


class VllmSpec(_Spec):
    """Settings of the vLLM server (``runtime: vllm``); each becomes an ``SM_VLLM_*`` variable, a server flag."""

    version: str = Field(default_factory=default_vllm_version)
    """Hugging Face vLLM DLC version (``0.17.0`` or a minor alias like ``0.25``). Default: 0.17.0, the newest whose
    flag list is recorded (0.14.0 and 0.17.0 are); versions from 0.21 run CUDA 13, on the AMI with its driver."""
    max_model_len: PositiveInt | None = None
    """--max-model-len: prompt plus answer, in tokens. Default: 4096, lowered to the model's context and the KV
    cache that fits (in steps of 256, at least 512)."""
    gpu_memory_utilization: MemoryFraction = 0.9
    """--gpu-memory-utilization: the share of GPU memory vLLM takes for weights, activations and KV cache.
    Default: 0.9 (vLLM's own default, stated explicitly so that sizing uses it)."""
    max_num_seqs: PositiveInt | None = None
    """--max-num-seqs: sequences in a batch at most. Default: unset, vLLM's default."""
    dtype: Dtype | None = None
    """--dtype. Default: the catalog model's dtype; unset (the checkpoint's) for fp8 and other models."""
    kv_cache_dtype: Literal["fp8", "fp8_e4m3", "fp8_e5m2"] | None = None
    """--kv-cache-dtype. Default: unset, the model dtype."""
    reasoning_parser: ReasoningParser | None = None
    """--reasoning-parser: sends the model's thinking apart from its answer. Default: ``deepseek_r1`` for catalog
    models (the R1 family), unset for others."""
    flags: dict[FlagName, FlagValue] = Field(default_factory=dict)
    """More server flags, named without the dashes (``enable-prefix-caching: true``). A switch takes true or false:
    true passes the bare flag, false its ``--no-`` form where the server has one (vLLM), else no flag. Each must be
    a flag of the version's server (checked where its flag list is recorded); flags the library sets, in either
    form, are refused. Default: none."""


class SglangSpec(_Spec):
    """Settings of the SGLang server (``runtime: sglang``); each becomes an ``SM_SGLANG_*`` variable, a flag."""

    version: str = Field(default_factory=default_sglang_version)
    """Hugging Face SGLang DLC version (``0.5.8`` or the minor alias ``0.5``). Default: 0.5.8."""
    context_length: PositiveInt | None = None
    """--context-length: prompt plus answer, in tokens. Default: 4096, lowered to the model's context and the KV
    cache that fits (in steps of 256, at least 512)."""
    mem_fraction_static: MemoryFraction = 0.85
    """--mem-fraction-static: the share of GPU memory for weights and the KV cache pool. Default: 0.85 (fixed, so
    sizing is decided here rather than by SGLang's guess from the GPU at start-up)."""
    max_running_requests: PositiveInt | None = None
    """--max-running-requests. Default: unset, SGLang sizes it from the KV cache."""
    dtype: Dtype | None = None
    """--dtype. Default: the catalog model's dtype; unset (the checkpoint's) for fp8 and other models."""
    kv_cache_dtype: Literal["fp8_e4m3", "fp8_e5m2"] | None = None
    """--kv-cache-dtype. Default: unset, the model dtype."""
    reasoning_parser: ReasoningParser | None = None
    """--reasoning-parser. Default: ``deepseek-r1`` for catalog models (the R1 family), unset for others."""
    flags: dict[FlagName, FlagValue] = Field(default_factory=dict)
    """More server flags, named without the dashes (``enable-metrics: true``). Each must be a flag of the
    version's server (checked where its flag list is recorded); flags the library sets are refused. Default: none."""


class ScalingSpec(_Spec):
    mode: Literal["scale_to_zero", "instances"] = "scale_to_zero"
    """``scale_to_zero``: an inference component whose copies (and the instances under them) scale to 0 when idle
    and back when requests arrive. ``instances``: an instance-based variant, always at least one instance.
    Default: scale_to_zero."""
    min_instances: Annotated[int, Field(ge=0)] | None = None
    """Default: 0 with scale_to_zero, 1 with instances."""
    max_instances: Annotated[int, Field(ge=1)] = defaults.MAX_INSTANCES
    """Default: 2."""
    invocations_per_instance: Annotated[float, Field(gt=0)] = defaults.INVOCATIONS_PER_INSTANCE
    """instances: target of SageMakerVariantInvocationsPerInstance (per minute). Default: 30, tune with ``bench``."""
    min_copies: Annotated[int, Field(ge=0)] = defaults.MIN_COPIES
    """scale_to_zero: fewest model copies (above 0 only on a shared endpoint, whose min_instances must hold
    them). Default: 0."""
    max_copies: Annotated[int, Field(ge=1)] | None = None
    """scale_to_zero: most model copies. Default: as many as fit on max_instances; 1 on a shared endpoint."""
    concurrent_requests_per_copy: Annotated[float, Field(gt=0)] = defaults.CONCURRENT_REQUESTS_PER_COPY
    """scale_to_zero: target of SageMakerInferenceComponentConcurrentRequestsPerCopyHighResolution. Default: 5."""
    scale_out_from_zero_cooldown_seconds: CooldownSeconds = defaults.SCALE_OUT_FROM_ZERO_COOLDOWN_SECONDS
    """scale_to_zero: pause after the no-capacity alarm added a copy, while it starts. Default: 300."""
    min_memory_mb: Annotated[int, Field(ge=1)] | None = None
    """scale_to_zero: host memory reserved for a copy. Default: half the instance memory per GPU x GPUs."""
    scale_in_cooldown_seconds: CooldownSeconds = defaults.SCALE_IN_COOLDOWN_SECONDS
    """Pause after a scale-in before the next one. Default: 600."""
    scale_out_cooldown_seconds: CooldownSeconds = defaults.SCALE_OUT_COOLDOWN_SECONDS
    """Pause after a scale-out before the next one. Default: 120."""


class TimeoutsSpec(_Spec):
    model_data_download_seconds: StartupSeconds = defaults.MODEL_DATA_DOWNLOAD_TIMEOUT_SECONDS
    """ModelDataDownloadTimeoutInSeconds. Default: 1800."""
    container_startup_health_check_seconds: StartupSeconds = defaults.CONTAINER_STARTUP_HEALTH_CHECK_TIMEOUT_SECONDS
    """ContainerStartupHealthCheckTimeoutInSeconds: TGI's download + load + warm-up. Default: 1800."""


class NetworkSpec(_Spec):
    vpc: Literal["new", "existing", "none"] = "new"
    """``new``: a VPC made for the endpoint; ``existing``: ids below; ``none``: SageMaker-managed network.
    Default: new."""
    egress: bool | None = None
    """Internet egress for the container (a NAT gateway in a new VPC). Default: false with s3 weights (the model
    runs with network isolation), true with hub weights (the container downloads them)."""
    max_azs: Annotated[int, Field(ge=1, le=6)] = defaults.MAX_AZS
    """Availability zones of a new VPC. Default: 2."""
    availability_zones: list[Annotated[str, StringConstraints(pattern=r"^[a-z]{2}(-[a-z]+)+-\d[a-z]$")]] = Field(
        default_factory=list
    )
    """Pinned AZs for a new VPC; required when the environment names a region (no look-ups at synth). Default:
    none, the first max_azs zones of the region the stack deploys to."""
    vpc_id: Annotated[str, StringConstraints(pattern=r"^vpc-([0-9a-f]{8}|[0-9a-f]{17})$")] | None = None
    """existing: the VPC the endpoint's new security group is made in. Default: none."""
    subnet_ids: list[Annotated[str, StringConstraints(pattern=r"^subnet-([0-9a-f]{8}|[0-9a-f]{17})$")]] = Field(
        default_factory=list
    )
    """existing: the endpoint's subnets (1 to 16, private). Default: none."""
    security_group_ids: list[Annotated[str, StringConstraints(pattern=r"^sg-([0-9a-f]{8}|[0-9a-f]{17})$")]] = Field(
        default_factory=list
    )
    """Existing security groups for the endpoint. Default: a new one with egress only."""
    s3_prefix_list_id: Annotated[str, StringConstraints(pattern=r"^pl-([0-9a-f]{8}|[0-9a-f]{17})$")] | None = None
    """The region's S3 managed prefix list (``com.amazonaws.<region>.s3``): the new security group's HTTPS egress
    then reaches S3 alone. Without internet egress only. Default: none, HTTPS to any address, which the subnets of
    a new VPC without egress route to S3's gateway endpoint only."""


SNS_TOPIC_ARN_PATTERN = r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$"
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


class OperationsSpec(_Spec):
    dashboard: bool = True
    """A CloudWatch dashboard for the deployment. Default: true."""
    alarms: bool = True
    """5xx rate, model latency p90, GPU memory and (s3 weights) copy-failure alarms. Default: true."""
    alarm_emails: list[Annotated[str, StringConstraints(pattern=EMAIL_PATTERN)]] = Field(default_factory=list)
    """Addresses an alarm topic (SNS, KMS-encrypted, TLS only) notifies. Default: none, no topic."""
    alarm_topic_arn: Annotated[str, StringConstraints(pattern=SNS_TOPIC_ARN_PATTERN)] | None = None
    """An existing SNS topic to notify instead. Default: none."""
    error_rate_percent: AlarmPercent = defaults.ERROR_RATE_PERCENT
    """Alarm when 5xx responses exceed this share of invocations over 5 minutes. Default: 5."""
    model_latency_p90_seconds: Annotated[float, Field(gt=0, le=3600)] = defaults.MODEL_LATENCY_P90_SECONDS
    """Alarm when p90 ModelLatency (a whole streamed answer) exceeds this over 5 minutes. Default: 120 (R1 thinks
    at length: 2,048 tokens at 25 ms is 51 s)."""
    gpu_memory_percent: AlarmPercent = defaults.GPU_MEMORY_PERCENT
    """Alarm when GPU memory stays above this for 15 minutes. Default: 98 (TGI reserves most GPU memory for its KV
    cache at start, so ~90 % is its normal level)."""
    auto_rollback: bool = True
    """Roll an update back when the 5xx or latency alarm fires during it. Default: true (needs alarms)."""
    update_strategy: Literal["blue_green", "rolling"] | None = None
    """instances: ``blue_green`` (a full new fleet, traffic all at once, old fleet kept while baking) or
    ``rolling`` (one instance at a time). scale_to_zero: copies always roll one at a time. Default: blue_green
    with instances, rolling with scale_to_zero."""
    bake_minutes: Annotated[int, Field(ge=0, le=limits.BAKE_TIME_SECONDS[1] // 60)] = defaults.BAKE_MINUTES
    """How long an update is watched by the rollback alarms before the old capacity goes. Default: 10."""
    log_retention_days: int = defaults.LOG_RETENTION_DAYS
    """Retention of every log group the stack creates (one of CloudWatch's values). Default: 365."""


class DeploymentSpec(_Spec):
    name: Annotated[str, StringConstraints(pattern=DEPLOYMENT_NAME_PATTERN)]
    """Short name; the stack is named ``<stack_name_prefix>-<name>``."""
    model: ModelSpec
    instance_type: str | None = None
    """SageMaker instance type. Default: the catalog model's recommended instance."""
    num_gpus: PositiveInt | None = None
    """GPUs a model copy is sharded over (TGI: SM_NUM_GPUS; vLLM, SGLang: the tensor parallel size). Default:
    every GPU of the instance the model can be sharded over (on a shared endpoint: the fewest its weights fit
    on, leaving the rest to the other models); one GPU, where the weights fit on one, for a model
    outside the catalog (its attention heads are unknown) or exl2 weights (never sharded)."""
    weights: WeightsSpec = Field(default_factory=WeightsSpec)
    runtime: Runtime = "tgi"
    """The serving container: ``tgi`` (Hugging Face TGI, in maintenance upstream), ``vllm`` or ``sglang``. Only
    the settings section of this runtime may be given. Default: tgi."""
    tgi: TgiSpec = Field(default_factory=TgiSpec)
    vllm: VllmSpec = Field(default_factory=VllmSpec)
    sglang: SglangSpec = Field(default_factory=SglangSpec)
    scaling: ScalingSpec = Field(default_factory=ScalingSpec)
    timeouts: TimeoutsSpec = Field(default_factory=TimeoutsSpec)
    network: NetworkSpec = Field(default_factory=NetworkSpec)
    operations: OperationsSpec = Field(default_factory=OperationsSpec)
    tags: dict[str, str] = Field(default_factory=dict)
    """Tags on every resource of this deployment, over the app's tags of the same keys. Default: none."""
    endpoint: Annotated[str, StringConstraints(pattern=DEPLOYMENT_NAME_PATTERN)] | None = None
    """The name of a shared endpoint (``endpoints:``) this model runs on as one inference component, next to the
    other models there; the endpoint owns instance_type, network, scaling.min_instances/max_instances and the
    operations that are the endpoint's. Default: none, the deployment has its own endpoint and stack."""


class SharedEndpointOperationsSpec(_Spec):
    """What a shared endpoint's operations own: the dashboard, where alarms notify, its instance-level alarm and
    its log groups. Each model's own alarm thresholds stay in its deployment's ``operations``."""

    dashboard: bool = True
    """One dashboard for the endpoint: its instances, then a row of graphs for each model. Default: true."""
    alarms: bool = True
    """The endpoint's instance-level alarm (no instance capacity for a scale-out). Default: true."""
    alarm_emails: list[Annotated[str, StringConstraints(pattern=EMAIL_PATTERN)]] = Field(default_factory=list)
    """Addresses an alarm topic (SNS, KMS-encrypted, TLS only) notifies, for every alarm of the endpoint and of its
    models. Default: none, no topic."""
    alarm_topic_arn: Annotated[str, StringConstraints(pattern=SNS_TOPIC_ARN_PATTERN)] | None = None
    """An existing SNS topic to notify instead. Default: none."""
    log_retention_days: int = defaults.LOG_RETENTION_DAYS
    """Retention of every log group the endpoint's stack creates (one of CloudWatch's values). Default: 365."""


class SharedEndpointSpec(_Spec):
    """An inference-component endpoint several deployments share (``deployments[].endpoint`` names it): one fleet
    of instances that scales with the sum of the models' copies, each model scaling its own copies to zero."""

    name: Annotated[str, StringConstraints(pattern=DEPLOYMENT_NAME_PATTERN)]
    """Short name; the endpoint's stack is named ``<stack_name_prefix>[-<environment.name>]-<name>``."""
    instance_type: str
    """SageMaker instance type of every instance, e.g. ``ml.g6e.12xlarge``: every model's copies must fit it."""
    min_instances: Annotated[int, Field(ge=0)] = defaults.MIN_INSTANCES_WITH_SCALE_TO_ZERO
    """Instances kept running when idle (managed instance scaling). Default: 0."""
    max_instances: Annotated[int, Field(ge=1)] = defaults.MAX_INSTANCES
    """Instances at most; the models' copies together must fit them. Default: 2."""
    network: NetworkSpec = Field(default_factory=NetworkSpec)
    operations: SharedEndpointOperationsSpec = Field(default_factory=SharedEndpointOperationsSpec)
    tags: dict[str, str] = Field(default_factory=dict)
    """Tags on every resource of the endpoint's stack, over the app's tags of the same keys (a model's own tags
    are on its resources only). Default: none."""


ENVIRONMENT_NAME_PATTERN = r"^[a-z][a-z0-9-]{0,18}[a-z0-9]$"


class EnvironmentSpec(_Spec):
    name: Annotated[str, StringConstraints(pattern=ENVIRONMENT_NAME_PATTERN)] | None = None
    """Environment name (``dev``, ``prod``): stacks are named ``<stack_name_prefix>-<name>-<deployment>`` and a
    pipeline stage takes it. Default: none, ``<stack_name_prefix>-<deployment>``."""
    account: Annotated[str, StringConstraints(pattern=r"^\d{12}$")] | None = None
    """Default: none, the account of the CLI's credentials."""
    region: Annotated[str, StringConstraints(pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")] | None = None
    """Default: none, a region-agnostic stack that deploys wherever the CLI's credentials point."""
    production: bool = False
    """A production environment: its stacks get termination protection, weights must come from S3 (served
    with network isolation; ``weights.source: hub`` is refused) and of a pinned commit (``model.revision``).
    Default: false."""


class AppSpec(_Spec):
    deployments: Annotated[list[DeploymentSpec], Field(min_length=1)]
    endpoints: list[SharedEndpointSpec] = Field(default_factory=list)
    """Shared inference-component endpoints that deployments name in their ``endpoint``. Default: none."""

    environment: EnvironmentSpec = Field(default_factory=EnvironmentSpec)
    stack_name_prefix: Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9-]{0,63}$")] = "TgiSageMaker"
    """Stacks are named ``<stack_name_prefix>[-<environment.name>]-<deployment>``. Default: TgiSageMaker."""
    tags: dict[str, str] = Field(default_factory=dict)
    """Tags on every resource of every deployment. Default: none."""
