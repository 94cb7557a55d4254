"""The emulators are faithful: the real clients (huggingface_hub's InferenceClient, botocore) parse them, and
their faults reach a client as a real server's would (the openai client: test_openai_framing.py)."""

from __future__ import annotations

import http.client
import json
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, EventStreamError
from huggingface_hub import InferenceClient
from tgi_emulator import R1_SCRIPT, SageMakerRuntimeEmulator, TgiEmulator
from urllib3.exceptions import ProtocolError, ReadTimeoutError

GENERATE = {"inputs": "two words", "parameters": {"max_new_tokens": 6, "details": True}, "stream": True}


def test_huggingface_client_streams_chat_with_usage(tgi: TgiEmulator) -> None:
    client = InferenceClient(base_url=tgi.url)
    chunks = list(
        client.chat_completion(
            [{"role": "user", "content": "one two three"}],
            stream=True,
            max_tokens=8,
            stream_options={"include_usage": True},
        )
    )
    text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)
    assert text == "".join(R1_SCRIPT[:8])
    assert chunks[-2].choices[0].finish_reason == "length"
    assert (chunks[-1].choices, chunks[-1].usage.completion_tokens, chunks[-1].usage.prompt_tokens) == ([], 8, 3)


def test_huggingface_client_streams_generate_with_details(tgi: TgiEmulator) -> None:
    client = InferenceClient(base_url=tgi.url)
    events = list(client.text_generation("two words", stream=True, details=True, max_new_tokens=6))
    assert [event.token.text for event in events] == R1_SCRIPT[:6]
    assert events[-1].generated_text == "".join(R1_SCRIPT[:6])
    assert (events[-1].details.generated_tokens, events[-1].details.input_length) == (6, 2)


def test_huggingface_client_raises_tgi_errors(tgi: TgiEmulator) -> None:
    tgi.behaviour.failures.append("stream_error")
    client = InferenceClient(base_url=tgi.url)
    with pytest.raises(Exception, match="CUDA out of memory"):
        list(client.text_generation("two words", stream=True, details=True, max_new_tokens=6))


def _invoke(client: Any, body: dict[str, Any]) -> Any:
    return client.invoke_endpoint_with_response_stream(
        EndpointName="tgi-endpoint",
        InferenceComponentName="tgi-component",
        Body=json.dumps(body).encode(),
        ContentType="application/json",
    )


def test_botocore_reassembles_payload_parts_into_tgis_bytes(runtime_client: Any, tgi: TgiEmulator) -> None:
    response = _invoke(runtime_client, GENERATE)
    parts = [event["PayloadPart"]["Bytes"] for event in response["Body"]]
    assert len(parts) == 12  # six events, each cut in two, as SageMaker may cut them
    assert response["ContentType"] == "text/event-stream"
    connection = http.client.HTTPConnection(tgi.url.removeprefix("http://"))
    connection.request(
        "POST", "/generate_stream", body=json.dumps(GENERATE), headers={"Content-Type": "application/json"}
    )
    assert b"".join(parts) == connection.getresponse().read()


def test_botocore_parses_the_no_capacity_and_model_errors(
    runtime_client: Any, sagemaker: SageMakerRuntimeEmulator
) -> None:
    sagemaker.behaviour.failures.extend(["no_capacity", "status_500"])
    with pytest.raises(ClientError) as no_capacity:
        _invoke(runtime_client, GENERATE)
    assert no_capacity.value.response["Error"]["Code"] == "ValidationError"
    assert "no capacity" in no_capacity.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as model_error:
        _invoke(runtime_client, GENERATE)
    assert model_error.value.response["Error"]["Code"] == "ModelError"
    assert model_error.value.response["OriginalStatusCode"] == 500


def test_botocore_raises_the_model_stream_error_event(runtime_client: Any, sagemaker: SageMakerRuntimeEmulator) -> None:
    sagemaker.behaviour.failures.append("stream_error")
    response = _invoke(runtime_client, GENERATE)
    with pytest.raises(EventStreamError) as error:
        list(response["Body"])
    assert error.value.response["Error"]["Code"] == "ModelStreamError"


