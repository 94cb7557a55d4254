"""``plan``'s cost lines: each deployment's hourly cost at its minimum and maximum capacity, and a month for a
traffic profile, always on vs scaled to zero (wake-ups and the idle time before zero included). Instances are
what SageMaker bills; copies of an inference component share them, so a deployment costs its instances."""

from __future__ import annotations

from tgi_sagemaker.cli.cost import MonthlyCost, TrafficProfile, monthly_cost
from tgi_sagemaker.cli.pricing import PriceBook
from tgi_sagemaker.config.pipeline import ResolvedPipeline
from tgi_sagemaker.config.resolve import ResolvedApp, ResolvedDeployment


def describe_costs(app: ResolvedApp, prices: PriceBook, profile: TrafficProfile, *, region: str | None) -> str:
    """``region``: where to price a region-agnostic config. Default (None): the config's own region only."""
    where = app.spec.environment.region or region
    lines = [f"cost: on-demand, {where or 'no region (pass --region to look prices up)'}; {_profile_text(profile)}"]
    for deployment in app.deployments:
        lines += deployment_cost_lines(deployment, prices, profile, where)
    lines += [f"note: {note}" for note in prices.notes]
    return "\n".join(lines)


def describe_pipeline_costs(pipeline: ResolvedPipeline, prices: PriceBook, profile: TrafficProfile) -> str:
    """Every stage's cost lines, each priced in the stage's own region (a pipeline's stages always name one)."""
    lines = [f"cost: on-demand, each stage in its region; {_profile_text(profile)}"]
    for number, stage in enumerate(pipeline.stages, start=1):
        lines.append(f"stage {number}: {stage.name} in {stage.region}")
        for deployment in stage.app.deployments:
            lines += ["  " + line for line in deployment_cost_lines(deployment, prices, profile, stage.region)]
    lines += [f"note: {note}" for note in prices.notes]
    return "\n".join(lines)


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


def _month_text(month: MonthlyCost, *, configured: str) -> str:
    always_on = "always on" + (" (configured)" if configured == "instances" else "")
    to_zero = "scale to zero" + (" (configured)" if configured == "scale_to_zero" else "")
    return (
        f"{always_on} ${month.always_on_usd:,.2f}; {to_zero} ${month.scale_to_zero_usd:,.2f} "
        f"(of which waking up ${month.wake_up_usd:,.2f}, idle before zero ${month.idle_tail_usd:,.2f})"
    )
