"""``plan``'s cost lines: each deployment's hourly cost at its minimum and maximum capacity, and a month for a
traffic profile, always on vs scaled to zero (wake-ups and the idle time before zero included). Instances are
what SageMaker bills; copies of an inference component share them, so a deployment costs its instances. A shared
endpoint is priced once, its hourly cost split among its models by the accelerators their copies hold."""

from __future__ import annotations

from tgi_sagemaker.cli.cost import MonthlyCost, TrafficProfile, monthly_cost
from tgi_sagemaker.cli.pricing import PriceBook
from tgi_sagemaker.config.pipeline import ResolvedPipeline
from tgi_sagemaker.config.resolve import ResolvedApp, ResolvedDeployment, ResolvedSharedEndpoint


def describe_costs(app: ResolvedApp, prices: PriceBook, profile: TrafficProfile, *, region: str | None) -> str:
    """``region``: where to price a region-agnostic config. Default (None): the config's own region only."""
    where = app.spec.environment.region or region
    lines = [f"cost: on-demand, {where or 'no region (pass --region to look prices up)'}; {_profile_text(profile)}"]
    lines += _app_cost_lines(app, prices, profile, where)
    lines += [f"note: {note}" for note in prices.notes]
    return "\n".join(lines)


def describe_pipeline_costs(pipeline: ResolvedPipeline, prices: PriceBook, profile: TrafficProfile) -> str:
    """Every stage's cost lines, each priced in the stage's own region (a pipeline's stages always name one)."""
    lines = [f"cost: on-demand, each stage in its region; {_profile_text(profile)}"]
    for number, stage in enumerate(pipeline.stages, start=1):
        lines.append(f"stage {number}: {stage.name} in {stage.region}")
        lines += ["  " + line for line in _app_cost_lines(stage.app, prices, profile, stage.region)]
    lines += [f"note: {note}" for note in prices.notes]
    return "\n".join(lines)


def _app_cost_lines(app: ResolvedApp, prices: PriceBook, profile: TrafficProfile, region: str | None) -> list[str]:
    """Each deployment with its own endpoint, then each shared endpoint once (its models' shares under it)."""
    lines: list[str] = []
    for deployment in app.own_endpoint_deployments:
        lines += deployment_cost_lines(deployment, prices, profile, region)
    for endpoint in app.endpoints:
        lines += shared_endpoint_cost_lines(endpoint, prices, profile, region)
    return lines


def _profile_text(profile: TrafficProfile) -> str:
    return (
        f"a month is {profile.busy_hours_per_day:g} busy hours a day, {profile.busy_days_per_week:g} days a week, "
        f"on {profile.busy_instances} instance(s)"
    )


def deployment_cost_lines(
    d: ResolvedDeployment, prices: PriceBook, profile: TrafficProfile, region: str | None
) -> list[str]:
    instance, plan = d.instance.name, d.scaling
    price = prices.price(instance, region)
    if price is None:
        return [f"- {d.stack_name}", f"    price      {prices.missing(instance, region)}"]
    per_hour = price.usd_per_hour
    month = monthly_cost(per_hour, profile)
    lines = [
        f"- {d.stack_name}",
        f"    price      {instance} {price.describe()}",
        f"    hourly     ${plan.min_instances * per_hour:,.2f}/h at the minimum ({plan.min_instances} instances), "
        f"${plan.max_instances * per_hour:,.2f}/h at the maximum ({plan.max_instances} instances)",
        "    a month    " + _month_text(month, configured=plan.mode),
    ]
    if profile.busy_instances > plan.max_instances:
        lines.append(
            f"    note       the profile's {profile.busy_instances} busy instances exceed this deployment's maximum "
            f"of {plan.max_instances}: raise scaling.max_instances or lower --busy-instances"
        )
    return lines


def shared_endpoint_cost_lines(
    endpoint: ResolvedSharedEndpoint, prices: PriceBook, profile: TrafficProfile, region: str | None
) -> list[str]:
    """The endpoint's instances priced once, then each model's share of the hourly cost at the minimum and at the
    maximum: its accelerators (GPUs per copy x copies) over those all the models' copies hold then. GPUs no copy
    holds are still billed; they are spread over the models by the same shares (the headroom line says how many)."""
    instance, spec = endpoint.instance.name, endpoint.spec
    price = prices.price(instance, region)
    if price is None:
        return [f"- {endpoint.stack_name}", f"    price      {prices.missing(instance, region)}"]
    per_hour = price.usd_per_hour
    low, high = spec.min_instances * per_hour, spec.max_instances * per_hour
    configured = "scale_to_zero" if spec.min_instances == 0 else "instances"
    lines = [
        f"- {endpoint.stack_name}: shared endpoint, {len(endpoint.deployments)} models",
        f"    price      {instance} {price.describe()}",
        f"    hourly     ${low:,.2f}/h at the minimum ({spec.min_instances} instances), "
        f"${high:,.2f}/h at the maximum ({spec.max_instances} instances)",
        "    a month    " + _month_text(monthly_cost(per_hour, profile), configured=configured),
    ]
    gpus_at_min = {d.name: d.num_gpus * d.scaling.min_copies for d in endpoint.deployments}
    gpus_at_max = {d.name: d.num_gpus * d.scaling.max_copies for d in endpoint.deployments}
    width = max(len(d.name) for d in endpoint.deployments)
    for d in endpoint.deployments:
        lines.append(
            f"    share      {d.name:<{width}}  {_share_text(d.name, gpus_at_min, low)} at the minimum, "
            f"{_share_text(d.name, gpus_at_max, high)} at the maximum"
        )
    for bound, gpus, instances in (
        ("minimum", gpus_at_min, spec.min_instances),
        ("maximum", gpus_at_max, spec.max_instances),
    ):
        idle = instances * endpoint.instance.gpu_count - sum(gpus.values())
        if idle > 0:
            lines.append(f"    headroom   {idle} GPU(s) no copy holds at the {bound}, billed and spread by the shares")
    if profile.busy_instances > spec.max_instances:
        lines.append(
            f"    note       the profile's {profile.busy_instances} busy instances exceed this endpoint's maximum "
            f"of {spec.max_instances}: raise endpoints[].max_instances or lower --busy-instances"
        )
    return lines


def _share_text(name: str, gpus: dict[str, int], hourly: float) -> str:
    """``$x/h (g of G GPUs)``: the model's part of ``hourly`` by the accelerators its copies hold."""
    total = sum(gpus.values())
    usd = hourly * gpus[name] / total if total else 0.0
    return f"${usd:,.2f}/h ({gpus[name]} of {total} GPUs)"


def _month_text(month: MonthlyCost, *, configured: str) -> str:
    always_on = "always on" + (" (configured)" if configured == "instances" else "")
    to_zero = "scale to zero" + (" (configured)" if configured == "scale_to_zero" else "")
    return (
        f"{always_on} ${month.always_on_usd:,.2f}; {to_zero} ${month.scale_to_zero_usd:,.2f} "
        f"(of which waking up ${month.wake_up_usd:,.2f}, idle before zero ${month.idle_tail_usd:,.2f})"
    )
