"""The Hub token: every stored form normalised, a malformed one refused without echoing it, and no exception from
the HTTP layer able to carry a request header."""

from __future__ import annotations

import traceback
from typing import Any

import pytest
from hub_emulator import HubEmulator
from weights_copy.errors import CopyError
from weights_copy.http import HttpClient
from weights_copy.hub import HubApi
from weights_copy.token import normalise_token, read_hub_token

TOKEN = "hf_SecretTokenValue123"


class Secrets:
    def __init__(self, value: str) -> None:
        self.value = value

    def get_secret_value(self, SecretId: str) -> dict[str, Any]:
        return {"SecretString": self.value}


def _everything_about(error: BaseException) -> str:
    """Whatever a log line, a traceback or a serialised Lambda error could show of an exception and its chain."""
    seen, parts, current = set(), [], error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        parts += [str(current), repr(current), repr(current.args), repr(vars(current))]
        current = current.__cause__ or current.__context__
    parts.append("".join(traceback.format_exception(error)))
    return "\n".join(parts)


@pytest.mark.parametrize(
    "stored",
    [
        f"{TOKEN}\n",
        f"{TOKEN}\r\n",
        f"  {TOKEN}\t",
        f'{{"HF_TOKEN": "{TOKEN}\\n"}}',
        f'{{"HF_TOKEN": "{TOKEN}\\r\\n"}}\n',
        f'{{"token": " {TOKEN}\\r\\n"}}',
    ],
)
def test_every_stored_form_of_the_token_is_normalised(stored: str) -> None:
    assert read_hub_token(Secrets(stored), "hf/token") == TOKEN


@pytest.mark.parametrize("stored", ["", "  \n", '{"HF_TOKEN": ""}', "{}"])
def test_an_empty_secret_means_no_token(stored: str) -> None:
    assert read_hub_token(Secrets(stored), "hf/token") is None


@pytest.mark.parametrize(
    "stored",
    [
        f"{TOKEN[:8]}\n{TOKEN[8:]}",
        f'{{"HF_TOKEN": "{TOKEN[:8]}\\r\\n{TOKEN[8:]}"}}',
        f"{TOKEN[:8]}\x00{TOKEN[8:]}",
        f"{TOKEN[:8]} {TOKEN[8:]}",
        f"{TOKEN[:8]}\u2019{TOKEN[8:]}",
        f'{{"HF_TOKEN": 12, "x": "{TOKEN}"}}',
        f'{{"HF_TOKEN": "{TOKEN}", broken',
    ],
)
def test_a_malformed_token_is_refused_without_echoing_it(stored: str) -> None:
    with pytest.raises(CopyError, match="secret hf/token") as raised:
        read_hub_token(Secrets(stored), "hf/token")
    assert TOKEN[8:] not in _everything_about(raised.value)


def test_the_shell_token_variable_is_normalised_the_same_way() -> None:
    assert normalise_token(f"{TOKEN}\r\n", "HF_TOKEN") == TOKEN
    assert normalise_token(None, "HF_TOKEN") is None
    with pytest.raises(CopyError, match="HF_TOKEN") as raised:
        normalise_token(f"{TOKEN}\r\nX", "HF_TOKEN")
    assert TOKEN not in _everything_about(raised.value)


@pytest.mark.parametrize("bad", [f"Bearer {TOKEN}\n", f"Bearer {TOKEN}\r\n", f"Bearer {TOKEN}\u2019"])
def test_no_exception_from_the_http_layer_carries_a_request_header(hub: HubEmulator, bad: str) -> None:
    with pytest.raises(CopyError, match="Authorization") as raised:
        HttpClient().get(f"{hub.endpoint}/api/models/a/b/revision/main", {"Authorization": bad})
    assert TOKEN not in _everything_about(raised.value)


def test_a_hub_api_given_a_raw_token_fails_without_it_in_the_error(hub: HubEmulator) -> None:
    hub.add_repo("acme/tiny", {"config.json": b"{}"})
    with pytest.raises(CopyError) as raised:
        HubApi(hub.endpoint, f"{TOKEN}\n").snapshot("acme/tiny", "main")
    assert TOKEN not in _everything_about(raised.value)
