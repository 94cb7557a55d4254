"""``tgi``: the image version, and TGI's own start-up checks decided at synth (a deployment TGI refuses costs a 10-30
minute failed deploy).

Each start-up rule below cites where TGI (3.0.1-3.3.6, the same in every supported version) refuses to start:
``launcher/src/main.rs`` (argument parsing with clap, ``ArgumentValidation``), ``backends/v3/src/main.rs`` (the
router's checks once the model is warm), ``server/text_generation_server`` (``cli.py``, ``models/__init__.py``,
``models/globals.py``, ``utils/adapter.py``, ``layers/attention/kv_cache.py``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from tgi_sagemaker.catalog.models import CatalogModel
from tgi_sagemaker.catalog.sizing import TokenLimits
from tgi_sagemaker.config.spec import DeploymentSpec
from tgi_sagemaker.runtimes.tgi.image import TgiImage, UnknownTgiVersionError

AddProblem = Callable[[str, Any, str, str], None]

# Launcher flags read from the environment and parsed by clap before anything starts (launcher Args): a value that
# does not parse stops the container. Managed variables are refused by runtimes/tgi/environment.py.
_UNSIGNED_BITS = {
    "VALIDATION_WORKERS": 64,
    "SPECULATE": 64,
    "MAX_BEST_OF": 64,
    "MAX_STOP_SEQUENCES": 64,
    "MAX_WAITING_TOKENS": 64,
    "MAX_BATCH_SIZE": 64,
    "MASTER_PORT": 64,
    "MAX_CLIENT_BATCH_SIZE": 64,
    "PAYLOAD_LIMIT": 64,
    "GRACEFUL_TERMINATION_TIMEOUT": 64,
    "MAX_TOP_N_TOKENS": 32,
    "PROMETHEUS_PORT": 16,
}
_FLOATS = ("WAITING_SERVED_RATIO", "CUDA_MEMORY_FRACTION", "ROPE_FACTOR", "WATERMARK_GAMMA", "WATERMARK_DELTA")
_CHOICES = {
    "ROPE_SCALING": ("linear", "dynamic"),
    "USAGE_STATS": ("on", "off", "no-stack"),
    "SHARDED": ("true", "false"),
}
# Zero is refused after parsing: launcher ("`validation_workers` must be > 0") and router ("`max_batch_size`").
_POSITIVE = ("VALIDATION_WORKERS", "MAX_BATCH_SIZE")
_UNSIGNED = re.compile(r"^\+?[0-9]+$")
_FLOAT = re.compile(r"^[+-]?(([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?|inf|infinity|nan)$", re.IGNORECASE)
# Attention backends the server accepts on NVIDIA GPUs (models/globals.py asserts one of them).
_ATTENTION = ("flashinfer", "flashdecoding", "paged")
# Quantizations that load weights quantized ahead of time: TGI has nothing to load from a float checkpoint.
PRE_QUANTIZED = ("awq", "gptq", "marlin", "exl2", "compressed-tensors")
_FALSEY = ("", "0", "false", "no", "off", "n", "f")  # clap's reading of a flag's environment value
# Quantizations TGI's server lets DTYPE go with (server cli.py): bitsandbytes keeps the other layers in DTYPE.
_QUANTIZE_WITH_DTYPE = ("bitsandbytes", "bitsandbytes-nf4", "bitsandbytes-fp4")


def resolve_image(spec: DeploymentSpec, add: AddProblem) -> TgiImage | None:
    """The SageMaker TGI image of tgi.version; None only with a problem added."""
    try:
        return TgiImage.of(spec.tgi.version)
    except UnknownTgiVersionError as error:
        add("tgi.version", spec.tgi.version, "no SageMaker TGI image has this version", str(error).split("; ")[1])
        return None


def check_precision(spec: DeploymentSpec, add: AddProblem) -> None:
    """DTYPE together with QUANTIZE (refused by the server's cli.py), and exl2 weights sharded over several GPUs."""
    tgi = spec.tgi
    if tgi.dtype is not None and tgi.quantize is not None and tgi.quantize not in _QUANTIZE_WITH_DTYPE:
        add(
            "tgi.dtype",
            tgi.dtype,
            f"TGI refuses DTYPE together with QUANTIZE ('{tgi.quantize}')",
            "remove tgi.dtype (the quantized weights decide it) or remove tgi.quantize",
        )
    if tgi.quantize == "exl2" and spec.num_gpus is not None and spec.num_gpus > 1:
        add(
            "num_gpus",
            spec.num_gpus,
            "exl2-quantized models cannot be sharded over several GPUs",
            "set num_gpus to 1 or use another quantization (awq, gptq, marlin)",
        )


def check_launcher_environment(extra: Mapping[str, str], num_gpus: int | None, add: AddProblem) -> None:
    """Values of launcher and server variables in ``tgi.extra_env`` that TGI cannot parse or refuses."""
    for key, value in extra.items():
        path, name = f"tgi.extra_env.{key}", key.upper()
        if name in _UNSIGNED_BITS:
            limit = 2 ** _UNSIGNED_BITS[name] - 1
            if not _UNSIGNED.match(value) or int(value) > limit:
                add(path, value, f"TGI's launcher reads {name} as a whole number (0-{limit})", "give a plain number")
            elif name in _POSITIVE and int(value) == 0:
                add(path, value, f"TGI refuses {name} = 0", "use 1 or more, or remove it")
        elif name in _FLOATS and not _FLOAT.match(value):
            add(path, value, f"TGI's launcher reads {name} as a number", "give a number such as 0.9")
        elif name in _CHOICES and value not in _CHOICES[name]:
            add(path, value, f"TGI's launcher accepts only {', '.join(_CHOICES[name])}", "use one of them")
        elif name == "SHARDED" and value == "true" and num_gpus == 1:
            add(path, value, "TGI refuses SHARDED=true with one shard (num_gpus is 1)", "remove it (num_gpus decides)")
        elif name == "CUDA_GRAPHS" and not all(_UNSIGNED.match(size.strip()) for size in value.split(",")):
            add(path, value, "TGI reads CUDA_GRAPHS as batch sizes separated by commas", "e.g. '1,2,4,8' or '0' (off)")
        elif name == "NGROK" and value.strip().lower() not in _FALSEY:
            add(
                path,
                value,
                "TGI refuses ngrok without NGROK_AUTHTOKEN and NGROK_EDGE, a token the config must not hold; "
                "SageMaker serves the container on its own endpoint",
                "remove it",
            )
        elif name == "ATTENTION" and value not in _ATTENTION:
            add(path, value, "TGI's server accepts only flashinfer, flashdecoding or paged on NVIDIA GPUs", "use one")
        elif name == "TGI_WIGGLE_ROOM" and not (_FLOAT.match(value) and 0 < float(value) < 1):
            add(path, value, "TGI's server asserts 0 < TGI_WIGGLE_ROOM < 1", "give a fraction such as 0.9")
        elif name == "LORA_ADAPTERS":
            _check_lora_adapters(path, value, add)
    attention = _env(extra, "ATTENTION")
    prefix_caching = _env(extra, "PREFIX_CACHING")
    if attention == "paged" and prefix_caching is not None and prefix_caching.lower() in ("1", "true"):
        add(
            "tgi.extra_env.PREFIX_CACHING",
            prefix_caching,
            "TGI's server refuses prefix caching with paged attention",
            "remove PREFIX_CACHING (TGI turns it off for paged attention) or use another ATTENTION",
        )


def _check_lora_adapters(path: str, value: str, add: AddProblem) -> None:
    # server utils/adapter.py: "id", "id@revision" or "id=path[@revision]", separated by commas.
    for adapter in (a.strip() for a in value.split(",")):
        if adapter.count("=") > 1 or adapter.count("@") > 1 or not re.match(r"^[^=@]+(=[^@]+)?(@.+)?$", adapter):
            add(path, value, f"TGI cannot parse the LoRA adapter {adapter!r}", "use 'id', 'id@revision' or 'id=path'")
            return


def lora_adapters_from_the_hub(extra: Mapping[str, str]) -> list[str]:
    """Adapters TGI downloads from the Hub at start-up (the ones not given as ``id=path``)."""
    value = _env(extra, "LORA_ADAPTERS") or ""
    return [a.strip() for a in value.split(",") if a.strip() and "=" not in a]


def check_startup(
    spec: DeploymentSpec,
    model: CatalogModel | None,
    limits: TokenLimits,
    add: AddProblem,
    tgi_version: str | None,
) -> None:
    """Cross-field rules TGI enforces at start-up (``tgi_version``: the resolved image version, where it matters)."""
    tgi, extra = spec.tgi, spec.tgi.extra_env
    if model is not None and tgi.quantize in PRE_QUANTIZED:
        add(
            "tgi.quantize",
            tgi.quantize,
            f"'{tgi.quantize}' loads weights quantized ahead of time, and '{model.repo_id}' is a {model.native_dtype} "
            "checkpoint: TGI cannot load it so",
            "use eetq, fp8 or bitsandbytes-nf4 (they quantize at load time), or a pre-quantized repo as model.id "
            "with model.parameters_billion",
        )
    if not _prefill_can_be_chunked(model, extra) and limits.max_batch_prefill_tokens < limits.max_input_tokens:
        why = (
            f"model '{spec.model.id}' is not in the catalog, so whether TGI can chunk its prefill is unknown"
            if model is None
            else "prefill chunking is off (PREFILL_CHUNKING, SPECULATE or ATTENTION in tgi.extra_env)"
        )
        add(
            "tgi.max_batch_prefill_tokens",
            limits.max_batch_prefill_tokens,
            f"TGI's router refuses a prefill budget below max_input_tokens ({limits.max_input_tokens}) when it "
            f"cannot chunk a prompt: {why}",
            f"set tgi.max_batch_prefill_tokens to at least {limits.max_input_tokens}, or lower tgi.max_input_tokens",
        )
    attention = _env(extra, "ATTENTION") or (model.tgi_attention if model else None)
    # layers/attention/kv_cache.py: flashinfer on CUDA, and since 3.1 paged attention too.
    fp8_attention = ("flashinfer",) if (tgi_version or "").startswith("3.0.") else ("flashinfer", "paged")
    if tgi.kv_cache_dtype is not None and attention is not None and attention not in fp8_attention:
        add(
            "tgi.kv_cache_dtype",
            tgi.kv_cache_dtype,
            f"TGI {tgi_version or spec.tgi.version} keeps an fp8 KV cache only with {' or '.join(fp8_attention)} "
            f"attention; this model runs with {attention}",
            "remove tgi.kv_cache_dtype",
        )
    hub_adapters = lora_adapters_from_the_hub(extra)
    if hub_adapters and spec.weights.source == "s3":
        add(
            "tgi.extra_env.LORA_ADAPTERS",
            _env(extra, "LORA_ADAPTERS"),
            f"TGI downloads {', '.join(hub_adapters)} from the Hub at start-up, which the model's network isolation "
            "(weights.source 's3') blocks",
            "remove LORA_ADAPTERS, or use weights.source 'hub' (with internet egress)",
        )


def _prefill_can_be_chunked(model: CatalogModel | None, extra: Mapping[str, str]) -> bool:
    """The server chunks prefill for flash models (every catalog model) unless turned off: PREFILL_CHUNKING not
    1/true, speculation on, or an attention without chunking (models/globals.py, models/model.py)."""
    if model is None:
        return False  # its TGI model class, and so chunking, is unknown: do not guess
    chunking = (_env(extra, "PREFILL_CHUNKING") or "1").lower() in ("1", "true")
    speculate = _env(extra, "SPECULATE")
    attention = _env(extra, "ATTENTION") or model.tgi_attention
    return chunking and speculate in (None, "0") and attention in ("flashinfer", "flashdecoding")


def _env(extra: Mapping[str, str], name: str) -> str | None:
    return next((value for key, value in extra.items() if key.upper() == name), None)
