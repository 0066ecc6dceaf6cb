"""Robot recordings (GX manual §52.4) in the API and the console: the CTI's address in
each call, and who may download it. Streaming from a real CTI: tests/test_pbx_e2e.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from quart.testing import QuartClient

from bot.pbx.recordings import RobotRecordings
from bot.text.segmenter import Segmenter
from tests.conftest import ADMIN_HEADERS
from tests.loopback import unused_port
from tests.web.test_access import build, logged_in

GREETING = "/cti/ai?callid=rec-1%40192.168.1.82&telnum=13800138000&txt=ready2speak"


def test_the_address_is_the_manuals_with_the_call_id_encoded() -> None:
    recordings = RobotRecordings("http://10.0.0.2:12121/", timeout_seconds=1)
    assert (
        recordings.url("fd6a66a6-52da-4bcd-ade3-902aecb2a996@192.168.1.82")
        == "http://10.0.0.2:12121/Oms/FileDownServlet?robotcallid=fd6a66a6-52da-4bcd-ade3-902aecb2a996%40192.168.1.82"
    )


async def test_a_gx_call_names_its_recording_and_only_admins_may_fetch_it(
    tmp_path: Path, segmenter: Segmenter
) -> None:
    cti = f"http://127.0.0.1:{unused_port()}"  # nothing listens: a download is a 502
    app = build(tmp_path, segmenter, pbx="gx", gx_url=cti)
    async with app.test_app():
        client = QuartClient(app)
        assert (await client.get(GREETING)).status_code == 200
        call = await (await client.get("/calls/rec-1@192.168.1.82", headers=ADMIN_HEADERS)).get_json()
        assert call["recording_url"] == f"{cti}/Oms/FileDownServlet?robotcallid=rec-1%40192.168.1.82"
        assert call["direction"] == "inbound"
        failed = await client.get("/calls/rec-1@192.168.1.82/recording", headers=ADMIN_HEADERS)
        assert (failed.status_code, (await failed.get_json())["error"]["code"]) == (502, "cti_failed")
        unknown = await client.get("/calls/nobody/recording", headers=ADMIN_HEADERS)
        assert unknown.status_code == 404
        assert (await client.get("/calls/rec-1@192.168.1.82/recording")).status_code == 401
        await logged_in(client, tmp_path, "chen", "viewer")
        assert (await client.get("/calls/rec-1@192.168.1.82/recording")).status_code == 403
        shown = await (await client.get("/console/api/calls/rec-1@192.168.1.82")).get_json()
        assert shown["recording_url"] == call["recording_url"]  # its digits are not a number to mask


@pytest.mark.parametrize("settings", [{}, {"pbx": "hwd"}], ids=["log", "hwd"])
async def test_without_a_gx_cti_there_is_no_recording(
    tmp_path: Path, segmenter: Segmenter, settings: dict[str, str]
) -> None:
    if settings:
        settings = {
            **settings,
            "hwd_url": "http://127.0.0.1:9/dscom-api/public",
            "hwd_client_id": "c",
            "hwd_client_secret": "s",
            "hwd_username": "u",
            "hwd_password": "p",
        }
    app = build(tmp_path, segmenter, **settings)
    async with app.test_app():
        client = QuartClient(app)
        await client.get(GREETING)
        call = await (await client.get("/calls/rec-1@192.168.1.82", headers=ADMIN_HEADERS)).get_json()
        assert call["recording_url"] is None
        missing = await client.get("/calls/rec-1@192.168.1.82/recording", headers=ADMIN_HEADERS)
        assert missing.status_code == 404
        assert "GX CTI" in (await missing.get_json())["error"]["message"]
