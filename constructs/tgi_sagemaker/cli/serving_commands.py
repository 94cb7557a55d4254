"""Argument parsing and wiring for ``tgi-sagemaker invoke`` and ``tgi-sagemaker bench``."""

from __future__ import annotations

import argparse
import re
import shlex
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tgi_sagemaker.cli.client.payloads import APIS, Sampling
from tgi_sagemaker.cli.client.transports import SageMakerTransport, TgiUrlTransport, Transport, sagemaker_runtime_client
from tgi_sagemaker.cli.cost import TargetPrice, add_price_arguments
from tgi_sagemaker.cli.option_checks import prepare_out_folder, remove_unused

if TYPE_CHECKING:  # imported where used: the constructs alone need none of bench's modules
    from tgi_sagemaker.cli.bench_metrics import Objectives
    from tgi_sagemaker.cli.bench_workload import Workload

SAGEMAKER_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
DEFAULT_BENCH_FOLDER = "bench-results"  # bench --out's parent when none is given (in .gitignore)


def add_target_arguments(parser: argparse.ArgumentParser, *, several: bool) -> None:
    action = "append" if several else "store"
    group = parser.add_argument_group("target (one of)" if not several else "targets (one or more, compared)")
    group.add_argument(
        "--endpoint",
        action=action,
        metavar="[LABEL=]NAME[:COMPONENT]",
        help="SageMaker endpoint, with its inference component for scale-to-zero deployments "
        "(stack output InvokeTarget); LABEL names it in results and plots, e.g. g6e.xlarge=NAME:COMPONENT",
    )
    group.add_argument(
        "--url", action=action, metavar="[LABEL=]URL", help="a TGI server's base URL, e.g. http://host:8080"
    )
    parser.add_argument("--region", help="AWS region of the endpoint. Default: your AWS configuration")
    parser.add_argument("--endpoint-url", help="SageMaker runtime URL override (VPC interface endpoint, tests)")
    parser.add_argument(
        "--api",
        choices=APIS,
        default="messages",
        help="request and stream format: messages (OpenAI chat), generate (TGI's own), completions (OpenAI, a raw "
        "prompt: vLLM). Default: messages",
    )
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds a stream may stall. Default: 300")
    parser.add_argument(
        "--wake-up-timeout", type=float, default=900.0, help="seconds to wait for a scaled-to-zero copy. Default: 900"
    )
    parser.add_argument("--wake-up-interval", type=float, default=15.0, help="seconds between wake-up retries")


def add_invoke_arguments(parser: argparse.ArgumentParser) -> None:
    add_target_arguments(parser, several=False)
    parser.add_argument("prompt", help="the user message ('-' reads it from stdin)")
    parser.add_argument("--system", help="a system message")
    parser.add_argument("--max-tokens", type=int, default=2048, help="most tokens to generate. Default: 2048")
    parser.add_argument("--temperature", type=float, default=0.6, help="Default: 0.6 (DeepSeek's advice for R1)")
    parser.add_argument("--seed", type=int, help="sampling seed")
    reasoning = parser.add_mutually_exclusive_group()
    reasoning.add_argument("--hide-reasoning", action="store_true", help="print the answer only, not <think>")
    reasoning.add_argument("--no-reasoning", action="store_true", help="not a reasoning model: no <think> split")


def add_bench_arguments(parser: argparse.ArgumentParser) -> None:
    add_target_arguments(parser, several=True)
    parser.add_argument(
        "--concurrency",
        help="closed loop: requests kept in flight, levels to sweep, comma-separated. Default: 1 (none when "
        "--request-rate is given alone)",
    )
    parser.add_argument(
        "--request-rate",
        metavar="RATES",
        help="open loop: requests a second arriving whatever is in flight, levels comma-separated, e.g. 0.5,1,2. "
        "Default: none",
    )
    parser.add_argument(
        "--mixed",
        action="store_true",
        help="drive every target at the same time at each level (e.g. the inference components of one shared "
        "endpoint: --endpoint ep:model-a --endpoint ep:model-b), each at the level's load, and report their "
        "combined figures too. Default: one target after another, compared",
    )
    parser.add_argument(
        "--burstiness",
        type=float,
        default=1.0,
        help="open-loop arrivals: 1 is Poisson, under 1 burstier, over 1 more even (gamma shape). Default: 1",
    )
    parser.add_argument(
        "--max-concurrency",
        type=int,
        help="open loop: most requests in flight; an arrival beyond it waits for one to finish, and its wait is "
        "recorded (vLLM's benchmark_serving --max-concurrency). Default: no cap",
    )
    parser.add_argument("--requests", type=int, default=20, help="measured requests per level. Default: 20")
    parser.add_argument("--warmup", type=int, default=1, help="unmeasured requests per target first. Default: 1")
    parser.add_argument("--input-tokens", type=int, default=512, help="prompt length target. Default: 512")
    parser.add_argument("--input-spread", type=int, default=0, help="standard deviation of it. Default: 0")
    parser.add_argument("--output-tokens", type=int, default=256, help="max_tokens target. Default: 256")
    parser.add_argument("--output-spread", type=int, default=32, help="standard deviation of it. Default: 32")
    parser.add_argument("--temperature", type=float, default=0.6, help="Default: 0.6")
    parser.add_argument("--seed", type=int, default=0, help="prompts, lengths and sampling seed. Default: 0")
    parser.add_argument("--out", type=Path, help=f"results folder. Default: {DEFAULT_BENCH_FOLDER}/<UTC time>")
    parser.add_argument(
        "--percentiles", help="percentiles to report, comma-separated, e.g. 50,90,95,99. Default: 50,90,99"
    )
    parser.add_argument(
        "--slo",
        action="append",
        metavar="METRIC=SECONDS",
        help="a service-level objective for goodput, repeatable: ttft, tpot, itl or e2e in seconds, "
        "e.g. --slo ttft=0.5 --slo tpot=0.05 --slo e2e=10. Default: none (no goodput)",
    )
    parser.add_argument(
        "--instance",
        action="append",
        metavar="TARGET=INSTANCE[:GPUS]",
        help="what a target runs on, for its cost: the instance type, and an inference component's GPUs "
        "(its share of the instance), e.g. --instance g6e=ml.g6e.12xlarge:1. Default: no cost figures",
    )
    add_price_arguments(parser)


