"""Split DeepSeek-R1's ``<think>...</think>`` reasoning from its answer, token by token.

R1 and its distills think first. Their current chat templates end the prompt with ``<think>\\n``, so the
output often has no opening tag, only the closing one; older templates (and the generate API with a raw
prompt) produce both. Until ``</think>`` or a leading ``<think>`` is seen, text is *undecided*: most likely
reasoning, but an answer if the stream ends without ever closing a thought. A server with a reasoning parser
(vLLM, SGLang) sends the thought in its own field and the answer as content: :meth:`feed_reasoning` takes the
thought, and the content after it is the answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

OPEN, CLOSE = "<think>", "</think>"
Kind = Literal["reasoning", "answer", "undecided"]


@dataclass(frozen=True)
class Segment:
    kind: Kind
    text: str


@dataclass(frozen=True)
class Split:
    reasoning: str
    answer: str


class ReasoningSplitter:
    """Feed text deltas; get segments as soon as their kind is known. ``enabled=False``: all is answer."""

    def __init__(self, *, enabled: bool = True) -> None:
        self._state: Kind | Literal["start"] = "start" if enabled else "answer"
        self._held = ""  # text that may still be (part of) a tag
        self._after_close = False  # the blank lines between </think> and the answer are not the answer
        self._seen: dict[Kind, list[str]] = {"reasoning": [], "answer": [], "undecided": []}

    def feed(self, text: str) -> list[Segment]:
        self._held += text
        segments: list[Segment] = []
        while True:
            if self._state == "start":
                lead = self._held.lstrip()
                if lead.startswith(OPEN):
                    self._state, self._held = "reasoning", lead[len(OPEN) :]
                elif lead and not OPEN.startswith(lead):
                    self._state = "undecided"
                else:
                    return segments
            if self._state == "answer":
                if self._after_close:
                    self._held = self._held.lstrip()
                    self._after_close = not self._held
                self._emit(segments, "answer", self._held)
                self._held = ""
                return segments
            index = self._held.find(CLOSE)
            if index < 0:
                keep = _partial_tag_length(self._held)
                self._emit(segments, self._state, self._held[: len(self._held) - keep])
                self._held = self._held[len(self._held) - keep :]
                return segments
            self._emit(segments, self._state, self._held[:index])
            self._held = self._held[index + len(CLOSE) :]
            self._after_close = True
            if self._seen["undecided"]:  # a closing tag settles it: the undecided text was reasoning
                self._seen["reasoning"] += self._seen["undecided"]
                self._seen["undecided"] = []
            self._state = "answer"

    def feed_reasoning(self, text: str) -> list[Segment]:
        """A piece of thought the server split off itself: reasoning, and what follows as content is the answer."""
        if self._state == "start" and not self._held.strip():
            self._state, self._held, self._after_close = "answer", "", True
        segments: list[Segment] = []
        self._emit(segments, "reasoning", text)
        return segments

    def finish(self) -> Split:
        """The whole split once the stream has ended; undecided text that never closed is the answer."""
        state = "answer" if self._state == "start" else self._state
        if self._held:
            self._seen[state].append(self._held)
            self._held = ""
        answer = "".join(self._seen["answer"]) + "".join(self._seen["undecided"])
        return Split(reasoning="".join(self._seen["reasoning"]).strip(), answer=answer.strip())

    def _emit(self, segments: list[Segment], kind: Kind, text: str) -> None:
        if text:
            self._seen[kind].append(text)
            segments.append(Segment(kind, text))


def _partial_tag_length(text: str) -> int:
    """How many trailing characters could be the start of ``</think>``."""
    for length in range(min(len(CLOSE) - 1, len(text)), 0, -1):
        if CLOSE.startswith(text[-length:]):
            return length
    return 0
