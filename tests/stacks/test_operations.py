"""Operations: dashboards show the resources actually deployed, alarms notify and roll updates back, logs expire,
costs are tagged. One synthesis of four deployments for the module."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from helpers import Synthesized, default_config, synthesize

TOPIC_ARN = "arn:aws:sns:us-east-1:111122223333:oncall"
TAGS = ("tgi-sagemaker:deployment", "tgi-sagemaker:model")


@pytest.fixture(scope="module")
def ops_app(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    config = default_config()
    base = config["deployments"][0]
    instances = {"mode": "instances", "min_instances": 1, "max_instances": 2}
    config["deployments"] = [
        {**base, "name": "component", "operations": {"alarm_emails": ["oncall@example.com"], "log_retention_days": 30}},
        {
            **base,
            "name": "rolling",
            "scaling": instances,
            "operations": {"alarm_topic_arn": TOPIC_ARN, "update_strategy": "rolling", "bake_minutes": 5},
        },
        {**base, "name": "blue-green", "scaling": instances, "weights": {"bucket_removal_policy": "destroy"}},
        {
            **base,
            "name": "quiet",
            "model": {**base["model"], "revision": "ebf7e8d03db3d86a442d22d30d499abb7ec27bea"},  # no synth warning
            "weights": {"source": "hub"},
            "operations": {"dashboard": False, "alarms": False, "auto_rollback": False},
        },
    ]
    return synthesize(config, Path(tmp_path_factory.mktemp("operations")))


def _raw(app: Synthesized, name: str) -> dict[str, Any]:
    return app.raw(f"TgiSageMaker-{name}")


def _of_type(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {key: value for key, value in template["Resources"].items() if value["Type"] == resource_type}


def _one(template: dict[str, Any], resource_type: str) -> tuple[str, dict[str, Any]]:
    ((key, value),) = _of_type(template, resource_type).items()
    return key, value["Properties"]


def _alarms(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Alarms by construct id (ErrorRate, ModelLatency, ...), read from the path metadata."""
    return {
        value["Metadata"]["aws:cdk:path"].split("/")[-2]: value["Properties"]
        for value in _of_type(template, "AWS::CloudWatch::Alarm").values()
    }


def _copy_state_machine(template: dict[str, Any]) -> str:
    """The weights copy's own state machine (the provider framework adds a waiter machine)."""
    (key,) = [
        key
        for key, value in _of_type(template, "AWS::StepFunctions::StateMachine").items()
        if value["Metadata"]["aws:cdk:path"].endswith("WeightsCopy/StateMachine/Resource")
    ]
    return key


def _dashboard(template: dict[str, Any]) -> dict[str, Any]:
    """The dashboard body with every token replaced by a readable placeholder, parsed."""
    _, properties = _one(template, "AWS::CloudWatch::Dashboard")
    parts = properties["DashboardBody"]["Fn::Join"][1]
    text = "".join(part if isinstance(part, str) else _placeholder(part) for part in parts)
    body: dict[str, Any] = json.loads(text)
    return body


def _placeholder(token: dict[str, Any]) -> str:
    if "Ref" in token:
        return f"<Ref:{token['Ref']}>"
    resource, attribute = token["Fn::GetAtt"]
    return f"<GetAtt:{resource}.{attribute}>"


def _widget_metrics(body: dict[str, Any]) -> dict[str, list[list[Any]]]:
    return {w["properties"]["title"]: w["properties"].get("metrics", []) for w in body["widgets"]}


