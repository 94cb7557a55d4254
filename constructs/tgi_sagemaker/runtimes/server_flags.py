"""How the Hugging Face vLLM and SGLang containers turn environment variables into server flags, and how a flag a
user sets is checked against the flag list of the server version the image runs.

Both SageMaker entrypoints (aws/deep-learning-containers ``scripts/docker/huggingface/vllm/sagemaker_entrypoint.sh``
and ``scripts/docker/sglang/sagemaker_entrypoint.sh``) read every ``<PREFIX><NAME>`` variable and pass
``--<name>`` with ``NAME`` lower-cased and ``_`` turned into ``-``; the value ``true`` (any case) passes the bare
flag, ``false`` passes nothing, anything else follows the flag as its value.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources

FlagValue = str | int | float | bool
FLAG_NAME = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


def flag_variable(prefix: str, flag: str) -> str:
    """``SM_VLLM_`` and ``max-model-len`` -> ``SM_VLLM_MAX_MODEL_LEN``."""
    return prefix + flag.upper().replace("-", "_")


def variable_flag(prefix: str, variable: str) -> str:
    """The flag the entrypoint makes of a variable: ``SM_VLLM_MAX_MODEL_LEN`` -> ``max-model-len``."""
    return variable.removeprefix(prefix).lower().replace("_", "-")


def flag_value(value: FlagValue) -> str:
    """A setting as the entrypoint must see it: booleans as ``true``/``false`` (bare flag / no flag)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@dataclass(frozen=True)
class FlagList:
    """The command-line flags of one server version, recorded from its source (``tools/refresh_flags.py``)."""

    server: str
    version: str
    source: str
    flags: frozenset[str]

    @classmethod
    def load(cls, package: str, file_name: str) -> dict[str, FlagList]:
        """Every recorded version of a server's flags, by server version."""
        raw = json.loads((resources.files(package) / file_name).read_text())
        return {
            version: cls(raw["server"], version, entry["source"], frozenset(entry["flags"]))
            for version, entry in raw["versions"].items()
        }

    def nearest(self, flag: str) -> str | None:
        close = difflib.get_close_matches(flag, sorted(self.flags), n=1, cutoff=0.6)
        return close[0] if close else None


def unknown_flags(flags: Mapping[str, object], known: FlagList) -> list[tuple[str, str | None]]:
    """The flags the server version does not have, each with the nearest one it has (None: nothing close)."""
    return [(flag, known.nearest(flag)) for flag in flags if flag not in known.flags]


def flags_environment(prefix: str, flags: Mapping[str, FlagValue | None]) -> dict[str, str]:
    """The variables that make the entrypoint pass ``flags`` (None: the flag is not passed)."""
    return {flag_variable(prefix, flag): flag_value(value) for flag, value in flags.items() if value is not None}
