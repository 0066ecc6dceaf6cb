"""The admin API: bearer token, changes searchable at once and written back to the files."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import yaml
from quart import Quart
from quart.testing import QuartClient as QuartTestClient
from quart.typing import TestClientProtocol as QuartClient

from bot.config import Settings
from bot.text.segmenter import Segmenter
from knowledge.app import create_kb_app
from knowledge.service import KnowledgeService

TOKEN = "s3cret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
NEW: dict[str, object] = {
    "id": "yiliao-huzhu",
    "title": "职工医疗互助",
    "kind": "faq",
    "questions": ["职工医疗互助怎么参加", "工会的医疗互助能报多少"],
    "keywords": ["医疗互助", "工会互助"],
    "answer": "职工医疗互助由工会统一办理，住院后可以按规定申请互助金。",
}


def _settings(tmp_path: Path, kb_dir: Path, token: str | None = TOKEN) -> Settings:
    return Settings(data_dir=tmp_path / "var", kb_dir=kb_dir, admin_token=token)


@pytest.fixture
def app(tmp_path: Path, kb_dir: Path, segmenter: Segmenter) -> Quart:
    return create_kb_app(_settings(tmp_path, kb_dir), segmenter=segmenter)


@pytest.fixture
async def client(app: Quart) -> AsyncIterator[QuartTestClient]:
    async with app.test_app():
        yield QuartTestClient(app)  # sends only the headers each test gives


async def _top_title(client: QuartClient, question: str) -> str | None:
    results = (await (await client.get("/kb/search", query_string={"q": question})).get_json())["results"]
    return results[0]["title"] if results else None


async def test_without_a_valid_token_nothing_changes(client: QuartClient) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}):
        response = await client.post("/kb/entries", json=NEW, headers=headers)
        assert response.status_code == 401
    assert (await client.get("/kb/export")).status_code == 401


async def test_without_an_admin_token_no_bearer_is_accepted(
    tmp_path: Path, kb_dir: Path, segmenter: Segmenter
) -> None:
    settings = Settings(data_dir=tmp_path / "var", kb_dir=kb_dir, admin_token=None, kb_admin_token=None)
    app = create_kb_app(settings, segmenter=segmenter)
    async with app.test_app():
        response = await QuartTestClient(app).post("/kb/entries", json=NEW, headers=AUTH)
    assert response.status_code == 401
    assert "VOICEBOT_ADMIN_TOKEN" in (await response.get_json())["error"]["message"]


async def test_the_deprecated_kb_admin_token_still_opens_the_admin_api(
    tmp_path: Path, kb_dir: Path, segmenter: Segmenter
) -> None:
    settings = Settings(data_dir=tmp_path / "var", kb_dir=kb_dir, admin_token=None, kb_admin_token=TOKEN)
    app = create_kb_app(settings, segmenter=segmenter)
    async with app.test_app():
        client = QuartTestClient(app)
        assert (await client.post("/kb/entries", json=NEW, headers=AUTH)).status_code == 201
        assert (await client.post("/kb/entries", json=NEW, headers={})).status_code == 401


async def test_create_update_delete_are_searchable_at_once_and_persisted(
    client: QuartClient, kb_dir: Path, segmenter: Segmenter
) -> None:
    assert await _top_title(client, "工会的医疗互助怎么参加") != "职工医疗互助"
    created = await client.post("/kb/entries", json=NEW, headers=AUTH)
    assert created.status_code == 201
    assert await _top_title(client, "工会的医疗互助怎么参加") == "职工医疗互助"
    assert (await client.post("/kb/entries", json=NEW, headers=AUTH)).status_code == 409

    changed = {**NEW, "answer": "职工医疗互助请向单位工会咨询。"}
    updated = await client.put(f"/kb/entries/{NEW['id']}", json=changed, headers=AUTH)
    assert updated.status_code == 200
    got = await (await client.get(f"/kb/entries/{NEW['id']}", headers=AUTH)).get_json()
    assert got["answer"] == "职工医疗互助请向单位工会咨询。"

    moved = await client.put(
        "/kb/entries/yidi-anzhi", json={"title": "异地安置", "answer": "新的回答。"}, headers=AUTH
    )
    assert moved.status_code == 200
    sample = yaml.safe_load((kb_dir / "yibao.yaml").read_text(encoding="utf-8"))
    assert next(e for e in sample["entries"] if e["id"] == "yidi-anzhi")["answer"] == "新的回答。"
    assert (kb_dir / "yibao.yaml").read_text(encoding="utf-8").startswith("# SAMPLE DATA")  # header kept

    # A fresh process reads what was written.
    reread = KnowledgeService(kb_dir)
    reread.load()
    assert reread.base.get("yiliao-huzhu").answer == "职工医疗互助请向单位工会咨询。"
    added = yaml.safe_load((kb_dir / "added.yaml").read_text(encoding="utf-8"))
    assert [e["id"] for e in added["entries"]] == [NEW["id"]]

    assert (await client.delete(f"/kb/entries/{NEW['id']}", headers=AUTH)).status_code == 204
    assert (await client.get(f"/kb/entries/{NEW['id']}", headers=AUTH)).status_code == 404
    assert (await client.delete(f"/kb/entries/{NEW['id']}", headers=AUTH)).status_code == 404
    assert await _top_title(client, "工会的医疗互助怎么参加") != "职工医疗互助"


@pytest.mark.parametrize(
    "entry",
    [
        {**NEW, "id": "has space"},
        {**NEW, "kind": "news"},
        {k: v for k, v in NEW.items() if k != "answer"},
        {**NEW, "children": ["no-such-entry"]},
        {**NEW, "surprise": 1},
    ],
)
async def test_invalid_entries_are_400_and_change_nothing(
    client: QuartClient, kb_dir: Path, entry: object
) -> None:
    response = await client.post("/kb/entries", json=entry, headers=AUTH)
    assert response.status_code == 400
    assert (await response.get_json())["error"]["code"] == "invalid_entry"
    assert not (kb_dir / "added.yaml").exists()


async def test_a_listed_child_cannot_be_deleted(client: QuartClient) -> None:
    response = await client.delete("/kb/entries/yidi-anzhi", headers=AUTH)
    assert response.status_code == 400
    assert "yidi-beian" in (await response.get_json())["error"]["message"]


async def test_put_requires_the_url_id(client: QuartClient) -> None:
    response = await client.put("/kb/entries/other-id", json=NEW, headers=AUTH)
    assert response.status_code == 400


async def test_export_and_import_round_trip_in_yaml_and_csv(client: QuartClient) -> None:
    exported_yaml = await (await client.get("/kb/export", headers=AUTH)).get_data(as_text=True)
    document = yaml.safe_load(exported_yaml)
    assert len(document["entries"]) >= 60
    assert document["synonyms"]
    csv_response = await client.get("/kb/export", query_string={"format": "csv"}, headers=AUTH)
    assert csv_response.content_type.startswith("text/csv")
    exported_csv = await csv_response.get_data(as_text=True)
    assert exported_csv.splitlines()[0] == "id,title,kind,questions,keywords,answer,children"

    again = await client.post("/kb/import", data=exported_yaml.encode(), headers=AUTH)
    assert await again.get_json() == {"created": 0, "updated": len(document["entries"])}
    rows = (
        "id,title,answer,questions\n"
        "new-csv,异地购药,在异地定点药店可以刷医保卡购药。,在外地药店买药能刷医保吗|异地药店刷卡\n"
    )
    imported = await client.post(
        "/kb/import", data=rows.encode(), headers={**AUTH, "Content-Type": "text/csv; charset=utf-8"}
    )
    assert await imported.get_json() == {"created": 1, "updated": 0}
    assert await _top_title(client, "在外地药店买药能刷医保吗") == "异地购药"
    bad = await client.post(
        "/kb/import", data=b"id,title\nx,y\n", query_string={"format": "csv"}, headers=AUTH
    )
    assert bad.status_code == 400


async def test_a_customers_history_for_agents(client: QuartClient) -> None:
    sender = "call-9userId13700137000"
    await client.post("/webhooks/rest/webhook", json={"sender": sender, "message": "医保卡丢了怎么补办"})
    response = await client.get("/kb/customers/13700137000/history", headers=AUTH)
    asked = (await response.get_json())["asked"]
    assert [a["title"] for a in asked] == ["医保卡挂失补办"]
    assert json.dumps(asked)  # plain JSON


def test_csv_cells_a_spreadsheet_would_run_are_neutralised_and_read_back() -> None:
    from knowledge.entries import dump_csv, parse_csv  # noqa: PLC0415

    (entry,) = parse_csv('id,title,answer\nf1,=HYPERLINK("x"),+86 10 1234\n', "t.csv").entries
    dumped = dump_csv([entry])
    assert "'=HYPERLINK" in dumped
    assert "'+86 10 1234" in dumped
    (again,) = parse_csv(dumped, "t.csv").entries
    assert (again.title, again.answer) == ('=HYPERLINK("x")', "+86 10 1234")