def test_dashboard_metrics_name_the_component_and_endpoint_deployed(ops_app: Synthesized) -> None:
    template = _raw(ops_app, "component")
    _, component = _one(template, "AWS::SageMaker::InferenceComponent")
    _one(template, "AWS::SageMaker::Endpoint")  # exactly one endpoint
    metrics = _widget_metrics(_dashboard(template))
    name = component["InferenceComponentName"]
    requests = metrics["Requests and errors (count a minute)"]
    for metric_name in ("Invocations", "Invocation4XXErrors", "Invocation5XXErrors"):
        assert ["AWS/SageMaker", metric_name, "InferenceComponentName", name] in [m[:4] for m in requests]
    latency = [m for m in metrics["Model latency (s): a whole streamed answer"] if "ModelLatency" in m]
    assert sorted(m[-1]["stat"] for m in latency) == ["p50", "p90", "p99"]
    assert all(m[:4] == ["AWS/SageMaker", "ModelLatency", "InferenceComponentName", name] for m in latency)
    gpu = [m[:4] for m in metrics["GPU (%)"]]
    assert [
        "/aws/sagemaker/InferenceComponents",
        "GPUMemoryUtilizationNormalized",
        "InferenceComponentName",
        name,
    ] in gpu
    capacity = [m[:6] for m in metrics["Capacity"]]
    assert ["/aws/sagemaker/InferenceComponents", "CopyCount", "InferenceComponentName", name] in [
        c[:4] for c in capacity
    ]
    assert ["AWS/SageMaker", "NoCapacityInvocationFailures", "InferenceComponentName", name] in [
        c[:4] for c in capacity
    ]
    endpoint = _one(template, "AWS::SageMaker::Endpoint")[1]["EndpointName"]
    assert [
        "/aws/sagemaker/Endpoints",
        "CPUUtilization",
        "EndpointName",
        endpoint,
        "VariantName",
        "AllTraffic",
    ] in capacity
    copy = metrics["Weights copy: executions"]
    machine_id = _copy_state_machine(template)
    assert ["AWS/States", "ExecutionsFailed", "StateMachineArn", f"<Ref:{machine_id}>"] in [m[:4] for m in copy]
    alarm_widgets = [w for w in _dashboard(template)["widgets"] if "alarms" in w["properties"].get("annotations", {})]
    assert len(alarm_widgets) == 4  # 5xx rate, latency, GPU memory, copy failed


def test_instance_endpoint_dashboard_names_the_endpoint_deployed(ops_app: Synthesized) -> None:
    template = _raw(ops_app, "blue-green")
    _, endpoint = _one(template, "AWS::SageMaker::Endpoint")
    metrics = _widget_metrics(_dashboard(template))
    dims = ["EndpointName", endpoint["EndpointName"], "VariantName", "AllTraffic"]
    assert ["AWS/SageMaker", "ModelLatency", *dims] in [
        m[:6] for m in metrics["Model latency (s): a whole streamed answer"]
    ]
    gpu = metrics["GPU (%)"]
    assert ["/aws/sagemaker/Endpoints", "GPUMemoryUtilization", *dims] in [m[:6] for m in gpu]
    assert "Weights copy: executions" in metrics  # s3 weights by default


def test_alarms_watch_the_component_with_the_configured_thresholds(ops_app: Synthesized) -> None:
    template = _raw(ops_app, "component")
    _, component = _one(template, "AWS::SageMaker::InferenceComponent")
    dimension = [{"Name": "InferenceComponentName", "Value": component["InferenceComponentName"]}]
    alarms = _alarms(template)
    error_rate = alarms["ErrorRate"]
    expression = next(m for m in error_rate["Metrics"] if "Expression" in m)
    assert expression["Expression"] == "IF(invocations > 0, 100 * errors / invocations, 0)"
    inputs = {m["Id"]: m["MetricStat"] for m in error_rate["Metrics"] if "MetricStat" in m}
    assert inputs["errors"]["Metric"] == {
        "Namespace": "AWS/SageMaker",
        "MetricName": "Invocation5XXErrors",
        "Dimensions": dimension,
    }
    assert (inputs["errors"]["Period"], inputs["errors"]["Stat"], error_rate["Threshold"]) == (300, "Sum", 5)
    latency = alarms["ModelLatency"]
    assert (latency["MetricName"], latency["ExtendedStatistic"], latency["Dimensions"]) == (
        "ModelLatency",
        "p90",
        dimension,
    )
    assert (latency["Threshold"], latency["Period"]) == (120 * 1_000_000, 300)  # microseconds
    gpu = alarms["GpuMemory"]
    assert (gpu["Namespace"], gpu["MetricName"], gpu["Threshold"]) == (
        "/aws/sagemaker/InferenceComponents",
        "GPUMemoryUtilizationNormalized",
        98,
    )
    assert (gpu["EvaluationPeriods"], gpu["DatapointsToAlarm"]) == (15, 15)
    machine_id = _copy_state_machine(template)
    copy_inputs = [m["MetricStat"]["Metric"] for m in alarms["WeightsCopyFailed"]["Metrics"] if "MetricStat" in m]
    assert {m["MetricName"] for m in copy_inputs} == {"ExecutionsFailed", "ExecutionsTimedOut"}
    assert all(m["Dimensions"] == [{"Name": "StateMachineArn", "Value": {"Ref": machine_id}}] for m in copy_inputs)
    assert all(alarm["TreatMissingData"] == "notBreaching" for alarm in alarms.values())


