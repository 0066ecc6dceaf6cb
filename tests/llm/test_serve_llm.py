"""``voicebot serve`` as a real process with the language model configured: the settings
read from the environment, the ``openai`` package imported then, a call's turn answered
with the model's intent and a grounded answer, both in the transcript."""

from __future__ import annotations

from pathlib import Path

from tests.llm.fake_openai import KEY, MODEL, FakeOpenAI, served_in_thread
from tests.test_pbx_e2e import serve
from tests.test_serve import stop

VAGUE = "我家那口子让我打个电话问问"  # no intent of yibao reaches the threshold
QUESTION = "我想问一下那个异地的事"  # "not found", with related entries
GROUNDED = "依据：yidi-anzhi\n退休后长期在外地住的，可以办理异地安置备案。"


def test_a_served_bot_asks_the_model_and_records_it(tmp_path: Path) -> None:
    fake = FakeOpenAI()

    def answer(body: dict[str, object]) -> str:
        if "response_format" not in body:
            return GROUNDED
        words = str(body["messages"][-1]["content"])  # type: ignore[index]
        return '{"intent": "card_loss"}' if VAGUE in words else '{"intent": "none"}'

    fake.answer = answer
    with served_in_thread(fake) as llm_url:
        settings = {"VOICEBOT_LLM_URL": llm_url, "VOICEBOT_LLM_MODEL": MODEL, "VOICEBOT_LLM_KEY": KEY}
        process, bot = serve(tmp_path, settings)
        try:
            bot.say("e2e-1", "ready2speak")
            bot.say("e2e-1", VAGUE)
            bot.say("e2e-2", "ready2speak")
            bot.say("e2e-2", QUESTION)
            intent_turn = bot.call("e2e-1")["turns"][-1]
            answer_turn = bot.call("e2e-2")["turns"][-1]
        finally:
            bot.http.close()
            stop(process)
    assert (intent_turn["intent"], intent_turn["intent_by"]) == ("card_loss", "model")
    assert intent_turn["step"] == "card_loss"
    assert answer_turn["reply"].startswith("退休后长期在外地住的，可以办理异地安置备案。")
    assert [e["result"] for e in answer_turn["llm"]] == ["ok", "ok"]  # none, then the answer
    log = (tmp_path / "serve.log").read_text(encoding="utf-8")
    assert "ready:" in log
    assert KEY not in log  # the key is never written
