"""The hooks' answers on the wire, from a real ``voicebot serve``: the CTI parses these
bytes, not a test client's view of them."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import FLOWS_DIR
from tests.loopback import unused_port
from tests.test_serve import start, stop, wait_healthy


@pytest.fixture(scope="module")
def address(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    port = unused_port()
    workdir: Path = tmp_path_factory.mktemp("hooks-serve")
    process = start(workdir, FLOWS_DIR, port)
    try:
        wait_healthy(f"http://127.0.0.1:{port}", process, workdir)
        yield "127.0.0.1", port
    finally:
        stop(process)
    assert process.returncode == 0


def raw_get(address: tuple[str, int], target: str) -> tuple[bytes, dict[bytes, bytes], bytes]:
    """One HTTP/1.0-style exchange on a plain socket: status line, headers as sent, body."""
    with socket.create_connection(address, timeout=10) as connection:
        connection.sendall(f"GET {target} HTTP/1.1\r\nHost: cti\r\nConnection: close\r\n\r\n".encode())
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    status, *lines = head.split(b"\r\n")
    headers = {
        name.strip().lower(): value.strip() for name, _, value in (line.partition(b":") for line in lines)
    }
    return status, headers, body


def test_the_ivr_answer_carries_the_manuals_exact_content_type(address: tuple[str, int]) -> None:
    status, headers, body = raw_get(address, "/cti/ivr?in1=773012345678901&opt=kuaidi&caller=808&id=wire-1")
    assert status.startswith(b"HTTP/1.1 200")
    assert headers[b"content-type"] == b"text/html;charset=UTF-8"
    assert body.decode("utf-8") == "您的申通快递包裹目前在上海浦东转运中心，状态：运输中。"


def test_the_route_answer_is_a_bare_number(address: tuple[str, int]) -> None:
    status, headers, body = raw_get(address, "/cti/route?caller=13800138000")
    assert status.startswith(b"HTTP/1.1 200")
    assert headers[b"content-type"] == b"text/plain; charset=utf-8"
    assert body == b"8001"
