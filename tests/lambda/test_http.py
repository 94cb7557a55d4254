"""The HTTP client on its own: bodies left unread, and a stop that ends reads blocked on a silent server."""

from __future__ import annotations

import threading

import pytest
from hub_emulator import HubEmulator
from weights_copy.errors import CopyCancelled
from weights_copy.http import HttpClient

MIB = 1024 * 1024


def _blob_url(hub: HubEmulator, data: bytes) -> str:
    commit = hub.add_repo("acme/blobs", {"model.safetensors": data})
    sha = hub.repos["acme/blobs"].commits[commit]["model.safetensors"].sha256
    return hub.sign(sha)


def test_a_body_left_unread_does_not_spoil_the_next_request(hub: HubEmulator) -> None:
    data = bytes(range(256)) * (8 * 4096)  # 8 MiB
    url = _blob_url(hub, data)
    client = HttpClient()
    with client.open(url) as response:
        assert response.status == 200 and response.content_length == len(data)  # not read: closed on exit
    assert client.get(url, {"Range": "bytes=5-9"}).body == data[5:10]
    with client.open(url, {"Range": "bytes=0-99"}) as small:
        assert small.status == 206  # not read either: drained on exit, the connection kept
    assert client.get(url, {"Range": "bytes=10-19"}).body == data[10:20]


def test_interrupt_ends_a_read_blocked_on_a_silent_server(hub: HubEmulator) -> None:
    url = _blob_url(hub, bytes(6 * MIB))
    hub.fail("stall", "/blobs/")  # half the body, then silence on an open connection
    client = HttpClient(timeout=3600)  # without interrupt() the read would wait an hour
    raised: list[BaseException] = []

    def read() -> None:
        try:
            client.get(url)
        except BaseException as error:
            raised.append(error)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    while not hub.requests["fault-stall"]:
        reader.join(0.05)
    client.interrupt()
    reader.join(120)  # a bound that only turns a hang into a failure
    hub.stalls_released.set()
    assert not reader.is_alive()
    assert len(raised) == 1 and isinstance(raised[0], CopyCancelled), raised
    with pytest.raises(CopyCancelled, match="stopped"):
        client.get(url)  # and nothing new starts
