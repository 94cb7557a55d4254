"""AlarmTopic: a topic CloudWatch may publish to under a key of its own, with email subscribers."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk.assertions import Template

from tgi_sagemaker import AlarmTopic


def test_the_topic_is_encrypted_with_a_rotating_key_cloudwatch_may_use() -> None:
    stack = cdk.Stack(cdk.App(), "Alarms")
    AlarmTopic(stack, "Topic", emails=["oncall@example.com", "lead@example.com"])
    template = Template.from_stack(stack)
    ((key_id, key),) = template.find_resources("AWS::KMS::Key").items()
    assert key["Properties"]["EnableKeyRotation"] is True and key["DeletionPolicy"] == "Delete"
    assert key["Properties"]["PendingWindowInDays"] == 7
    (publish,) = [s for s in key["Properties"]["KeyPolicy"]["Statement"] if s.get("Sid") == "CloudWatchAlarmsPublish"]
    assert publish["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert publish["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
    (topic,) = template.find_resources("AWS::SNS::Topic").values()
    assert topic["Properties"]["KmsMasterKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    endpoints = sorted(s["Properties"]["Endpoint"] for s in template.find_resources("AWS::SNS::Subscription").values())
    assert endpoints == ["lead@example.com", "oncall@example.com"]


def test_without_emails_nobody_is_subscribed() -> None:
    stack = cdk.Stack(cdk.App(), "Quiet")
    AlarmTopic(stack, "Topic")
    Template.from_stack(stack).resource_count_is("AWS::SNS::Subscription", 0)