def test_emails_get_an_encrypted_tls_only_topic_that_every_alarm_notifies(ops_app: Synthesized) -> None:
    template = _raw(ops_app, "component")
    topic_id, topic = _one(template, "AWS::SNS::Topic")
    key_id, key = _one(template, "AWS::KMS::Key")
    assert topic["KmsMasterKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]} and key["EnableKeyRotation"] is True
    publish = next(s for s in key["KeyPolicy"]["Statement"] if s.get("Sid") == "CloudWatchAlarmsPublish")
    assert publish["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    (policy,) = _of_type(template, "AWS::SNS::TopicPolicy").values()
    deny = next(s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Deny")
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    # A policy with only a Deny replaces the default one: CloudWatch needs its own Allow, for these alarms only.
    (allow,) = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]
    alarm_ids = {
        logical_id
        for logical_id, alarm in _of_type(template, "AWS::CloudWatch::Alarm").items()
        if alarm["Properties"].get("AlarmActions") == [{"Ref": topic_id}]
    }
    assert len(alarm_ids) == 4
    sources = allow["Condition"].pop("ArnLike")["aws:SourceArn"]
    assert sorted(source["Fn::GetAtt"][0] for source in sources) == sorted(alarm_ids)
    assert all(source["Fn::GetAtt"][1] == "Arn" for source in sources)
    assert {key: value for key, value in allow.items() if key != "Sid"} == {
        "Action": "sns:Publish",
        "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}},
        "Effect": "Allow",
        "Principal": {"Service": "cloudwatch.amazonaws.com"},
        "Resource": {"Ref": topic_id},
    }
    _, subscription = _one(template, "AWS::SNS::Subscription")
    assert (subscription["Protocol"], subscription["Endpoint"]) == ("email", "oncall@example.com")
    for name in ("ErrorRate", "ModelLatency", "GpuMemory", "WeightsCopyFailed"):
        alarm = _alarms(template)[name]
        assert alarm["AlarmActions"] == [{"Ref": topic_id}] and alarm["OKActions"] == [{"Ref": topic_id}]


def test_an_existing_topic_is_notified_and_none_is_created(ops_app: Synthesized) -> None:
    template = _raw(ops_app, "rolling")
    assert _of_type(template, "AWS::SNS::Topic") == {} and _of_type(template, "AWS::KMS::Key") == {}
    assert all(alarm["AlarmActions"] == [TOPIC_ARN] for alarm in _alarms(template).values())


def test_component_updates_roll_copy_by_copy_and_roll_back_on_the_alarms(ops_app: Synthesized) -> None:
    template = _raw(ops_app, "component")
    alarm_ids = {
        value["Metadata"]["aws:cdk:path"].split("/")[-2]: key
        for key, value in _of_type(template, "AWS::CloudWatch::Alarm").items()
    }
    _, component = _one(template, "AWS::SageMaker::InferenceComponent")
    one_copy = {"Type": "COPY_COUNT", "Value": 1}
    assert component["DeploymentConfig"] == {
        "RollingUpdatePolicy": {
            "MaximumBatchSize": one_copy,
            "RollbackMaximumBatchSize": one_copy,
            "WaitIntervalInSeconds": 600,
        },
        "AutoRollbackConfiguration": {
            "Alarms": [
                {"AlarmName": {"Ref": alarm_ids["ErrorRate"]}},
                {"AlarmName": {"Ref": alarm_ids["ModelLatency"]}},
            ]
        },
    }


@pytest.mark.parametrize(
    ("name", "policy"),
    [
        (
            "blue-green",
            {
                "BlueGreenUpdatePolicy": {
                    "TrafficRoutingConfiguration": {"Type": "ALL_AT_ONCE"},
                    "TerminationWaitInSeconds": 600,
                }
            },
        ),
        (
            "rolling",
            {
                "RollingUpdatePolicy": {
                    "MaximumBatchSize": {"Type": "INSTANCE_COUNT", "Value": 1},
                    "RollbackMaximumBatchSize": {"Type": "INSTANCE_COUNT", "Value": 1},
                    "WaitIntervalInSeconds": 300,
                }
            },
        ),
    ],
)
def test_instance_endpoints_update_as_configured_and_roll_back(
    ops_app: Synthesized, name: str, policy: dict[str, Any]
) -> None:
    template = _raw(ops_app, name)
    _, endpoint = _one(template, "AWS::SageMaker::Endpoint")
    rollback = endpoint["DeploymentConfig"].pop("AutoRollbackConfiguration")
    assert endpoint["DeploymentConfig"] == policy
    alarms = _of_type(template, "AWS::CloudWatch::Alarm")
    named = {alarms[a["AlarmName"]["Ref"]]["Metadata"]["aws:cdk:path"].split("/")[-2] for a in rollback["Alarms"]}
    assert named == {"ErrorRate", "ModelLatency"}
    endpoint_id, _ = _one(template, "AWS::SageMaker::Endpoint")
    for alarm_id in (a["AlarmName"]["Ref"] for a in rollback["Alarms"]):  # no cycle: the alarms name it by string
        assert "DependsOn" not in alarms[alarm_id]
        assert endpoint_id not in json.dumps(alarms[alarm_id]["Properties"])
        dimensions = alarms[alarm_id]["Properties"].get("Dimensions") or [
            d
            for m in alarms[alarm_id]["Properties"]["Metrics"]
            if "MetricStat" in m
            for d in m["MetricStat"]["Metric"]["Dimensions"]
        ]
        assert {
            "Name": "EndpointName",
            "Value": _one(template, "AWS::SageMaker::Endpoint")[1]["EndpointName"],
        } in dimensions


def test_operations_can_be_turned_off(ops_app: Synthesized) -> None:
    template = _raw(ops_app, "quiet")
    assert _of_type(template, "AWS::CloudWatch::Dashboard") == {}
    assert set(_alarms(template)) == {"NoCapacityAlarm"}  # the wake-up path stays: it is scaling, not monitoring
    _, component = _one(template, "AWS::SageMaker::InferenceComponent")
    assert "AutoRollbackConfiguration" not in component["DeploymentConfig"]


def test_every_log_group_expires_and_every_function_logs_to_one(ops_app: Synthesized) -> None:
    for name, days in (("component", 30), ("blue-green", 365)):
        template = _raw(ops_app, name)
        groups = _of_type(template, "AWS::Logs::LogGroup")
        assert groups and all(g["Properties"]["RetentionInDays"] == days for g in groups.values())
        # Kept when the stack goes, removed with a stack whose first creation failed (nothing piles up per attempt).
        assert all(g["DeletionPolicy"] == "RetainExceptOnCreate" for g in groups.values())
        for function in _of_type(template, "AWS::Lambda::Function").values():
            assert function["Properties"]["LoggingConfig"]["LogGroup"]["Ref"] in groups


def test_every_taggable_resource_carries_the_cost_allocation_tags(ops_app: Synthesized) -> None:
    template = _raw(ops_app, "component")
    tagged = 0
    for key, resource in template["Resources"].items():
        tags = resource["Properties"].get("Tags") if "Properties" in resource else None
        if tags is None:
            continue
        tagged += 1
        as_dict = {t["Key"]: t["Value"] for t in tags} if isinstance(tags, list) else tags
        assert as_dict["tgi-sagemaker:deployment"] == "component", key
        assert as_dict["tgi-sagemaker:model"] == "deepseek-ai/DeepSeek-R1-Distill-Llama-8B", key
    types = {r["Type"] for r in template["Resources"].values() if "Tags" in r.get("Properties", {})}
    expected = {
        "AWS::SageMaker::Model",
        "AWS::SageMaker::EndpointConfig",
        "AWS::SageMaker::Endpoint",
        "AWS::SageMaker::InferenceComponent",
    }
    expected |= {
        "AWS::S3::Bucket",
        "AWS::StepFunctions::StateMachine",
        "AWS::Lambda::Function",
        "AWS::KMS::Key",
        "AWS::SNS::Topic",
        "AWS::EC2::VPC",
    }
    assert expected <= types and tagged > 20


def test_every_configurable_retention_maps_to_the_same_number_of_days() -> None:
    import aws_cdk as cdk
    from aws_cdk import aws_logs as logs
    from aws_cdk.assertions import Template

    from stacks.tgi_endpoint_stack import log_retention
    from tgi_sagemaker.limits import LOG_RETENTION_DAYS

    stack = cdk.Stack(cdk.App())
    for days in LOG_RETENTION_DAYS:
        logs.LogGroup(stack, f"Keep{days}Days", retention=log_retention(days))
    groups = Template.from_stack(stack).find_resources("AWS::Logs::LogGroup")
    kept = {
        int(re.match(r"Keep(\d+)Days", key).group(1)): g["Properties"]["RetentionInDays"] for key, g in groups.items()
    }  # type: ignore[union-attr]
    assert kept == {days: days for days in LOG_RETENTION_DAYS}


def test_a_destroyable_bucket_is_emptied_by_a_function_whose_log_expires(ops_app: Synthesized) -> None:
    template = _raw(ops_app, "blue-green")
    (bucket,) = _of_type(template, "AWS::S3::Bucket").values()
    assert bucket["DeletionPolicy"] == "Delete"
    assert _of_type(template, "Custom::S3AutoDeleteObjects")  # CDK empties it first; its handler is covered above
