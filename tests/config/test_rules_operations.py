"""rules/operations.py: alarms and where they notify, log retention, and updates."""

from __future__ import annotations

from rule_cases import Case, one_problem_test

CASES: list[Case] = [
    (
        "log retention CloudWatch does not offer",
        {"operations.log_retention_days": 100},
        {},
        "operations.log_retention_days",
        100,
        "90, 120",
    ),
    (
        "alarm emails and a topic",
        {
            "operations.alarm_emails": ["a@example.com"],
            "operations.alarm_topic_arn": "arn:aws:sns:us-east-1:111122223333:t",
        },
        {},
        "operations.alarm_topic_arn",
        "arn:aws:sns:us-east-1:111122223333:t",
        "keep one",
    ),
    (
        "rollback without alarms",
        {"operations.alarms": False},
        {},
        "operations.auto_rollback",
        True,
        "auto_rollback",
    ),
    (
        "emails without alarms",
        {"operations.alarms": False, "operations.auto_rollback": False, "operations.alarm_emails": ["a@example.com"]},
        {},
        "operations.alarm_emails",
        ["a@example.com"],
        "operations.alarms: true",
    ),
    (
        "blue/green for an inference component",
        {"operations.update_strategy": "blue_green"},
        {},
        "operations.update_strategy",
        "blue_green",
        "scaling.mode: instances",
    ),
    (
        "malformed alarm email",
        {"operations.alarm_emails": ["oncall"]},
        {},
        "operations.alarm_emails[0]",
        "oncall",
        "oncall@example.com",
    ),
    ("bake longer than SageMaker waits", {"operations.bake_minutes": 61}, {}, "operations.bake_minutes", 61, "60"),
]


test_each_invalid_spec_gives_one_problem_naming_field_value_and_fix = one_problem_test(CASES)
