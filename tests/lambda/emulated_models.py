"""Model files shaped like the real ones, made with the safetensors package (never downloaded)."""

from __future__ import annotations

import json

import numpy as np
from safetensors.numpy import save

REPO = "deepseek-ai/DeepSeek-R1-Distill-Llama-8B"
MIB = 1024 * 1024


def model_files(shard_bytes: int = 3 * MIB, shards: int = 2, seed: int = 7) -> dict[str, bytes]:
    """A model shaped like the default one: safetensors shards (made by safetensors), config and tokenizer files."""
    rng = np.random.default_rng(seed)
    files: dict[str, bytes] = {}
    weight_map = {}
    for index in range(1, shards + 1):
        name = f"model-{index:05d}-of-{shards:05d}.safetensors"
        rows = max(1, shard_bytes // (2 * 4096))
        tensors = {
            f"model.layers.{index}.mlp.weight": rng.standard_normal((rows, 4096), dtype=np.float32).astype(np.float16)
        }
        files[name] = save(tensors)
        weight_map.update(dict.fromkeys(tensors, name))
    files["model.safetensors.index.json"] = json.dumps({"metadata": {}, "weight_map": weight_map}).encode()
    files["config.json"] = json.dumps({"architectures": ["LlamaForCausalLM"], "num_hidden_layers": 32}).encode()
    files["generation_config.json"] = json.dumps({"temperature": 0.6, "top_p": 0.95}).encode()
    files["tokenizer.json"] = json.dumps(
        {"version": "1.0", "model": {"vocab": {f"t{i}": i for i in range(2000)}}}
    ).encode()
    files["tokenizer_config.json"] = json.dumps({"model_max_length": 131072}).encode()
    files["README.md"] = b"# DeepSeek-R1-Distill-Llama-8B (emulated)\n"
    return files