def transports(args: argparse.Namespace) -> list[Transport]:
    endpoints = _as_list(args.endpoint)
    urls = _as_list(args.url)
    if not endpoints and not urls:
        raise ValueError("no target: pass --endpoint NAME[:COMPONENT] or --url URL")
    found: list[Transport] = []
    for value in urls:
        label, url = _labelled(value)
        found.append(TgiUrlTransport(url, timeout_s=args.timeout, label=label))
    if endpoints:
        client = sagemaker_runtime_client(
            region=args.region, endpoint_url=args.endpoint_url, read_timeout_s=args.timeout
        )
        for value in endpoints:
            label, target = _labelled(value)
            name, _, component = target.partition(":")
            for kind, text in (("endpoint", name), ("inference component", component)):
                if text and not SAGEMAKER_NAME.match(text):
                    raise ValueError(
                        f"--endpoint = {value!r}: {kind} {text!r} is not a SageMaker name. "
                        "Fix: use the stack outputs, NAME or NAME:COMPONENT"
                    )
            found.append(SageMakerTransport(client, name, inference_component=component or None, label=label))
    labels = [transport.target for transport in found]
    if len(set(labels)) < len(labels):
        raise ValueError(f"targets {labels}: two are named alike. Fix: give each its own LABEL= prefix")
    return found


def _labelled(value: str) -> tuple[str | None, str]:
    """``g6e.xlarge=my-endpoint:component`` -> (``g6e.xlarge``, ``my-endpoint:component``); no label otherwise."""
    label, sep, rest = value.partition("=")
    if sep and label and not any(mark in label for mark in ":/?"):
        return label, rest
    return None, value


def run_invoke(args: argparse.Namespace) -> int:
    from tgi_sagemaker.cli.consoles import console
    from tgi_sagemaker.cli.invoke import InvokeOptions, invoke

    err = console(stderr=True)
    try:
        if args.endpoint and args.url:
            raise ValueError("--endpoint and --url both given: invoke calls one target. Fix: keep one")
        (transport,) = transports(args)
    except ValueError as error:
        err.print(str(error), style="red", highlight=False, markup=False)
        return 2
    prompt = sys.stdin.read() if args.prompt == "-" else args.prompt
    options = InvokeOptions(
        prompt=prompt,
        api=args.api,
        sampling=Sampling(max_new_tokens=args.max_tokens, temperature=args.temperature, seed=args.seed),
        system=args.system,
        split_reasoning=not args.no_reasoning,
        show_reasoning=not args.hide_reasoning,
        wake_up_timeout_s=args.wake_up_timeout,
        wake_up_interval_s=args.wake_up_interval,
    )
    return invoke(transport, options, out=console(), err=err)


def run_bench(args: argparse.Namespace) -> int:
    from tgi_sagemaker.cli.bench_runner import run_bench_session
    from tgi_sagemaker.cli.consoles import console

    err = console(stderr=True)
    try:
        targets = transports(args)
        workload, objectives = _workload_and_objectives(args)
        if args.mixed and len(targets) < 2:
            raise ValueError("--mixed with one target: nothing to mix. Fix: name two or more, or drop --mixed")
        notes: list[str] = []
        prices = target_prices(args, targets, notes=notes)
        folder = args.out or Path(DEFAULT_BENCH_FOLDER) / datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        # before any request: the results of a run that cannot write them would be lost
        created = prepare_out_folder(folder, example=f"{DEFAULT_BENCH_FOLDER}/run1")
    except ValueError as error:
        err.print(str(error), style="red", highlight=False, markup=False)
        return 2
    for note in notes:  # before the run: a typo is cheaper to fix now than after it
        err.print(note, style="yellow", highlight=False, markup=False)
    command = shlex.join(["tgi-sagemaker", *sys.argv[1:]])
    try:
        return run_bench_session(
            targets,
            workload,
            folder=folder,
            command=command,
            wake_up_timeout_s=args.wake_up_timeout,
            wake_up_interval_s=args.wake_up_interval,
            console=err,
            stop=threading.Event(),
            objectives=objectives,
            prices=prices,
            mixed=args.mixed,
        )
    finally:
        remove_unused(created)  # only the folders made above that are still empty: nothing was measured


