"""rules/scaling.py: the bounds of either scaling mode, and the settings each mode alone takes."""

from __future__ import annotations

from rule_cases import Case, one_problem_test

CASES: list[Case] = [
    (
        "min above max instances",
        {"scaling.mode": "instances", "scaling.min_instances": 3, "scaling.max_instances": 2},
        {},
        "scaling.min_instances",
        3,
        "min_instances <= max_instances",
    ),
    (
        "zero instances in instance mode",
        {"scaling.mode": "instances", "scaling.min_instances": 0},
        {},
        "scaling.min_instances",
        0,
        "use scaling.mode 'scale_to_zero'",
    ),
    ("negative min instances", {"scaling.min_instances": -1}, {}, "scaling.min_instances", -1, ">= 0"),
    (
        "scale_to_zero that keeps a copy",
        {"scaling.min_copies": 1},
        {},
        "scaling.min_copies",
        1,
        "set scaling.min_copies to 0",
    ),
    (
        "scale_to_zero that keeps an instance",
        {"scaling.min_instances": 1},
        {},
        "scaling.min_instances",
        1,
        "scaling.mode 'instances'",
    ),
    ("more copies than fit", {"scaling.max_copies": 3}, {}, "scaling.max_copies", 3, "at most 2"),
    (
        "copy memory above the instance's share",
        {"scaling.min_memory_mb": 40000},
        {},
        "scaling.min_memory_mb",
        40000,
        "at most 32768",
    ),
    (
        "zero concurrency target",
        {"scaling.concurrent_requests_per_copy": 0},
        {},
        "scaling.concurrent_requests_per_copy",
        0,
        "> 0",
    ),
    (
        "wake-up cooldown out of range",
        {"scaling.scale_out_from_zero_cooldown_seconds": 4000},
        {},
        "scaling.scale_out_from_zero_cooldown_seconds",
        4000,
        "<= 3600",
    ),
    (
        "instance-mode knob in scale_to_zero",
        {"scaling.invocations_per_instance": 50},
        {},
        "scaling.invocations_per_instance",
        50,
        "set scaling.mode to 'instances'",
    ),
    (
        "scale_to_zero knob in instance mode",
        {"scaling.mode": "instances", "scaling.max_copies": 2},
        {},
        "scaling.max_copies",
        2,
        "set scaling.mode to 'scale_to_zero'",
    ),
    ("negative max instances", {"scaling.max_instances": -1}, {}, "scaling.max_instances", -1, ">= 1"),
    (
        "zero invocation target",
        {"scaling.mode": "instances", "scaling.invocations_per_instance": 0},
        {},
        "scaling.invocations_per_instance",
        0,
        "> 0",
    ),
]


test_each_invalid_spec_gives_one_problem_naming_field_value_and_fix = one_problem_test(CASES)