def test_unsigned_or_misaddressed_requests_are_refused(
    runtime_client: Any, sagemaker: SageMakerRuntimeEmulator
) -> None:
    unsigned = http.client.HTTPConnection(sagemaker.url.removeprefix("http://"))
    unsigned.request("POST", "/endpoints/tgi-endpoint/invocations-response-stream", body=json.dumps(GENERATE))
    answer = unsigned.getresponse()
    assert answer.status == 403 and answer.getheader("x-amzn-ErrorType", "").startswith("InvalidSignatureException")
    with pytest.raises(ClientError, match="not found"):
        runtime_client.invoke_endpoint_with_response_stream(
            EndpointName="tgi-endpoint", Body=b"{}", ContentType="application/json"
        )


def test_botocore_raises_the_internal_stream_failure_event(
    runtime_client: Any, sagemaker: SageMakerRuntimeEmulator
) -> None:
    sagemaker.behaviour.failures.append("internal_stream_failure")
    response = _invoke(runtime_client, GENERATE)
    with pytest.raises(EventStreamError) as error:
        list(response["Body"])
    assert error.value.response["Error"]["Code"] == "InternalStreamFailure"


@pytest.mark.parametrize(
    ("fault", "raised"),
    [("drop", "Response ended prematurely"), ("reset", "Connection reset by peer")],
)
def test_a_broken_connection_reaches_a_botocore_caller_as_urllib3s_own_error(
    runtime_client: Any, sagemaker: SageMakerRuntimeEmulator, fault: Any, raised: str
) -> None:
    """Mid-stream, botocore does not wrap urllib3's errors: whoever reads the event stream must catch them."""
    sagemaker.behaviour.failures.append(fault)
    response = _invoke(runtime_client, GENERATE)
    parts = []
    with pytest.raises(ProtocolError, match=raised):
        parts.extend(event["PayloadPart"]["Bytes"] for event in response["Body"])
    assert b"".join(parts).count(b"data:") == 3  # three tokens, then the fault


def test_a_stalled_stream_times_out_on_the_clients_read_timeout(sagemaker: SageMakerRuntimeEmulator) -> None:
    client = boto3.client(
        "sagemaker-runtime",
        endpoint_url=sagemaker.url,
        config=Config(read_timeout=0.5, retries={"max_attempts": 1, "mode": "standard"}),
    )
    sagemaker.behaviour.failures.append("stall")
    response = _invoke(client, GENERATE)
    with pytest.raises(ReadTimeoutError):
        list(response["Body"])


def test_the_opt_in_load_model_slows_a_request_that_arrives_while_others_stream(tgi: TgiEmulator) -> None:
    """bench/price_performance.py's curves rest on it: each request in flight on arrival adds its share."""
    import threading
    import time

    tgi.behaviour.ttft_s, tgi.behaviour.itl_s, tgi.behaviour.output_tokens = 0.3, 0.01, 5
    tgi.behaviour.slowdown_per_request_in_flight = 1.0
    first_token_after: dict[str, float] = {}

    def ask(name: str) -> None:
        connection = http.client.HTTPConnection(tgi.url.removeprefix("http://"), timeout=30)
        body = json.dumps({"inputs": "hi", "parameters": {"max_new_tokens": 5}, "stream": True})
        sent = time.perf_counter()
        connection.request("POST", "/generate_stream", body, {"Content-Type": "application/json"})
        response = connection.getresponse()
        response.readline()  # the first event's line: the first token
        first_token_after[name] = time.perf_counter() - sent
        response.read()

    alone = threading.Thread(target=ask, args=("alone",))
    alone.start()
    time.sleep(0.1)  # the first is in flight (waiting for its first token) when the second arrives
    ask("second")
    alone.join()
    assert first_token_after["alone"] >= 0.3 and first_token_after["second"] >= 0.6  # 1 + 1.0 x 1 in flight
    assert tgi.behaviour.in_flight == 0
