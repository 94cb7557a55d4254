"""How the Hugging Face vLLM and SGLang containers turn environment variables into server flags, and how a flag a
user sets is checked against the flag list of the server version the image runs.

Both SageMaker entrypoints read every ``<PREFIX><NAME>`` variable and pass ``--<name>`` with ``NAME`` lower-cased
and ``_`` turned into ``-``, followed by the variable's value unless it is empty. The two generations of entrypoint
differ on ``true``/``false`` (aws/deep-learning-containers):
- the images this library pins by default, HF vLLM 0.14-0.21 (``huggingface/vllm/build_artifacts/
  sagemaker_entrypoint.sh``, unchanged since 6228799f) and HF SGLang 0.5.8 (``huggingface/sglang/build_artifacts/
  sagemaker_entrypoint.sh`` @ 11cc4ca2), pass every non-empty value as it is: ``SM_VLLM_X=true`` gives
  ``--x true``, a stray word the server refuses or misreads, and ``=false`` gives ``--x false``;
- HF vLLM 0.22.1 and later (``scripts/docker/huggingface/vllm/sagemaker_entrypoint.sh``) and AWS's own SGLang
  images pass ``true`` as the bare flag and skip ``false``.
What every generation reads alike: an EMPTY value is the bare flag, and an absent variable no flag. So a switch
set true is written as an empty value, a switch set false is left out, or written as its ``--no-`` form (empty)
where the server has one (vLLM's ``BooleanOptionalAction`` flags, whose default may be on). The flag lists record
which flags are switches and which of those are negatable (``constructs/tools/refresh_flags.py``).
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


NEGATIVE = "no-"
BARE_FLAG = ""  # an empty value: the entrypoint passes the flag alone, in every image generation


@dataclass(frozen=True)
class FlagList:
    """The command-line flags of one server version, recorded from its source (``tools/refresh_flags.py``):
    every flag, the switches among them (flags that take no value) and the negatable switches (``--no-<flag>``)."""

    server: str
    version: str
    source: str
    flags: frozenset[str]
    switches: frozenset[str] = frozenset()
    negatable: frozenset[str] = frozenset()

    @classmethod
    def load(cls, package: str, file_name: str) -> dict[str, FlagList]:
        """Every recorded version of a server's flags, by server version."""
        raw = json.loads((resources.files(package) / file_name).read_text())
        return {
            version: cls(
                raw["server"],
                version,
                entry["source"],
                frozenset(entry["flags"]),
                frozenset(entry.get("switches", ())),
                frozenset(entry.get("negatable", ())),
            )
            for version, entry in raw["versions"].items()
        }

    def has(self, flag: str) -> bool:
        """A flag of this version, or the ``no-`` form of one of its negatable switches."""
        return flag in self.flags or self._negates(flag)

    def is_switch(self, flag: str) -> bool:
        return flag in self.switches or self._negates(flag)

    def _negates(self, flag: str) -> bool:
        return flag.startswith(NEGATIVE) and flag.removeprefix(NEGATIVE) in self.negatable

    def nearest(self, flag: str) -> str | None:
        close = difflib.get_close_matches(flag, sorted(self.flags), n=1, cutoff=0.6)
        return close[0] if close else None


def unknown_flags(flags: Mapping[str, object], known: FlagList) -> list[tuple[str, str | None]]:
    """The flags the server version does not have, each with the nearest one it has (None: nothing close)."""
    return [(flag, known.nearest(flag)) for flag in flags if not known.has(flag)]


def flags_environment(
    prefix: str, flags: Mapping[str, FlagValue | None], *, negatable: frozenset[str] = frozenset()
) -> dict[str, str]:
    """The variables that make either entrypoint generation pass ``flags``: None is no flag; a switch set true is
    the bare flag (an empty value), set false its ``--no-`` form where ``negatable`` has it, else no flag."""
    environment = {}
    for flag, value in flags.items():
        if value is None or (value is False and flag not in negatable):
            continue
        if value is False:
            environment[flag_variable(prefix, NEGATIVE + flag)] = BARE_FLAG
        else:
            environment[flag_variable(prefix, flag)] = BARE_FLAG if value is True else str(value)
    return environment
