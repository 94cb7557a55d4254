"""Step Functions as the rehearsal runs it: the state machine definitions from the template, interpreted.

moto cannot run Lambda-backed state machines here (no Docker), so the states our definitions use are interpreted
as the Amazon States Language defines them: Task (a Lambda ARN, or ``arn:aws:states:::lambda:invoke``), Map (inline,
and distributed with an S3 JSON ItemReader and ItemSelector), Pass, Choice (string/numeric/boolean equality), Wait,
Succeed, Fail; InputPath, Parameters, ResultSelector, ResultPath, OutputPath; Retry (ErrorEquals, IntervalSeconds,
MaxAttempts, BackoffRate, MaxDelaySeconds) and Catch; the execution timeout. A definition using anything else fails
the rehearsal with the construct named, rather than being half-run.

Every call a state makes is made as the state machine's role: invoking a function needs lambda:InvokeFunction, the
ItemReader reads S3 through the AWS gateway (bucket policy and all), a distributed Map needs states:StartExecution
on its own state machine. Waits (Retry intervals, Wait states, the execution timeout) run on a scaled clock
(``wait_scale``) so that CloudFormation's minutes take the rehearsal's seconds; function timeouts do not scale.

The API (StartExecution with its name semantics, DescribeExecution, StopExecution, ListExecutions,
DescribeStateMachine) is served through the AWS gateway, after IAM.
"""

from __future__ import annotations

import copy
import datetime
import json
import random
import re
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from rehearsal.iam import Iam, Principal
from rehearsal.lambda_service import LambdaService
from rehearsal.network import ACCOUNT, REGION

PAYLOAD_LIMIT = 256 * 1024
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,80}$")


class StatesError(Exception):
    def __init__(self, error: str, cause: str = "") -> None:
        super().__init__(f"{error}: {cause}")
        self.error, self.cause = error, cause


class Aborted(Exception):
    pass


class Unsupported(Exception):
    """The definition uses a part of the States Language the rehearsal does not interpret."""


@dataclass
class StateMachine:
    logical_id: str
    name: str
    definition: dict[str, Any]
    role: Principal

    @property
    def arn(self) -> str:
        return f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{self.name}"


@dataclass
class Execution:
    machine: StateMachine
    name: str
    input: str
    status: str = "RUNNING"
    output: str | None = None
    error: str | None = None
    cause: str | None = None
    start: float = field(default_factory=time.time)
    stop: float | None = None
    history: list[dict[str, Any]] = field(default_factory=list)
    stopped: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)

    @property
    def arn(self) -> str:
        return f"arn:aws:states:{REGION}:{ACCOUNT}:execution:{self.machine.name}:{self.name}"

    def describe(self) -> dict[str, Any]:
        described: dict[str, Any] = {
            "executionArn": self.arn,
            "stateMachineArn": self.machine.arn,
            "name": self.name,
            "status": self.status,
            "startDate": self.start,
            "input": self.input,
        }
        for key, value in (
            ("stopDate", self.stop),
            ("output", self.output),
            ("error", self.error),
            ("cause", self.cause),
        ):
            if value is not None:
                described[key] = value
        return described


@dataclass
class MapRun:
    """The child executions a distributed Map state started (one an item)."""

    execution: Execution
    label: str
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    children: list[Execution] = field(default_factory=list)
    start: float = field(default_factory=time.time)
    stop: float | None = None
    status: str = "RUNNING"

    @property
    def arn(self) -> str:
        return f"arn:aws:states:{REGION}:{ACCOUNT}:mapRun:{self.execution.machine.name}/{self.label}:{self.id}"


