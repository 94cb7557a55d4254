"""Values that look like credentials: refused wherever the config takes a secret's name or an environment value
(they would be written into the template), and never echoed back in a message."""

from __future__ import annotations

import re
from typing import Any

REDACTED = "***"

# Shapes of credentials that are not names: each match is replaced, never shown.
_CREDENTIAL_PATTERNS = [
    re.compile(r"(?<![A-Za-z0-9])hf_[A-Za-z0-9]{30,}"),  # Hugging Face user access token
    re.compile(r"(?<![A-Za-z0-9])api_org_[A-Za-z0-9]{30,}"),  # Hugging Face organization token (legacy)
    re.compile(r"(?<![A-Za-z0-9])(AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])"),  # AWS access key id
    re.compile(r"(?<![A-Za-z0-9])(gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})"),  # GitHub
    re.compile(r"(?<![A-Za-z0-9])sk-[A-Za-z0-9_-]{20,}"),  # OpenAI-style API keys
    re.compile(r"(?<![A-Za-z0-9])xox[abprs]-[A-Za-z0-9-]{10,}"),  # Slack
    re.compile(r"eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\."),  # JSON web token
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
]


def looks_like_credential(value: Any) -> bool:
    """True for a string (or a list/mapping holding one) with the shape of a token, key or password hash."""
    if isinstance(value, str):
        return any(_is_credential(match.group(0)) for p in _CREDENTIAL_PATTERNS for match in p.finditer(value))
    if isinstance(value, dict):
        return any(looks_like_credential(key) or looks_like_credential(item) for key, item in value.items())
    if isinstance(value, list | tuple):
        return any(looks_like_credential(item) for item in value)
    return False


def redact(value: Any) -> Any:
    """``value`` with every string that looks like a credential replaced by ``***`` (mappings and lists too)."""
    if isinstance(value, str):
        return REDACTED if looks_like_credential(value) else value
    if isinstance(value, dict):
        return {redact(key): redact(item) for key, item in value.items()}
    if isinstance(value, list):
        return [redact(item) for item in value]
    if isinstance(value, tuple):
        return tuple(redact(item) for item in value)
    return value


def redact_text(text: str) -> str:
    """``text`` with each credential-shaped part replaced by ``***`` (for field paths built from config keys)."""
    for pattern in _CREDENTIAL_PATTERNS:
        text = pattern.sub(lambda match: REDACTED if _is_credential(match.group(0)) else match.group(0), text)
    return text


def _is_credential(match: str) -> bool:
    # A Hub token mixes upper- and lower-case letters; a secret *name* such as hf_productiontokenforllama does not.
    if match.startswith(("hf_", "api_org_")):
        body = match.split("_", 2)[-1] if match.startswith("api_org_") else match[3:]
        return any(c.isupper() for c in body) and any(c.islower() for c in body)
    return True
