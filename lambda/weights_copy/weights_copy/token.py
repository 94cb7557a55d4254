"""The Hub token, read from Secrets Manager at run time: never from an event, never logged."""

from __future__ import annotations

import json
from typing import Any


def read_hub_token(secrets: Any, secret_id: str | None) -> str | None:
    """The secret's string: a bare token, or JSON with ``HF_TOKEN`` or ``token``."""
    if not secret_id:
        return None
    value: str = secrets.get_secret_value(SecretId=secret_id)["SecretString"].strip()
    if value.startswith("{"):
        data = json.loads(value)
        value = data.get("HF_TOKEN") or data.get("token") or ""
    return value or None