class StepFunctions:
    def __init__(self, iam: Iam, lambdas: LambdaService, s3_client: Any, wait_scale: float) -> None:
        self.iam = iam
        self.lambdas = lambdas
        self.s3_client = s3_client  # principal -> an S3 client that goes through the AWS gateway
        self.wait_scale = wait_scale
        self.machines: dict[str, StateMachine] = {}
        self.executions: dict[str, Execution] = {}
        self.map_runs: dict[str, MapRun] = {}
        self._lock = threading.Lock()

    # --- resources -------------------------------------------------------------------------------------------
    def create_state_machine(self, machine: StateMachine) -> None:
        _check_definition(machine.definition, machine.logical_id)
        if machine.arn in self.machines:
            raise StatesError("StateMachineAlreadyExists", machine.arn)
        self.machines[machine.arn] = machine

    def delete_state_machine(self, arn: str) -> None:
        self.machines.pop(arn, None)

    # --- the API ---------------------------------------------------------------------------------------------
    def __call__(
        self, principal: Principal, operation: str, request: dict[str, Any]
    ) -> tuple[int, dict[str, str], bytes]:
        body = request["body"]
        try:
            answer = getattr(self, f"_api_{operation}")(body)
        except AttributeError:
            return _api_error("UnknownOperationException", operation)
        except StatesError as error:
            return _api_error(error.error, error.cause)
        return 200, {"Content-Type": "application/x-amz-json-1.0"}, json.dumps(answer).encode()

    def _api_StartExecution(self, body: dict[str, Any]) -> dict[str, Any]:
        execution = self.start_execution(body["stateMachineArn"], body.get("name"), body.get("input", "{}"))
        return {"executionArn": execution.arn, "startDate": execution.start}

    def _api_DescribeExecution(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._execution(body["executionArn"]).describe()

    def _api_StopExecution(self, body: dict[str, Any]) -> dict[str, Any]:
        execution = self._execution(body["executionArn"])
        self._end(execution, "ABORTED", body.get("error"), body.get("cause"))
        return {"stopDate": execution.stop or time.time()}

    def _end(self, execution: Execution, status: str, error: str | None, cause: str | None) -> None:
        """Stop a running execution, and the child executions of its Map runs with it (the functions they invoked
        run on to their end, as Lambda does; their results are dropped)."""
        with self._lock:
            if execution.status != "RUNNING":
                return
            execution.status, execution.stop = status, time.time()
            execution.error, execution.cause = error, cause
            execution.stopped.set()
            for run in self.map_runs.values():
                if run.execution is not execution:
                    continue
                run.status, run.stop = "ABORTED", run.stop or time.time()
                for child in run.children:
                    if child.status == "RUNNING":
                        child.status, child.stop = "ABORTED", time.time()

    def _api_ListExecutions(self, body: dict[str, Any]) -> dict[str, Any]:
        wanted = body.get("statusFilter")
        if "mapRunArn" in body:
            map_run = self.map_runs.get(body["mapRunArn"])
            if map_run is None:
                raise StatesError("ResourceNotFound", f"Map Run Does Not Exist: '{body['mapRunArn']}'")
            candidates = list(map_run.children)
        else:
            arn = body["stateMachineArn"]
            if arn not in self.machines:
                raise StatesError("StateMachineDoesNotExist", f"State Machine Does Not Exist: '{arn}'")
            candidates = [e for e in self.executions.values() if e.machine.arn == arn]
        executions = [
            {key: value for key, value in e.describe().items() if key not in ("input", "output", "error", "cause")}
            for e in sorted(candidates, key=lambda e: -e.start)
            if wanted is None or e.status == wanted
        ]
        return {"executions": executions[: body.get("maxResults") or 1000]}

    def _api_ListMapRuns(self, body: dict[str, Any]) -> dict[str, Any]:
        execution = self._execution(body["executionArn"])
        runs = [run for run in self.map_runs.values() if run.execution is execution]
        return {
            "mapRuns": [
                {
                    "executionArn": execution.arn,
                    "mapRunArn": run.arn,
                    "stateMachineArn": execution.machine.arn,
                    "startDate": run.start,
                    **({"stopDate": run.stop} if run.stop else {}),
                }
                for run in runs
            ]
        }

    def _api_DescribeStateMachine(self, body: dict[str, Any]) -> dict[str, Any]:
        machine = self.machines.get(body["stateMachineArn"])
        if machine is None:
            raise StatesError("StateMachineDoesNotExist", body["stateMachineArn"])
        return {
            "stateMachineArn": machine.arn,
            "name": machine.name,
            "status": "ACTIVE",
            "definition": json.dumps(machine.definition),
            "roleArn": machine.role.role_arn,
            "type": "STANDARD",
            "creationDate": time.time(),
        }

    def _execution(self, arn: str) -> Execution:
        execution = self.executions.get(arn)
        if execution is None:
            raise StatesError("ExecutionDoesNotExist", f"Execution Does Not Exist: '{arn}'")
        return execution

    # --- executions ------------------------------------------------------------------------------------------
    def start_execution(self, machine_arn: str, name: str | None, input_text: str) -> Execution:
        machine = self.machines.get(machine_arn)
        if machine is None:
            raise StatesError("StateMachineDoesNotExist", f"State Machine Does Not Exist: '{machine_arn}'")
        name = name or str(uuid.uuid4())
        if not _NAME.match(name):
            raise StatesError("InvalidName", f"Invalid Name: '{name}'")
        if len(input_text.encode()) > PAYLOAD_LIMIT:
            raise StatesError("InvalidExecutionInput", "input exceeds 256 KB")
        json.loads(input_text)
        with self._lock:
            existing = self.executions.get(Execution(machine, name, input_text).arn)
            if existing is not None:
                # Standard workflows: the same name and input while running is idempotent; otherwise refused.
                if existing.status == "RUNNING" and existing.input == input_text:
                    return existing
                raise StatesError("ExecutionAlreadyExists", f"Execution Already Exists: '{existing.arn}'")
            execution = Execution(machine, name, input_text)
            self.executions[execution.arn] = execution
        threading.Thread(target=self._run, args=(execution,), daemon=True, name=f"sfn {name}").start()
        return execution

    def _run(self, execution: Execution) -> None:
        definition = execution.machine.definition
        timeout = definition.get("TimeoutSeconds")
        timer = None
        if timeout:
            timer = threading.Timer(timeout * self.wait_scale, self._time_out, args=(execution,))
            timer.daemon = True
            timer.start()
        status, output, error, cause = "SUCCEEDED", None, None, None
        try:
            context = {
                "Execution": {"Id": execution.arn, "Name": execution.name, "Input": json.loads(execution.input)},
                "StateMachine": {"Id": execution.machine.arn, "Name": execution.machine.name},
            }
            result = _Run(self, execution, context).states(definition, json.loads(execution.input))
            output = json.dumps(result)
        except Aborted:
            status = execution.status
        except StatesError as failure:
            status, error, cause = "FAILED", failure.error, failure.cause
        except Unsupported as unsupported:
            status, error, cause = "FAILED", "Rehearsal.Unsupported", str(unsupported)
        finally:
            if timer:
                timer.cancel()
        with self._lock:
            if execution.status == "RUNNING":
                execution.status, execution.output, execution.error, execution.cause = status, output, error, cause
                execution.stop = time.time()
        execution.done.set()

    def _time_out(self, execution: Execution) -> None:
        self._end(execution, "TIMED_OUT", "States.Timeout", "The execution timed out")

    def sleep(self, execution: Execution, seconds: float) -> None:
        if execution.stopped.wait(seconds * self.wait_scale):
            raise Aborted()


class _Run:
    """One execution's walk through its states."""

    def __init__(self, service: StepFunctions, execution: Execution, context: dict[str, Any]) -> None:
        self.service = service
        self.execution = execution
        self.context = context

    def record(self, kind: str, **details: Any) -> None:
        with self.service._lock:
            self.execution.history.append({"type": kind, "timestamp": time.time(), **details})

    def states(self, machine: dict[str, Any], data: Any, context: dict[str, Any] | None = None) -> Any:
        context = context or self.context
        name = machine["StartAt"]
        while True:
            if self.execution.stopped.is_set():
                raise Aborted()
            state = machine["States"][name]
            self.record("StateEntered", name=name, input=data)
            data, following = self.state(name, state, data, context)
            self.record("StateExited", name=name, output=data)
            if following is None:
                return data
            name = following

    def state(self, name: str, state: dict[str, Any], data: Any, context: dict[str, Any]) -> tuple[Any, str | None]:
        kind = state["Type"]
        following = None if state.get("End") else state.get("Next")
        if kind == "Succeed":
            return data, None
        if kind == "Fail":
            raise StatesError(state.get("Error", "States.Fail"), state.get("Cause", ""))
        if kind == "Choice":
            effective = select(state.get("InputPath", "$"), data, context)
            for rule in state["Choices"]:
                if _choice(rule, effective, context):
                    return data, rule["Next"]
            if "Default" not in state:
                raise StatesError("States.NoChoiceMatched", name)
            return data, state["Default"]
        effective = select(state.get("InputPath", "$"), data, context)
        if "Parameters" in state and kind != "Map":
            effective = parameters(state["Parameters"], effective, context)
        try:
            result = self._attempts(name, state, effective, context)
        except StatesError as failure:
            for catcher in state.get("Catch", []):
                if _matches(catcher["ErrorEquals"], failure.error):
                    self.record("CaughtError", name=name, error=failure.error, cause=failure.cause)
                    error_output = {"Error": failure.error, "Cause": failure.cause}
                    return place(catcher.get("ResultPath", "$"), data, error_output), catcher["Next"]
            raise
        if "ResultSelector" in state:
            result = parameters(state["ResultSelector"], result, context)
        output = place(state.get("ResultPath", "$"), data, result)
        return select(state.get("OutputPath", "$"), output, context), following

    def _attempts(self, name: str, state: dict[str, Any], data: Any, context: dict[str, Any]) -> Any:
        retriers = state.get("Retry", [])
        counts = [0] * len(retriers)
        while True:
            try:
                return self._once(name, state, data, context)
            except StatesError as failure:
                index = next((i for i, r in enumerate(retriers) if _matches(r["ErrorEquals"], failure.error)), None)
                if index is None:
                    raise
                retrier = retriers[index]
                if counts[index] >= retrier.get("MaxAttempts", 3):
                    raise
                interval = retrier.get("IntervalSeconds", 1) * retrier.get("BackoffRate", 2.0) ** counts[index]
                interval = min(interval, retrier.get("MaxDelaySeconds", interval))
                if retrier.get("JitterStrategy") == "FULL":
                    interval = random.uniform(0, interval)
                counts[index] += 1
                self.record("Retry", name=name, error=failure.error, attempt=counts[index])
                self.service.sleep(self.execution, interval)

    def _once(self, name: str, state: dict[str, Any], data: Any, context: dict[str, Any]) -> Any:
        kind = state["Type"]
        if kind == "Pass":
            return state.get("Result", data)
        if kind == "Wait":
            seconds = state.get("Seconds") or select(state["SecondsPath"], data, context)
            self.service.sleep(self.execution, float(seconds))
            return data
        if kind == "Task":
            return self._task(name, state, data)
        if kind == "Map":
            return self._map(name, state, data, context)
        raise Unsupported(f"state {name!r} of type {kind}")

    # --- Task --------------------------------------------------------------------------------------------------
    def _task(self, name: str, state: dict[str, Any], data: Any) -> Any:
        resource = state["Resource"]
        if re.fullmatch(r"arn:aws:lambda:[^:]+:\d+:function:[^:]+(:[^:]+)?", resource):
            function, payload, wrap = resource, data, False
        elif re.fullmatch(r"arn:aws:states:::lambda:invoke", resource):
            function, payload, wrap = data["FunctionName"], data.get("Payload", data), True
        else:
            raise Unsupported(f"state {name!r}: task resource {resource}")
        role = self.execution.machine.role
        if not self.service.iam.decide(role, "lambda:InvokeFunction", function).allowed:
            raise StatesError(
                "Lambda.AWSLambdaException",
                f"User: {role.arn} is not authorized to perform: lambda:InvokeFunction on resource: {function}",
            )
        _check_size(payload, f"state {name!r} payload")
        invocation = self.service.lambdas.invoke(function, payload)
        self.record("TaskResult", name=name, result=invocation.result, error=invocation.error)
        if invocation.error is not None:
            error_type = str(invocation.error.get("errorType") or "Lambda.Unknown")
            raise StatesError(error_type, json.dumps(invocation.error))
        if wrap:
            return {"Payload": invocation.result, "StatusCode": 200, "ExecutedVersion": "$LATEST"}
        return invocation.result

    # --- Map ---------------------------------------------------------------------------------------------------
    def _map(self, name: str, state: dict[str, Any], data: Any, context: dict[str, Any]) -> Any:
        processor = state.get("ItemProcessor") or state.get("Iterator")
        if processor is None:
            raise Unsupported(f"Map {name!r} without ItemProcessor")
        distributed = processor.get("ProcessorConfig", {}).get("Mode") == "DISTRIBUTED"
        unsupported = set(state) & {"ResultWriter", "ItemBatcher", "Label"}
        if unsupported:
            raise Unsupported(f"Map {name!r}: {sorted(unsupported)}")
        if "ItemReader" in state:
            items = self._read_items(name, state["ItemReader"], data, context)
        else:
            items = select(state.get("ItemsPath", "$"), data, context)
        if not isinstance(items, list):
            raise StatesError("States.Runtime", f"Map {name!r}: items are not an array")
        role = self.execution.machine.role
        map_run = None
        if distributed:
            if not self.service.iam.decide(role, "states:StartExecution", self.execution.machine.arn).allowed:
                raise StatesError("States.Runtime", f"{role.arn} may not start the Map run's child executions")
            map_run = MapRun(self.execution, state.get("Label") or uuid.uuid4().hex[:8])
            with self.service._lock:
                self.service.map_runs[map_run.arn] = map_run
            self.record("MapRunStarted", name=name, mapRunArn=map_run.arn)
        selector = state.get("ItemSelector") or state.get("Parameters")
        limit = state.get("MaxConcurrency") or 40
        tolerated = state.get("ToleratedFailurePercentage", 0), state.get("ToleratedFailureCount", 0)
        failures: list[StatesError] = []
        results: list[Any] = [None] * len(items)

        def one(index: int) -> None:
            if self.execution.stopped.is_set() or (failures and not distributed):
                return
            item_context = {**context, "Map": {"Item": {"Index": index, "Value": items[index]}}}
            value = parameters(selector, data, item_context) if selector else items[index]
            try:
                if map_run is None:
                    results[index] = self.states(processor, value, item_context)
                else:
                    results[index] = self._child(map_run, processor, value, item_context)
            except StatesError as failure:
                failures.append(failure)

        with ThreadPoolExecutor(max_workers=min(limit, max(1, len(items)))) as pool:
            list(pool.map(one, range(len(items))))
        if map_run is not None:
            map_run.stop, map_run.status = time.time(), "FAILED" if failures else "SUCCEEDED"
        if self.execution.stopped.is_set():
            raise Aborted()
        if failures:
            if not distributed:
                raise failures[0]
            over_count = len(failures) > tolerated[1]
            over_percentage = 100 * len(failures) / max(1, len(items)) > tolerated[0]
            if over_count and over_percentage:
                raise StatesError(
                    "States.ExceedToleratedFailureThreshold",
                    "The specified tolerated failure threshold was exceeded",
                )
        _check_size(results, f"Map {name!r} result")
        return results

    def _child(self, map_run: MapRun, processor: dict[str, Any], value: Any, context: dict[str, Any]) -> Any:
        """One item of a distributed Map: a child execution of its own, listed under the Map Run."""
        parent = self.execution.machine
        machine = StateMachine(parent.logical_id, f"{parent.name}/{map_run.label}", processor, parent.role)
        child = Execution(machine, str(uuid.uuid4()), json.dumps(value))
        child.stopped = self.execution.stopped
        with self.service._lock:
            map_run.children.append(child)
            self.service.executions[child.arn] = child
        try:
            result = _Run(self.service, child, context).states(processor, value, context)
            self._close_child(child, "SUCCEEDED", output=json.dumps(result))
            return result
        except StatesError as failure:
            self._close_child(child, "FAILED", error=failure.error, cause=failure.cause)
            raise
        except Aborted:
            self._close_child(child, "ABORTED")
            raise

    def _close_child(self, child: Execution, status: str, **details: Any) -> None:
        with self.service._lock:
            if child.status == "RUNNING":  # a child aborted with its parent stays aborted
                child.status, child.stop = status, time.time()
                for key, value in details.items():
                    setattr(child, key, value)
        child.done.set()

    def _read_items(self, name: str, reader: dict[str, Any], data: Any, context: dict[str, Any]) -> Any:
        if not re.fullmatch(r"arn:aws:states:::s3:getObject", reader.get("Resource", "")):
            raise Unsupported(f"Map {name!r}: ItemReader {reader.get('Resource')}")
        if reader.get("ReaderConfig", {}).get("InputType") != "JSON":
            raise Unsupported(f"Map {name!r}: ItemReader input type {reader.get('ReaderConfig')}")
        where = parameters(reader["Parameters"], data, context)
        s3 = self.service.s3_client(self.execution.machine.role)
        try:
            body = s3.get_object(Bucket=where["Bucket"], Key=where["Key"])["Body"].read()
        except Exception as error:  # what the Map run reports
            raise StatesError("States.ItemReaderFailed", f"{where}: {error}") from error
        return json.loads(body)


# --- paths and parameters --------------------------------------------------------------------------------------
_SEGMENT = re.compile(r"\.([A-Za-z0-9_@-]+)|\[(\d+)\]")


def select(path: str | None, data: Any, context: dict[str, Any]) -> Any:
    if path is None:
        return {}
    root, rest = (context, path[2:]) if path.startswith("$$") else (data, path[1:])
    if not path.startswith("$"):
        raise Unsupported(f"path {path!r}")
    value = root
    position = 0
    while position < len(rest):
        match = _SEGMENT.match(rest, position)
        if match is None:
            raise Unsupported(f"path {path!r}")
        try:
            value = value[match.group(1)] if match.group(1) is not None else value[int(match.group(2))]
        except (KeyError, IndexError, TypeError):
            raise StatesError("States.Runtime", f"path {path!r} not found in the input") from None
        position = match.end()
    return value


def place(path: str | None, data: Any, result: Any) -> Any:
    if path is None:
        return data
    if path == "$":
        return result
    if not re.fullmatch(r"\$(\.[A-Za-z0-9_-]+)+", path):
        raise Unsupported(f"ResultPath {path!r}")
    output = copy.deepcopy(data)
    target = output
    *parents, last = path[2:].split(".")
    for key in parents:
        target = target.setdefault(key, {})
    target[last] = result
    return output


def parameters(template: Any, data: Any, context: dict[str, Any]) -> Any:
    if isinstance(template, dict):
        out = {}
        for key, value in template.items():
            if key.endswith(".$"):
                if not isinstance(value, str) or not value.startswith("$"):
                    raise Unsupported(f"intrinsic function {value!r}")
                out[key[:-2]] = select(value, data, context)
            else:
                out[key] = parameters(value, data, context)
        return out
    if isinstance(template, list):
        return [parameters(value, data, context) for value in template]
    return template


def _matches(error_equals: list[str], error: str) -> bool:
    for name in error_equals:
        if name == error:
            return True
        if name == "States.ALL" and error != "States.Runtime":
            return True
        if name == "States.TaskFailed" and error not in ("States.Timeout", "States.Runtime"):
            return True
    return False


def _choice(rule: dict[str, Any], data: Any, context: dict[str, Any]) -> bool:
    if "And" in rule:
        return all(_choice(r, data, context) for r in rule["And"])
    if "Or" in rule:
        return any(_choice(r, data, context) for r in rule["Or"])
    if "Not" in rule:
        return not _choice(rule["Not"], data, context)
    try:
        value = select(rule["Variable"], data, context)
    except StatesError:
        return "IsPresent" in rule and rule["IsPresent"] is False
    for operator in ("StringEquals", "NumericEquals", "BooleanEquals"):
        if operator in rule:
            return bool(value == rule[operator])
    if "IsPresent" in rule:
        return bool(rule["IsPresent"])
    raise Unsupported(f"choice rule {sorted(rule)}")


def _check_size(value: Any, what: str) -> None:
    if len(json.dumps(value).encode()) > PAYLOAD_LIMIT:
        raise StatesError("States.DataLimitExceeded", f"{what} exceeds 256 KB")


def _check_definition(definition: dict[str, Any], where: str) -> None:
    """Refuse, at creation, a definition with states the interpreter would not run."""
    known = {"Task", "Map", "Pass", "Choice", "Wait", "Succeed", "Fail"}
    for name, state in definition["States"].items():
        if state["Type"] not in known:
            raise Unsupported(f"{where}: state {name!r} of type {state['Type']}")
        for nested in ("ItemProcessor", "Iterator"):
            if nested in state:
                _check_definition(state[nested], where)


def _api_error(code: str, message: str) -> tuple[int, dict[str, str], bytes]:
    body = json.dumps({"__type": code, "message": message}).encode()
    return 400, {"Content-Type": "application/x-amz-json-1.0", "x-amzn-ErrorType": code}, body


def iso(timestamp: float) -> str:
    return datetime.datetime.fromtimestamp(timestamp, datetime.UTC).isoformat()
