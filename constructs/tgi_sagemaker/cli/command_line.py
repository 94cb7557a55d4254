"""``tgi-sagemaker``: the library's command line."""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from dataclasses import asdict
from pathlib import Path

from tgi_sagemaker import defaults
from tgi_sagemaker.catalog.instance_types import INSTANCE_TYPES
from tgi_sagemaker.cli import serving_commands as inference
from tgi_sagemaker.cli.consoles import INTERRUPTED
from tgi_sagemaker.cli.cost import add_price_arguments, add_profile_arguments, profile_from_args
from tgi_sagemaker.cli.option_checks import numeric_problems, prepare_out_folder
from tgi_sagemaker.cli.pricing import PriceBook
from tgi_sagemaker.config.errors import ConfigError
from tgi_sagemaker.config.source import CONTEXT_KEY, read_cdk_json_context, read_config

DEFAULT_REPORT_FOLDER = "bench-report"  # in .gitignore, as bench's results folder is
# What the cli extra installs (constructs/pyproject.toml), with the modules boto3 brings: a missing one is the fix
CLI_EXTRA_MODULES = frozenset({"boto3", "botocore", "urllib3", "rich", "matplotlib"})


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    problems = numeric_problems(args.command, args)
    if problems:  # before any work: a bad number would otherwise surface as a traceback from deep below
        print("\n".join(problems), file=sys.stderr)
        return 2
    try:
        return _run(args)
    except ImportError as missing:  # the constructs alone need neither boto3, rich nor matplotlib
        if (missing.name or "").partition(".")[0] not in CLI_EXTRA_MODULES:
            raise  # a broken install of something else: the extra would not help, the traceback does
        print(f"{args.command} needs the cli extra ({missing}). Fix: pip install 'tgi-sagemaker[cli]'", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    if args.command in ("invoke", "bench"):
        try:
            return inference.run_invoke(args) if args.command == "invoke" else inference.run_bench(args)
        except KeyboardInterrupt:  # before a request was sent (reading the prompt, making the client)
            print("stopped by Ctrl-C", file=sys.stderr)
            return INTERRUPTED
    if args.command == "plan":
        return _plan(args.config, Path(args.cdk_json), args.pipeline, args)
    if args.command == "report":
        return _report(args)
    if args.command == "check-findings":
        return _check_findings(Path(args.assembly))
    return _catalog(as_json=args.json)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tgi-sagemaker", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    plan = commands.add_parser("plan", help="what a config deploys")
    plan.add_argument("--config", help="YAML/JSON config file. Default: the cdk.json context")
    plan.add_argument("--cdk-json", default="cdk.json", help="cdk.json to read the default config from")
    plan.add_argument("--pipeline", help="a pipeline file: the plan of every stage, in order")
    plan.add_argument("--region", help="region to price a region-agnostic config in. Default: the config's region")
    add_price_arguments(plan)
    add_profile_arguments(plan)
    catalog = commands.add_parser("catalog", help="models and the instance types they fit")
    catalog.add_argument("--json", action="store_true", help="machine-readable output")
    check = commands.add_parser("check-findings", help="fail on cdk-nag findings left in a cloud assembly")
    check.add_argument("assembly", nargs="?", default="cdk.out", help="the synth output folder")
    inference.add_invoke_arguments(commands.add_parser("invoke", help="stream one answer, reasoning apart"))
    inference.add_bench_arguments(commands.add_parser("bench", help="latency and throughput per concurrency level"))
    report = commands.add_parser("report", help="bench results side by side: the cheapest target meeting SLOs")
    report.add_argument("folders", nargs="+", type=Path, help="bench result folders (bench --out)")
    report.add_argument(
        "--slo", action="append", metavar="METRIC=SECONDS", help="ttft, tpot, itl or e2e bound, repeatable"
    )
    report.add_argument(
        "--slo-percentile",
        type=float,
        default=defaults.REPORT_SLO_PERCENTILE,
        help=f"percentile the SLOs hold at. Default: {defaults.REPORT_SLO_PERCENTILE:g}",
    )
    report.add_argument(
        "--max-error-rate",
        type=float,
        default=defaults.REPORT_MAX_ERROR_RATE,
        help=f"share of failed requests a level may have. Default: {defaults.REPORT_MAX_ERROR_RATE:g}",
    )
    report.add_argument(
        "--out", type=Path, default=Path(DEFAULT_REPORT_FOLDER), help=f"Default: {DEFAULT_REPORT_FOLDER}"
    )
    return parser


def _report(args: argparse.Namespace) -> int:
    from tgi_sagemaker.cli.bench_metrics import objectives_from_text
    from tgi_sagemaker.cli.report import judge, load_levels, report_lines, write_report

    try:
        objectives = objectives_from_text(f"{args.slo_percentile:g}", args.slo)  # in range: numeric_problems
        levels, workloads = load_levels(_each_once(args.folders))
        prepare_out_folder(args.out, example=DEFAULT_REPORT_FOLDER)
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2
    at = args.slo_percentile
    verdicts = [judge(level, objectives, at=at, max_error_rate=args.max_error_rate) for level in levels]
    lines = report_lines(verdicts, objectives, at=at)
    if len(workloads) > 1:  # different workloads make a comparison of instances a comparison of workloads
        lines += ["", "the folders ran different workloads (compare like with like):"]
        lines += [f"  {command}" for command in workloads.values()]
    print("\n".join(lines))
    try:
        written = write_report(args.out, verdicts, lines, at=at)
    except OSError as error:  # checked above, yet the disk filled or the folder went: the report is printed above
        print(f"report: could not write in {args.out} ({error}). Fix: run it again with another --out", file=sys.stderr)
        return 1
    print(f"report: {args.out}/ ({', '.join(path.name for path in written)})")
    return 0


def _each_once(folders: list[Path]) -> list[Path]:
    """The folders, a folder given twice (by any path) read once, said: twice would list each level twice."""
    unique: dict[Path, Path] = {}
    for folder in folders:
        if folder.resolve() in unique:
            print(f"note: {folder} given twice (as {unique[folder.resolve()]}): read once", file=sys.stderr)
            continue
        unique[folder.resolve()] = folder
    return list(unique.values())


def _check_findings(assembly: Path) -> int:
    from tgi_sagemaker.compliance import advisory_notes, unacknowledged_findings  # aws_cdk: only where needed

    report = assembly / "validation-report.json"
    if not report.is_file():  # a wrong path, or an app without its compliance checks, must not pass a CI gate
        what = "does not exist" if not assembly.exists() else "is not a folder" if not assembly.is_dir() else "has no"
        found = f"{assembly} {what}" + (" validation-report.json" if what == "has no" else "")
        print(
            f"check-findings: {found}: is it a synth output folder? Fix: pass the folder npx cdk synth wrote "
            "(cdk.out, or --output), from an app that adds the compliance checks (add_compliance_checks)",
            file=sys.stderr,
        )
        return 2
    for note in advisory_notes(report):
        print(f"note (advice, not a failure): {note}", file=sys.stderr)
    findings = unacknowledged_findings(report)
    for finding in findings:
        print(finding, file=sys.stderr)
    return 1 if findings else 0


def _plan(config: str | None, cdk_json: Path, pipeline: str | None, args: argparse.Namespace) -> int:
    from tgi_sagemaker.cli.plan import describe_app, describe_pipeline
    from tgi_sagemaker.cli.plan_cost import describe_costs, describe_pipeline_costs
    from tgi_sagemaker.config.pipeline import load_pipeline
    from tgi_sagemaker.config.resolve import load_app
    from tgi_sagemaker.config.source import read_config_file

    try:
        profile, prices = profile_from_args(args), _price_book(args)  # bad options: said before any work
        if pipeline and args.region:
            raise ValueError(
                "--region and --pipeline both given: each stage is priced in its own region. Fix: drop --region"
            )
        if pipeline:
            resolved = load_pipeline(read_config_file(Path(pipeline)), pipeline, Path.cwd())
            print(describe_pipeline(resolved))
            print(describe_pipeline_costs(resolved, prices, profile))
            _print_notes(prices.unused_override_notes(users="deployment"))
            return 0
        _check_region(args.region)
        context = None if config else read_cdk_json_context(cdk_json)
        raw, source = read_config(config, context)
        app = load_app(raw, source)
        pinned = app.spec.environment.region
        if args.region and pinned and args.region != pinned:  # README: --region prices a region-agnostic config
            raise ValueError(
                f"--region {args.region}: {source} deploys to {pinned} (environment.region) and is priced there. "
                "Fix: drop --region, or change environment.region in the config"
            )
        print(describe_app(app))
        print(describe_costs(app, prices, profile, region=args.region))
        _print_notes(prices.unused_override_notes(users="deployment"))
    except ValueError as error:  # ConfigError is one: every problem, each with its fix
        print(error, file=sys.stderr)
        return 1 if isinstance(error, ConfigError) else 2
    except FileNotFoundError:
        print(
            f"{cdk_json} not found: run in the project folder or pass --config (context key '{CONTEXT_KEY}')",
            file=sys.stderr,
        )
        return 1
    return 0


def _check_region(region: str | None) -> None:
    """A region the TGI image is published in (the regions a config may name), else the closest names."""
    from tgi_sagemaker.runtimes.tgi.image import supported_regions

    known = supported_regions()
    if region is None or region in known:
        return
    close = difflib.get_close_matches(region.lower(), known, n=2)
    meant = f"; did you mean {' or '.join(close)}?" if close else "."
    raise ValueError(
        f"--region {region}: not a region SageMaker publishes the TGI image in{meant} Fix: e.g. --region us-east-1"
    )


def _print_notes(notes: list[str]) -> None:
    for note in notes:
        print(note, file=sys.stderr)


def _price_book(args: argparse.Namespace) -> PriceBook:
    from tgi_sagemaker.cli.pricing import price_list_client, prices_from_text

    overrides = prices_from_text(args.price)
    try:
        client = price_list_client()
    except ImportError:  # boto3 is the cli extra: without it, --price and the snapshot
        client = None
    return PriceBook(overrides=overrides, client=client)


def _catalog(*, as_json: bool) -> int:
    from tgi_sagemaker.cli.plan import catalog_entries

    try:
        entries = catalog_entries()
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 1
    if as_json:
        print(
            json.dumps({"models": entries, "instance_types": [asdict(it) for it in INSTANCE_TYPES.values()]}, indent=1)
        )
        return 0
    from rich.table import Table

    from tgi_sagemaker.cli.consoles import console
    from tgi_sagemaker.config.spec import RUNTIMES

    table = Table(title="Catalog: defaults on the recommended instance (override any in the config)")
    kv_column = "KV cache " + "/".join(RUNTIMES)
    for column in ("model", "size", "weights", "instance", "GPUs", "input/total/prefill", kv_column, "fits"):
        table.add_column(column, overflow="fold")
    for entry in entries:
        defaults = entry["defaults"]
        limits = "{max_input_tokens}/{max_total_tokens}/{max_batch_prefill_tokens}".format(**defaults)
        kv = "/".join(f"{tokens:,}" if tokens else "?" for tokens in defaults["kv_cache_tokens_by_runtime"].values())
        table.add_row(
            entry["repo_id"].removeprefix("deepseek-ai/"),
            f"{entry['parameters_billion']:g}B {entry['native_dtype']}",
            f"~{entry['weights_gb']:g} GB",
            defaults["instance_type"],
            str(defaults["num_gpus"]),
            limits,
            f"~{kv} tokens" if defaults["kv_cache_token_capacity"] else "not estimated",
            _compact_fits(entry["fits"]),
        )
    console().print(table)
    return 0


def _compact_fits(fits: dict[str, int]) -> str:
    """``g5: all, g6e: 12xlarge 24xlarge 48xlarge, p5`` instead of up to 29 full names."""
    sizes: dict[str, list[str]] = {}
    for name in INSTANCE_TYPES:
        family, size = name.removeprefix("ml.").split(".", 1)
        sizes.setdefault(family, []).append(size)
    parts = []
    for family, all_sizes in sizes.items():
        fitting = [size for size in all_sizes if f"ml.{family}.{size}" in fits]
        if fitting:
            whole = len(all_sizes) == 1 or fitting == all_sizes
            parts.append(
                family if len(all_sizes) == 1 else f"{family}: all" if whole else f"{family}: {' '.join(fitting)}"
            )
    return ", ".join(parts) or "nothing"


if __name__ == "__main__":
    sys.exit(main())
