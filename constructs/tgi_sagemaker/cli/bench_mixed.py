"""``bench --mixed``: every target of one endpoint (its inference components, say) driven at the same time.

At each level every target runs at once, each at the level's load (its concurrency, or its request rate), all
counted from one start so their recorded send times (``started_s``) lie on one clock. Each target's run is
recorded as in a sequential bench; the level adds a combined run over all of them (``combined``): the endpoint's
total rates and its latency across every model's requests, what a shared fleet serves at that mixed load.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence

from tgi_sagemaker.catalog.instance_types import INSTANCE_TYPES
from tgi_sagemaker.cli.bench import LevelRun, RequestRecord, run_level, run_rate
from tgi_sagemaker.cli.bench_workload import PromptCalibration, Workload
from tgi_sagemaker.cli.client.transports import Transport
from tgi_sagemaker.cli.cost import ServingShare, TargetPrice
from tgi_sagemaker.cli.pricing import HourlyPrice

JOIN_POLL_S = 0.1  # the main thread waits in steps this long, so Ctrl-C reaches it while the targets run


def run_at(
    transport: Transport,
    workload: Workload,
    level: int | float,
    *,
    on_record: Callable[[RequestRecord], None],
    stop: threading.Event,
    calibration: PromptCalibration,
    started_at: float | None = None,
) -> LevelRun:
    """One target at one level: closed loop for an ``int`` (requests in flight), open loop for a ``float``
    (requests/s). ``started_at``: the clock its send times count from. Default: the level's own start."""
    if isinstance(level, int):
        return run_level(
            transport, workload, level, on_record=on_record, stop=stop, calibration=calibration, started_at=started_at
        )
    return run_rate(
        transport, workload, level, on_record=on_record, stop=stop, calibration=calibration, started_at=started_at
    )


def run_mixed_level(
    targets: Sequence[Transport],
    workload: Workload,
    level: int | float,
    *,
    calibrations: Mapping[str, PromptCalibration],
    on_record_for: Callable[[str], Callable[[RequestRecord], None]],
    stop: threading.Event,
) -> list[LevelRun]:
    """Each target's run at ``level`` (closed loop for an ``int``, open loop for a ``float``), all at once, then
    their combined run. Ctrl-C sets ``stop``: each target keeps what finished, as a sequential level does."""
    runs: dict[str, LevelRun] = {}
    started_at = time.perf_counter()

    def drive(transport: Transport) -> None:
        runs[transport.target] = run_at(
            transport,
            workload,
            level,
            on_record=on_record_for(transport.target),
            stop=stop,
            calibration=calibrations[transport.target],
            started_at=started_at,
        )

    drivers = [threading.Thread(target=drive, args=(transport,), daemon=True) for transport in targets]
    for driver in drivers:
        driver.start()
    try:
        for driver in drivers:
            while driver.is_alive():
                driver.join(JOIN_POLL_S)
    except KeyboardInterrupt:  # each target's collector sees stop and ends its level with what finished
        stop.set()
        for driver in drivers:
            driver.join()
    ordered = [runs[transport.target] for transport in targets if transport.target in runs]
    return [*ordered, combined_run(ordered)] if len(ordered) > 1 else ordered


def combined_run(runs: Sequence[LevelRun]) -> LevelRun:
    """The targets of one mixed level as one: every request, the loads added up (requests in flight, requests
    per second), the wall time of the longest (they started together), so its rates are the endpoint's."""
    caps = [run.max_concurrency for run in runs]
    rates = [run.request_rate for run in runs]
    return LevelRun(
        target="mixed: " + " + ".join(run.target for run in runs),
        concurrency=sum(run.concurrency for run in runs),
        planned=sum(run.planned for run in runs),
        records=sorted((record for run in runs for record in run.records), key=lambda record: record.started_s),
        wall_s=max(run.wall_s for run in runs),
        interrupted=any(run.interrupted for run in runs),
        request_rate=None if None in rates else sum(rate for rate in rates if rate is not None),
        max_concurrency=None if None in caps else sum(cap for cap in caps if cap is not None),
        combined=True,
        parts=tuple(run.target for run in runs),
    )


def price_of(run: LevelRun, prices: Mapping[str, TargetPrice]) -> TargetPrice | None:
    """What serving a run costs: its target's price; for a combined run, the GPUs its targets hold added up (the
    share of one endpoint's instances its models occupy together). None when no target was priced."""
    if not run.combined:
        return prices.get(run.target)
    parts = {target: prices.get(target) for target in run.parts}
    if all(price is None for price in parts.values()):
        return None
    shares: dict[str, tuple[ServingShare, HourlyPrice]] = {}
    missing = []
    for target, price in parts.items():
        if price is None or price.share is None or price.price is None:
            missing.append(f"{target}: {price.missing if price and price.missing else 'no --instance'}")
        else:
            shares[target] = (price.share, price.price)
    if missing:
        return TargetPrice(None, None, "not every target has a cost (" + "; ".join(missing) + ")")
    if len({(share.instance_type, hourly.usd_per_hour) for share, hourly in shares.values()}) > 1:
        listed = ", ".join(f"{target} on {share.instance_type}" for target, (share, _) in shares.items())
        return TargetPrice(None, None, f"the targets run on different instances or prices ({listed}): no one figure")
    share, hourly = next(iter(shares.values()))
    known = INSTANCE_TYPES.get(share.instance_type)
    if known is None:
        return TargetPrice(None, None, f"{share.instance_type} is not in the catalog: its GPUs cannot be added up")
    gpus = sum(part.accelerators or known.gpu_count for part, _ in shares.values())
    return TargetPrice(ServingShare(share.instance_type, gpus, found_by="the targets' GPUs added up"), hourly)
