"""Server-sent events, decoded incrementally from byte chunks cut anywhere (SageMaker payload parts are)."""

from __future__ import annotations


class SseDecoder:
    """Feed bytes, get the ``data`` of each complete event (lines joined with ``\\n``).

    Follows the WHATWG rules that matter here: ``data:`` with or without one space after the colon (TGI writes
    none), LF/CRLF/CR line ends, ``:`` comment lines ignored, an event ends at a blank line.
    """

    def __init__(self) -> None:
        self._pending = b""
        self._data: list[str] = []

    def feed(self, chunk: bytes) -> list[str]:
        self._pending += chunk
        events: list[str] = []
        while True:
            line = self._next_line()
            if line is None:
                return events
            if line == "":
                if self._data:
                    events.append("\n".join(self._data))
                    self._data = []
                continue
            field, _, value = line.partition(":")
            if field == "data":
                self._data.append(value[1:] if value.startswith(" ") else value)

    def close(self) -> list[str]:
        """The last event when the stream ended without its blank line."""
        return self.feed(b"\n\n") if self._pending or self._data else []

    def _next_line(self) -> str | None:
        """The next whole line (bytes.find, not a Python loop over every byte of the stream)."""
        ends = [index for index in (self._pending.find(b"\n"), self._pending.find(b"\r")) if index >= 0]
        if not ends:
            return None
        index = min(ends)
        if self._pending[index] == 0x0D and index + 1 == len(self._pending):
            return None  # a CR at the end may be the first half of CRLF: wait for the next chunk
        width = 2 if self._pending[index : index + 2] == b"\r\n" else 1
        line = self._pending[:index].decode("utf-8")
        self._pending = self._pending[index + width :]
        return line
