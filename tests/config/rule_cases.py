"""What the rule test modules share: an invalid spec as a case, and the check that it gives exactly one problem
naming the field, the bad value and the fix."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from helpers import config_with, problems_of

UNKNOWN_MODEL = "acme/Frontier-9B"
HUB_TOKEN = "hf_" + "AbCdEfGhIjKlMnOpQrStUvWxYz01234567"  # the shape of a Hub token (made up)
# A pre-quantized repo outside the catalog (AWQ, GPTQ, EXL2 checkpoints are such repos), sized by its parameters.
PRE_QUANTIZED_MODEL = {
    "model.id": "acme/Frontier-9B-AWQ",
    "model.parameters_billion": 9,
    "instance_type": "ml.g6e.xlarge",
}

# (case id, changes to the first deployment, top-level changes, field, value, words the fix must contain)
Case = tuple[str, dict[str, Any], dict[str, Any], str, Any, str]
CASE_ARGUMENTS = ("changes", "app_changes", "field", "value", "fix")


def case_params(cases: list[Case]) -> list[Any]:
    """The cases as pytest parameters, each named by its id (ids must be distinct: each names one rule)."""
    ids = [case[0] for case in cases]
    assert len(set(ids)) == len(ids), f"case ids given twice: {sorted({i for i in ids if ids.count(i) > 1})}"
    return [pytest.param(*case[1:], id=case[0]) for case in cases]


def assert_one_problem(changes: dict[str, Any], app_changes: dict[str, Any], field: str, value: Any, fix: str) -> None:
    problems = problems_of(config_with(changes, **app_changes))
    assert len(problems) == 1, "\n".join(map(str, problems))
    (problem,) = problems
    assert problem.field.endswith(field), problem
    assert problem.value == value, problem
    assert fix in problem.fix, problem
    rendered = str(problem)
    assert field in rendered and "Fix:" in rendered


def one_problem_test(cases: list[Case]) -> Callable[..., None]:
    """The test a rule module runs over its cases (assign it to a ``test_`` name for pytest to collect)."""

    @pytest.mark.parametrize(CASE_ARGUMENTS, case_params(cases))
    def test(changes: dict[str, Any], app_changes: dict[str, Any], field: str, value: Any, fix: str) -> None:
        assert_one_problem(changes, app_changes, field, value, fix)

    return test