def _workload_and_objectives(args: argparse.Namespace) -> tuple[Workload, Objectives]:
    """What bench sends and how it summarizes it; raises ``ValueError`` with the problems of both at once."""
    from tgi_sagemaker.cli.bench import rates_from_text
    from tgi_sagemaker.cli.bench_metrics import objectives_from_text
    from tgi_sagemaker.cli.bench_workload import Workload

    problems: list[str] = []
    workload = objectives = None
    try:
        workload = Workload(
            api=args.api,
            requests=args.requests,
            concurrency_levels=_concurrency_levels(args),
            request_rates=rates_from_text(args.request_rate) if args.request_rate else (),
            burstiness=args.burstiness,
            max_concurrency=args.max_concurrency,
            input_tokens=args.input_tokens,
            input_spread=args.input_spread,
            output_tokens=args.output_tokens,
            output_spread=args.output_spread,
            warmup=args.warmup,
            seed=args.seed,
            temperature=args.temperature,
        )
    except ValueError as invalid:
        problems += str(invalid).splitlines()
    try:
        objectives = objectives_from_text(args.percentiles, args.slo)
    except ValueError as invalid:
        problems += str(invalid).splitlines()
    if workload is None or objectives is None:
        raise ValueError("\n".join(problems))
    return workload, objectives


def target_prices(
    args: argparse.Namespace, targets: list[Transport], *, notes: list[str] | None = None
) -> dict[str, TargetPrice]:
    """Each target's share and price (``--price``, the Price List API, the snapshot). A SageMaker target's
    instance (and an inference component's GPUs) is asked of SageMaker unless ``--instance`` names it; a URL
    target has a cost only with ``--instance``. A target SageMaker says nothing about is measured all the same:
    its cost line says why there is no cost, and what to pass. ``notes``: where to add what the options do not
    do (an instance type not in the catalog, a --price nothing uses). Default: not collected."""
    from tgi_sagemaker.cli.cost import ServingShare, shares_from_text, unlisted_instance_notes
    from tgi_sagemaker.cli.pricing import PriceBook, price_list_client, prices_from_text
    from tgi_sagemaker.cli.target_discovery import NotDiscovered, discover_share

    given = shares_from_text(args.instance, [t.target for t in targets])
    shares: dict[str, ServingShare | None] = {**given}
    overrides = prices_from_text(args.price)
    notes = [] if notes is None else notes
    notes += unlisted_instance_notes(given, overrides)
    not_found: dict[str, str] = {}
    to_discover = [t for t in targets if isinstance(t, SageMakerTransport) and t.target not in shares]
    if to_discover and args.endpoint_url:  # the runtime is elsewhere (an emulator, a private URL): not AWS's API
        for transport in to_discover:
            shares[transport.target] = None
            not_found[transport.target] = (
                f"{transport.target}: instance not asked of SageMaker, as --endpoint-url sends requests elsewhere. "
                f"Fix: pass --instance {transport.target}=INSTANCE[:GPUS]"
            )
    elif to_discover:
        client = sagemaker_client(region=args.region)
        for transport in to_discover:
            try:
                shares[transport.target] = discover_share(
                    client, transport.target, transport.endpoint_name, transport.inference_component
                )
            except NotDiscovered as error:
                shares[transport.target], not_found[transport.target] = None, str(error)
    if not shares:
        notes += [f"note: --price {name} prices nothing: no target has an instance type" for name in overrides]
        return {}
    unpriced = any(share and share.instance_type not in overrides for share in shares.values())
    book = PriceBook(overrides=overrides, client=price_list_client() if unpriced else None)
    region = args.region or _configured_region()
    found = {}
    for target, share in shares.items():
        if share is None:
            found[target] = TargetPrice(None, None, not_found[target])
            continue
        price = book.price(share.instance_type, region)
        found[target] = TargetPrice(share, price, None if price else book.missing(share.instance_type, region))
    notes += book.unused_override_notes(users="target")
    return found


def sagemaker_client(*, region: str | None) -> Any:
    """The SageMaker API client the instance discovery asks (a seam: tests put a stubbed client here)."""
    import boto3
    from botocore.config import Config

    config = Config(retries={"mode": "standard", "max_attempts": 2}, connect_timeout=10, read_timeout=30)
    return boto3.client("sagemaker", region_name=region, config=config)


def _configured_region() -> str | None:
    import boto3

    region: str | None = boto3.Session().region_name
    return region


def _concurrency_levels(args: argparse.Namespace) -> tuple[int, ...]:
    from tgi_sagemaker.cli.bench import levels_from_text

    if args.concurrency is not None:
        return levels_from_text(args.concurrency)
    return () if args.request_rate else (1,)


def _as_list(value: str | list[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else value
