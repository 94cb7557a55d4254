"""How the vLLM and SGLang servers are started: the containers' own entrypoint loops (both generations, run by
bash) over the environment the library writes, parsed by a parser built from the server version's recorded flags.

The loops are the ones in aws/deep-learning-containers, reduced to how they turn ``<PREFIX><NAME>=<value>`` into
arguments (``runtimes/server_flags.py`` says which image has which):
- verbatim: ``huggingface/vllm/build_artifacts/sagemaker_entrypoint.sh`` (HF vLLM 0.14-0.21, since 6228799f) and
  ``huggingface/sglang/build_artifacts/sagemaker_entrypoint.sh`` (HF SGLang 0.5.8, 11cc4ca2): every value as it is;
- true/false: ``scripts/docker/huggingface/vllm/sagemaker_entrypoint.sh`` (HF vLLM 0.22.1+) and
  ``scripts/docker/sglang/sagemaker_entrypoint.sh``: ``true`` the bare flag, ``false`` skipped.
The parser follows vLLM's and SGLang's: a switch is ``store_true``, or ``BooleanOptionalAction`` where it is
negatable; vLLM's ``make_arg_parser`` also takes an optional positional ``model_tag``, where a stray word lands.
"""

from __future__ import annotations

import argparse
import os
import subprocess

from tgi_sagemaker.runtimes.server_flags import FlagList

VERBATIM = """
while IFS='=' read -r key value; do
    arg_name=$(echo "${key#"${PREFIX}"}" | tr '[:upper:]' '[:lower:]' | tr '_' '-')
    ARGS+=("--${arg_name}")
    if [ -n "$value" ]; then
        ARGS+=("$value")
    fi
done < <(env | grep "^${PREFIX}")
"""
TRUE_FALSE = """
while IFS='=' read -r key value; do
  arg_name=$(echo "${key#"${PREFIX}"}" | tr '[:upper:]' '[:lower:]' | tr '_' '-')
  lower_value=$(echo "${value}" | tr '[:upper:]' '[:lower:]')
  if [[ "${lower_value}" == "true" ]]; then
    ARGS+=("--${arg_name}")
  elif [[ "${lower_value}" == "false" ]]; then
    continue
  else
    ARGS+=("--${arg_name}")
    [[ -n "${value}" ]] && ARGS+=("${value}")
  fi
done < <(env | grep "^${PREFIX}")
"""
GENERATIONS = {"verbatim (vLLM 0.14-0.21, SGLang 0.5.8)": VERBATIM, "true/false (vLLM 0.22.1+)": TRUE_FALSE}


def entrypoint_arguments(loop: str, prefix: str, environment: dict[str, str]) -> list[str]:
    """The arguments the loop builds from ``environment`` (run by bash, printed one per NUL)."""
    script = f'PREFIX="{prefix}"\nARGS=()\n{loop}\nprintf "%s\\0" "${{ARGS[@]}}"'
    done = subprocess.run(
        ["bash", "-c", script],
        env={"PATH": os.environ["PATH"], **environment},
        capture_output=True,
        check=True,
    )
    return [argument.decode() for argument in done.stdout.split(b"\0") if argument]


class ServerRefused(Exception):
    pass


def server_parser(flags: FlagList, *, positional_model_tag: bool) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(exit_on_error=False)
    if positional_model_tag:
        parser.add_argument("model_tag", nargs="?")
    for flag in sorted(flags.flags):
        if flag in flags.negatable:
            parser.add_argument(f"--{flag}", action=argparse.BooleanOptionalAction)
        elif flag in flags.switches:
            parser.add_argument(f"--{flag}", action="store_true")
        else:
            parser.add_argument(f"--{flag}")
    parser.error = lambda message: (_ for _ in ()).throw(ServerRefused(message))  # type: ignore[method-assign]
    return parser


def start(flags: FlagList, loop: str, prefix: str, environment: dict[str, str], *, vllm: bool) -> argparse.Namespace:
    arguments = entrypoint_arguments(loop, prefix, environment)
    namespace, extras = server_parser(flags, positional_model_tag=vllm).parse_known_args(arguments)
    if extras:
        raise ServerRefused(f"unrecognized arguments: {' '.join(extras)}")
    return namespace
