"""What a model's alarms and a shared endpoint's alarms both do: alarm on a metric for some minutes in a row, and
notify a topic of every state change (or record, for compliance checks, why nothing is notified)."""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from constructs import Construct

from tgi_sagemaker.compliance import acknowledge

HIPAA_ALARM_ACTION = "HIPAA.Security::HIPAA.Security-CloudWatchAlarmAction"
NO_TOPIC_REASON = (
    "Notifications are opt-in (a topic or email addresses); without them the alarm still records its state in "
    "CloudWatch, where consoles, dashboards and an update's rollback configuration can read it."
)


def sustained_alarm(
    scope: Construct,
    name: str,
    description: str,
    metric: cloudwatch.IMetric,
    threshold: float,
    *,
    periods: int,
    comparison: cloudwatch.ComparisonOperator,
) -> cloudwatch.Alarm:
    """An alarm when ``metric`` breaches ``threshold`` in each of ``periods`` periods in a row. Missing data is
    never breaching: an endpoint scaled to zero sends none and is healthy."""
    return cloudwatch.Alarm(
        scope,
        name,
        alarm_description=description,
        metric=metric,
        threshold=threshold,
        evaluation_periods=periods,
        datapoints_to_alarm=periods,
        comparison_operator=comparison,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
    )


def notify(scope: Construct, alarms: Sequence[cloudwatch.Alarm], topic: sns.ITopic | None) -> None:
    """Send ``alarms``' ALARM and OK to ``topic``, adding to its policy the statement that lets CloudWatch publish
    for exactly these alarms; without a topic, record why the alarms have no action."""
    if topic is None:
        for alarm in alarms:
            acknowledge(alarm, {HIPAA_ALARM_ACTION: NO_TOPIC_REASON})
        return
    action = cloudwatch_actions.SnsAction(topic)
    for alarm in alarms:
        alarm.add_alarm_action(action)
        alarm.add_ok_action(action)
    topic.add_to_resource_policy(
        iam.PolicyStatement(
            principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
            actions=["sns:Publish"],
            resources=[topic.topic_arn],
            conditions={
                "StringEquals": {"aws:SourceAccount": cdk.Stack.of(scope).account},
                "ArnLike": {"aws:SourceArn": [alarm.alarm_arn for alarm in alarms]},
            },
        )
    )
