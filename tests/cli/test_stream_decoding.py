"""SSE decoding, TGI event parsing and the reasoning split hold wherever the bytes or tokens are cut."""

from __future__ import annotations

import pytest

from tgi_sagemaker.cli.client.payloads import Sampling, parse_event, request_body
from tgi_sagemaker.cli.client.reasoning import ReasoningSplitter, Split
from tgi_sagemaker.cli.client.sse import SseDecoder

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
