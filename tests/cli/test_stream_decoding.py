"""SSE decoding, TGI event parsing and the reasoning split hold wherever the bytes or tokens are cut."""

from __future__ import annotations

import pytest

from tgi_sagemaker.cli.client.payloads import Sampling, parse_event, request_body
from tgi_sagemaker.cli.client.reasoning import ReasoningSplitter, Split
from tgi_sagemaker.cli.client.sse import SseDecoder
from tgi_sagemaker.cli.client.streaming import WakeUpWait, call_waking_up
from tgi_sagemaker.cli.client.transports import EndpointError, NoCapacity

STREAM = (
    'data:{"a":1}\n\n'  # TGI: no space after the colon
    'data: {"b":"é 漢"}\r\n\r\n'  # a space, CRLF, multi-byte characters
    ": keep-alive comment\n\n"
    "event: message\ndata: line one\ndata: line two\n\n"
    "data: [DONE]\n\n"
).encode()
EVENTS = ['{"a":1}', '{"b":"é 漢"}', "line one\nline two", "[DONE]"]


@pytest.mark.parametrize("cut", range(len(STREAM) + 1))
def test_sse_events_survive_any_cut(cut: int) -> None:
    decoder = SseDecoder()
    events = decoder.feed(STREAM[:cut]) + decoder.feed(STREAM[cut:])
    assert events == EVENTS
    assert decoder.close() == []


def test_sse_byte_by_byte_and_a_missing_final_blank_line() -> None:
    decoder = SseDecoder()
    events = [event for byte in STREAM for event in decoder.feed(bytes([byte]))]
    assert events == EVENTS
    assert decoder.feed(b'data:{"tail":true}\n') == []
    assert decoder.close() == ['{"tail":true}']


def test_chat_events_give_text_then_the_servers_counts() -> None:
    token = parse_event(
        "messages", '{"choices":[{"index":0,"delta":{"role":"assistant","content":"Hi"},"finish_reason":null}]}'
    )
    assert (token.text, token.is_token, token.generated_tokens) == ("Hi", True, None)
    usage = parse_event("messages", '{"choices":[],"usage":{"prompt_tokens":7,"completion_tokens":3}}')
    assert (usage.is_token, usage.generated_tokens, usage.input_tokens) == (False, 3, 7)
    assert parse_event("messages", "[DONE]").done


@pytest.mark.parametrize(
    ("data", "token", "text", "reasoning"),
    [
        ('{"choices":[{"index":0,"delta":{"role":"assistant"},"finish_reason":null}]}', False, "", ""),
        ('{"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}', False, "", ""),  # vLLM's first
        ('{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":null}', False, "", ""),
        ('{"choices":[{"index":0,"delta":{"content":null},"finish_reason":"length"}]}', False, "", ""),
        ('{"choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}', True, "Hi", ""),
        ('{"choices":[{"index":0,"delta":{"reasoning_content":"Hm"}}]}', True, "", "Hm"),  # SGLang, older vLLM
        ('{"choices":[{"index":0,"delta":{"reasoning":"Hm","content":null}}]}', True, "", "Hm"),  # vLLM 2026
    ],
)
def test_a_chat_chunk_is_a_token_when_it_carries_text_or_reasoning(
    data: str, token: bool, text: str, reasoning: str
) -> None:
    event = parse_event("messages", data)
    assert (event.is_token, event.text, event.reasoning) == (token, text, reasoning)


def test_a_last_chunk_with_finish_and_usage_gives_counts_but_no_token() -> None:
    """A server may put the usage on the finish chunk itself rather than on a chunk of its own."""
    usage = '"usage":{"prompt_tokens":9,"completion_tokens":4}'
    data = '{"choices":[{"index":0,"delta":{},"finish_reason":"length"}],' + usage + "}"
    event = parse_event("messages", data)
    assert (event.is_token, event.finish_reason, event.generated_tokens, event.input_tokens) == (False, "length", 4, 9)


def test_generate_events_skip_special_tokens_and_read_details() -> None:
    special = parse_event("generate", '{"token":{"id":2,"text":"</s>","special":true},"details":null}')
    assert (special.text, special.is_token) == ("", True)
    last = parse_event(
        "generate",
        '{"token":{"id":5,"text":"!","special":false},"generated_text":"Hi!",'
        '"details":{"finish_reason":"length","generated_tokens":2,"input_length":4}}',
    )
    assert (last.text, last.generated_tokens, last.input_tokens, last.finish_reason, last.done) == (
        "!",
        2,
        4,
        "length",
        True,
    )


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ('{"error":"Input validation error","error_type":"validation"}', "validation: Input validation error"),
        ("not json", "not JSON"),
        ("[1, 2]", "unexpected event"),
    ],
)
def test_error_events_are_reported(data: str, error: str) -> None:
    assert error in (parse_event("generate", data).error or "")


