"""``/campaigns`` and ``/do-not-call`` through the app's test client: who may do what, and
every bad request answered 4xx with its reason."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from quart.testing import QuartClient

from bot.text.segmenter import Segmenter
from tests.conftest import ADMIN_HEADERS
from tests.web.test_access import build, logged_in

NUMBERS = "telnum,name\n13900000001,张三\n13900000002,李四\n".encode()
CREATE = "/campaigns?name=c1&flow=survey&task_id=1&hours=00:00-24:00&daily_cap=10"


async def test_an_admin_creates_reads_and_deletes_a_campaign(tmp_path: Path, segmenter: Segmenter) -> None:
    app = build(tmp_path, segmenter)
    async with app.test_app():
        client = QuartClient(app)
        created = await client.post(CREATE, data=NUMBERS, headers=ADMIN_HEADERS)
        assert created.status_code == 201, await created.get_data(as_text=True)
        body = await created.get_json()
        assert (body["name"], body["state"], body["numbers"]["waiting"]) == ("c1", "stopped", 2)
        assert body["rules"]["daily_cap"] == 10
        again = await client.post(CREATE, data=NUMBERS, headers=ADMIN_HEADERS)
        assert again.status_code == 409
        listed = await (await client.get("/campaigns", headers=ADMIN_HEADERS)).get_json()
        assert [c["name"] for c in listed["campaigns"]] == ["c1"]
        results = await client.get("/campaigns/c1/results.csv", headers=ADMIN_HEADERS)
        text = await results.get_data(as_text=True)
        assert results.headers["Content-Type"] == "text/csv; charset=utf-8"
        assert text.startswith("\ufefftelnum,name,state,attempts,")
        assert "13900000001,张三,waiting,0" in text
        started = await client.post("/campaigns/c1/start", headers=ADMIN_HEADERS)  # a log PBX: no GX CTI
        assert started.status_code == 409
        assert "GX CTI" in (await started.get_json())["error"]["message"]
        assert (await client.delete("/campaigns/c1", headers=ADMIN_HEADERS)).status_code == 204
        assert (await client.get("/campaigns/c1", headers=ADMIN_HEADERS)).status_code == 404


async def test_bad_requests_say_what_is_wrong(tmp_path: Path, segmenter: Segmenter) -> None:
    app = build(tmp_path, segmenter)
    async with app.test_app():
        client = QuartClient(app)

        async def problem(path: str, body: bytes = NUMBERS) -> tuple[int, str]:
            response = await client.post(path, data=body, headers=ADMIN_HEADERS)
            return response.status_code, (await response.get_json())["error"]["message"]

        assert await problem("/campaigns?flow=survey&task_id=1") == (400, '"name": Field required')
        assert (await problem("/campaigns?name=Bad Name&flow=survey&task_id=1"))[1].startswith(
            """"name": Value error, 'Bad Name' is not a campaign name"""
        )
        assert (await problem("/campaigns?name=c&flow=nope&task_id=1"))[1].startswith("no flow 'nope'")
        assert (await problem("/campaigns?name=c&flow=survey&task_id=1&hours=9-12"))[0] == 400
        assert (await problem("/campaigns?name=c&flow=survey&task_id=1&columns=" + quote("姓名")))[0] == 400
        status, message = await problem("/campaigns?name=c&flow=survey&task_id=1", b"telnum\nabc\n")
        assert (status, message) == (
            400,
            "c numbers:2: 'abc' is not a phone number — write its digits (13800138000)",
        )
        renamed = await client.post(
            "/campaigns?name=c&flow=survey&task_id=1&columns=" + quote("姓名=name"),
            data="telnum,姓名\n13900000001,张三\n".encode(),
            headers=ADMIN_HEADERS,
        )
        assert renamed.status_code == 201


async def test_viewers_read_admins_change(tmp_path: Path, segmenter: Segmenter) -> None:
    app = build(tmp_path, segmenter)
    async with app.test_app():
        client = QuartClient(app)
        assert (await client.get("/campaigns")).status_code == 401
        await client.post(CREATE, data=NUMBERS, headers=ADMIN_HEADERS)
        await logged_in(client, tmp_path, "chen", "viewer")
        assert (await client.get("/campaigns")).status_code == 200
        headers = {"X-CSRF-Token": "c"}
        assert (
            await client.post(CREATE.replace("c1", "c2"), data=NUMBERS, headers=headers)
        ).status_code == 403
        assert (await client.get("/campaigns/c1/results.csv")).status_code == 403
        assert (await client.post("/campaigns/c1/stop", headers=headers)).status_code == 403
        assert (
            await client.post("/do-not-call", json={"telnum": "13900000001"}, headers=headers)
        ).status_code == 403


async def test_the_do_not_call_list(tmp_path: Path, segmenter: Segmenter) -> None:
    app = build(tmp_path, segmenter)
    async with app.test_app():
        client = QuartClient(app)
        await client.post(CREATE, data=NUMBERS, headers=ADMIN_HEADERS)
        added = await client.post("/do-not-call", json={"telnum": "139-0000-0001"}, headers=ADMIN_HEADERS)
        assert await added.get_json() == {"telnum": "139****0001", "added": True}
        listed = await (await client.get("/do-not-call", headers=ADMIN_HEADERS)).get_json()
        assert [n["telnum"] for n in listed["numbers"]] == ["139****0001"]
        shown = await (await client.get("/campaigns/c1", headers=ADMIN_HEADERS)).get_json()
        assert (shown["numbers"]["dnc"], shown["numbers"]["waiting"]) == (1, 1)
        bad = await client.post("/do-not-call", json={"telnum": "abc"}, headers=ADMIN_HEADERS)
        assert bad.status_code == 400
        assert (await client.delete("/do-not-call/13900000001", headers=ADMIN_HEADERS)).status_code == 204
        assert (await client.delete("/do-not-call/13900000001", headers=ADMIN_HEADERS)).status_code == 404
