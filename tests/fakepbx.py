"""``voicebot fake-pbx`` as a real process for tests: start it, drive its control API."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import httpx

from tests.loopback import unused_port
from tests.test_serve import VOICEBOT, wait_healthy


class FakePBX:
    """A running fake PBX: its base URL and its control API."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.hwd_url = f"{base}/dscom-api/public"
        self.http = httpx.Client(base_url=base, timeout=10)

    def fail(self, **failure: Any) -> None:
        self.http.post("/control/fail", json=failure).raise_for_status()

    def expire_tokens(self) -> None:
        self.http.post("/control/expire-tokens").raise_for_status()

    def requests(self, vendor: str | None = None) -> list[dict[str, Any]]:
        params = {"vendor": vendor} if vendor else {}
        records: list[dict[str, Any]] = self.http.get("/requests", params=params).json()
        return records

    def reset(self) -> None:
        self.http.post("/control/reset").raise_for_status()

    def push_call_records(self, url: str, **push: Any) -> dict[str, Any]:
        """Make the fake push call records to ``url`` as the CTI does (GX §31); what happened."""
        response = self.http.post("/control/push-call-records", json={"url": url, **push}, timeout=60)
        response.raise_for_status()
        answer: dict[str, Any] = response.json()
        return answer


def run_fake_pbx(workdir: Path, *extra: str) -> tuple[subprocess.Popen[bytes], str]:
    port = unused_port()
    base = f"http://127.0.0.1:{port}"
    with (workdir / "fake-pbx.log").open("wb") as log:
        process = subprocess.Popen(
            [VOICEBOT, "fake-pbx", "--port", str(port), *extra], stdout=log, stderr=subprocess.STDOUT
        )
    wait_healthy(base, process, workdir, path="/requests", log="fake-pbx.log")
    return process, base