def test_request_bodies_ask_for_the_servers_token_counts() -> None:
    chat = request_body("messages", "hi", Sampling(max_new_tokens=5, seed=3), system="be brief")
    assert chat["stream_options"] == {"include_usage": True}
    assert chat["messages"][0] == {"role": "system", "content": "be brief"}
    assert (chat["max_tokens"], chat["seed"], chat["stream"]) == (5, 3, True)
    generate = request_body("generate", "hi", Sampling(max_new_tokens=5, temperature=0))
    assert generate["parameters"]["details"] is True
    assert generate["parameters"]["do_sample"] is False
    assert "seed" not in generate["parameters"]


R1_TOKENS = ["Okay", ", let", " me", " think", ".\n", "</", "think", ">", "\n\n", "The", " answer", " is 4."]
R1_SPLIT = Split(reasoning="Okay, let me think.", answer="The answer is 4.")


def _split_with_cut(text: str, cut: int, *, enabled: bool = True) -> tuple[Split, list[str]]:
    splitter = ReasoningSplitter(enabled=enabled)
    segments = splitter.feed(text[:cut]) + splitter.feed(text[cut:])
    return splitter.finish(), [segment.kind for segment in segments]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("".join(R1_TOKENS), R1_SPLIT),  # current R1 templates: the prompt opened the thought
        ("<think>\n" + "".join(R1_TOKENS), R1_SPLIT),  # older templates: both tags in the output
        ("Plain answer, no thinking.", Split(reasoning="", answer="Plain answer, no thinking.")),
        ("<think>Out of tokens mid-thought", Split(reasoning="Out of tokens mid-thought", answer="")),
    ],
)
def test_reasoning_split_is_the_same_wherever_tokens_are_cut(text: str, expected: Split) -> None:
    for cut in range(len(text) + 1):
        assert _split_with_cut(text, cut)[0] == expected


def test_segments_stream_with_their_kind_as_soon_as_it_is_known() -> None:
    splitter = ReasoningSplitter()
    kinds = [(segment.kind, segment.text) for token in R1_TOKENS for segment in splitter.feed(token)]
    assert kinds[0] == ("undecided", "Okay")
    assert ("answer", "The") in kinds
    assert all(kind != "answer" for kind, _ in kinds[: kinds.index(("answer", "The"))])
    tagged = ReasoningSplitter()
    assert [segment.kind for segment in tagged.feed("<think>hmm")] == ["reasoning"]


def test_splitting_off_treats_everything_as_the_answer() -> None:
    split, kinds = _split_with_cut("a</think>b", 3, enabled=False)
    assert split == Split(reasoning="", answer="a</think>b")
    assert set(kinds) == {"answer"}


class _FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.mark.parametrize(("interval", "sleeps"), [(15.0, [10.0]), (4.0, [4.0, 4.0, 2.0])])
def test_the_wake_up_wait_uses_all_its_time_then_tries_once_more(interval: float, sleeps: list[float]) -> None:
    """Deadline 10 s: an interval longer than what is left waits what is left, then a last try at the deadline."""
    fake = _FakeTime()
    calls: list[float] = []
    waits: list[WakeUpWait] = []

    def never_up() -> None:
        calls.append(fake.now)
        raise NoCapacity("no capacity")

    with pytest.raises(EndpointError, match=r"still no capacity after 10 s \(deadline 10 s\)"):
        call_waking_up(
            never_up, deadline_s=10, interval_s=interval, on_wait=waits.append, sleep=fake.sleep, clock=lambda: fake.now
        )
    assert fake.sleeps == sleeps
    assert calls[-1] == 10.0  # the last try is at the deadline
    assert [wait.retry_in_s for wait in waits] == sleeps


def test_the_wake_up_wait_returns_what_the_call_gives_once_a_copy_is_up() -> None:
    fake = _FakeTime()
    answers: list[str | None] = [None, None, "answer"]

    def wakes_up() -> str:
        answer = answers.pop(0)
        if answer is None:
            raise NoCapacity("no capacity")
        return answer

    result = call_waking_up(wakes_up, deadline_s=60, interval_s=15, on_wait=lambda _: None, sleep=fake.sleep)
    assert result == "answer" and fake.sleeps == [15, 15]
