"""Chinese in the request line, unencoded, as the GX CTI manual prints it (§52.3:
``txt=你好``), through a real ``voicebot serve`` on loopback.

Raw UTF-8 is answered exactly like its percent-encoded form. Raw GBK is refused by the
HTTP server (400, before the app sees it): a GBK deployment percent-encodes, or POSTs
the form body, which is read byte-exact (docs/cti.md).
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import ADMIN_HEADERS
from tests.test_serve import serving

HELLO_UTF8 = "你好".encode()
HELLO_GBK = "你好".encode("gbk")  # C4 E3 BA C3


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serving(tmp_path_factory.mktemp("raw-request-line")) as base:
        yield base


def exchange(base: str, request_line: bytes, headers: bytes = b"", body: bytes = b"") -> tuple[int, bytes]:
    """Send a request as it is, byte for byte; the status and body of the answer."""
    host, port = base.removeprefix("http://").split(":")
    head = request_line + b"\r\nHost: " + f"{host}:{port}".encode() + b"\r\nConnection: close\r\n"
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(head + headers + b"\r\n" + body)
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    head, _, body = reply.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


def get(base: str, query: bytes) -> tuple[int, bytes]:
    return exchange(base, b"GET /cti/ai?" + query + b" HTTP/1.1")


def turn(base: str, call_id: str, txt: bytes) -> tuple[int, bytes]:
    """Greet ``call_id``, then send ``txt`` (bytes as they go on the wire) as its answer."""
    greeting = httpx.get(f"{base}/cti/ai", params={"telnum": "1", "txt": "ready2speak", "callid": call_id})
    assert greeting.status_code == 200
    return get(base, b"telnum=1&callid=" + call_id.encode() + b"&txt=" + txt)


def texts(base: str, call_id: str) -> list[str | None]:
    return [t["text"] for t in httpx.get(f"{base}/calls/{call_id}", headers=ADMIN_HEADERS).json()["turns"]]


def test_raw_utf8_is_answered_like_its_percent_encoded_form(server: str) -> None:
    encoded = "".join(f"%{byte:02X}" for byte in HELLO_UTF8).encode()
    raw_status, raw_answer = turn(server, "raw-utf8", HELLO_UTF8)
    encoded_status, encoded_answer = turn(server, "encoded-utf8", encoded)
    assert raw_status == encoded_status == 200
    assert raw_answer == encoded_answer
    assert raw_answer.decode().startswith(f"{server}/audio/")
    assert texts(server, "raw-utf8") == texts(server, "encoded-utf8") == [None, "你好"]


def test_raw_gbk_is_refused_before_the_app(server: str) -> None:
    status, _ = turn(server, "raw-gbk", HELLO_GBK)
    assert status == 400
    assert texts(server, "raw-gbk") == [None]  # no turn: the app never saw it


@pytest.mark.parametrize("method", ["GET", "POST"], ids=["percent-encoded", "form-body"])
def test_gbk_a_cti_can_send(server: str, method: str) -> None:
    call_id = f"gbk-{method}"
    httpx.get(f"{server}/cti/ai", params={"telnum": "1", "txt": "ready2speak", "callid": call_id})
    if method == "GET":
        encoded = "".join(f"%{byte:02X}" for byte in HELLO_GBK).encode()
        status, answer = get(server, b"telnum=1&callid=" + call_id.encode() + b"&txt=" + encoded)
    else:
        body = b"telnum=1&callid=" + call_id.encode() + b"&txt=" + HELLO_GBK
        headers = b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n" % len(body)
        status, answer = exchange(server, b"POST /cti/ai HTTP/1.1", headers, body)
    assert status == 200
    assert answer.decode().startswith(f"{server}/audio/")
    assert texts(server, call_id) == [None, "你好"]
