"""The Hub token, read from Secrets Manager (or the shell's HF_TOKEN) at run time: never from an event, never
logged, never echoed in an error, even a malformed one."""

from __future__ import annotations

import json
from typing import Any

from weights_copy.errors import CopyError


def read_hub_token(secrets: Any, secret_id: str | None) -> str | None:
    """The secret's string: a bare token, or JSON with ``HF_TOKEN`` or ``token``; surrounding whitespace (a
    trailing CR/LF) dropped in every form."""
    if not secret_id:
        return None
    source = f"secret {secret_id}"
    value = secrets.get_secret_value(SecretId=secret_id)["SecretString"].strip()
    if value.startswith("{"):
        value = _token_from_json(value, source)
    return normalise_token(value, source)


def normalise_token(value: str | None, source: str) -> str | None:
    """``value`` without surrounding whitespace, or None when empty. A token is printable ASCII without spaces:
    anything else (a CR/LF inside, a pasted typographic quote) is refused by position, never by value."""
    token = (value or "").strip()
    bad = next((i for i, char in enumerate(token) if not 33 <= ord(char) <= 126), None)
    if bad is not None:
        raise CopyError(
            f"the Hub token in {source} has a control, space or non-ASCII character at position {bad + 1} of "
            f"{len(token)}: store the token alone, on one line"
        )
    return token or None


def _token_from_json(text: str, source: str) -> str:
    # Never raise inside ``except``: the JSON error holds the whole secret (``doc``) and would ride along as context.
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise CopyError(f"{source} starts with '{{' but is not a JSON object: store the token, or JSON with HF_TOKEN")
    value = data.get("HF_TOKEN") or data.get("token") or ""
    if not isinstance(value, str):
        raise CopyError(f"{source}: HF_TOKEN/token is {type(value).__name__}, not a string")
    return value
