"""The copy engine's settings and their defaults, written once.

The handlers and the shell (``python -m weights_copy``) read them here, and so does the library, which ships this
folder as the copy functions' asset: its deployment spec (``weights.*``) and ``HubWeightsCopy`` import this module
as ``tgi_sagemaker.hub_weights_copy.runtime.weights_copy.settings``. Hence plain values and the standard library
only, and no import of the other engine modules (under that name, they would not find ``weights_copy``).
"""

from __future__ import annotations

HUB_ENDPOINT = "https://huggingface.co"
"""Where the Hub is (HF_ENDPOINT names a mirror, e.g. an enterprise proxy)."""
PART_SIZE_MB = 64
"""MiB a range GET and an UploadPart carry (S3 parts are 5 MiB to 5 GiB)."""
MAX_IN_FLIGHT = 8
"""Parts of one file fetched at once: connections to the CDN, and the engine's memory (parts x part size)."""

# What a serving container loads: weights as safetensors, configs and tokenizer files, chat templates, remote code.
# Not pickled weights (*.bin, *.pth) nor the original/ checkpoints some repos carry beside the converted ones.
# A deployment and a shell copy select alike: SageMaker serves whatever the prefix holds.
ALLOW_PATTERNS = ("*.safetensors", "*.json", "*.txt", "*.model", "*.tiktoken", "*.jinja", "*.py")
IGNORE_PATTERNS = ("original/*",)
