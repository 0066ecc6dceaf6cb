"""The flow and knowledge base that ``bench/uncached.py`` serves: answers that must be
synthesized when they are said, of three typical lengths.

- **Templated answers** read the caller's number back (``{{telnum}}``, a reference made
  of it): each call has its own number, so its answer is said for the first time. The
  three templates say about 10, 40 and 120 characters once normalised for the ear (the
  digits read one by one). The long one is four sentences; its last sentence has no
  variable, as in real prompts (a reminder, an instruction), so it is the same in every
  call.
- **Knowledge answers** are entries of a generated knowledge base, one entry per
  question asked, each answer said for the first time: about 10, 40 and 120 characters
  (the long ones four sentences). Their sentences differ from entry to entry.

Both are followed by the flow's menu question, a static prompt (cached at start), and
joined with it into one clip, as the sample flow does. The flow's ``wait:`` words are the
sample flow's (请稍等，我帮您查一下。).
"""

from __future__ import annotations

from pathlib import Path

import yaml

FLOW_NAME = "uncached"
LENGTHS = ("short", "medium", "long")
KINDS = ("template", "knowledge")

# What the caller says to get each templated answer (a keyword of the intent).
TEMPLATE_ASKS = {"short": "查一下尾号", "medium": "受理编号是多少", "long": "医保卡挂失"}

FLOW = """\
title: 首次合成基准
start: greeting

intents:
  tail_number:
    keywords: [尾号]
    examples: [查一下尾号, 尾号是多少]
  reference_number:
    keywords: [受理编号]
    examples: [受理编号是多少, 我的受理编号]
  card_loss:
    keywords: [挂失]
    examples: [医保卡挂失, 我要挂失]

defaults:
  silence:
    prompts: [您好，请问您还在吗？]
    then: menu
  no_match:
    then: knowledge
  wait:
    text: 请稍等，我帮您查一下。
    interruptible: false

steps:
  greeting:
    say: 您好，这里是医保服务热线，请问有什么可以帮您？
    ask: &menu
      tail_number: tail
      reference_number: reference
      card_loss: loss

  menu:
    say: 请问还有什么可以帮您？
    ask: *menu

  tail:
    set:
      tail: right(telnum, 4)
    say: 尾号{{tail}}，对吗？
    goto: menu

  reference:
    set:
      reference: digits(today) + right(telnum, 4)
    say: 您的号码是{{telnum}}，受理编号是{{reference}}。
    goto: menu

  loss:
    set:
      tail: right(telnum, 4)
      reference: digits(today) + right(telnum, 4)
    say: >-
      已为您办理医保卡临时挂失，受理编号是{{reference}}。挂失登记的手机号码是{{telnum}}，补卡时请携带身份证到医保窗口办理。新卡做好后，我们会发短信到尾号{{tail}}的手机。补卡期间，您可以用医保电子凭证在定点医院和药店正常结算。
    goto: menu

  knowledge:
    knowledge:
      as: kb
      then: menu
      not_found: menu
      on_error: menu
"""

CITIES = (
    "北京", "上海", "广州", "深圳", "杭州", "南京", "成都", "武汉", "西安", "重庆", "天津", "苏州",
    "长沙", "郑州", "青岛", "厦门", "合肥", "福州", "昆明", "济南", "沈阳", "大连", "宁波", "无锡",
)  # fmt: skip
ROADS = ("长安街", "人民路", "中山路", "解放路", "建设路", "和平路", "新华路", "胜利路")
HOURS = ("八点半", "九点", "八点", "九点半")


def knowledge_question(length: str, index: int) -> str:
    """What the caller asks to hear entry ``index`` of ``length``."""
    city, road = CITIES[index % len(CITIES)], ROADS[index % len(ROADS)]
    asked = {"short": "医保网点在哪", "medium": "医保中心几点上班", "long": "异地就医怎么备案"}[length]
    return f"{city}{road}{asked}"


def knowledge_answer(length: str, index: int) -> str:
    """The answer of entry ``index`` of ``length``: about 10, 40 or 120 characters."""
    city = CITIES[index % len(CITIES)]
    road = ROADS[index % len(ROADS)]
    hour = HOURS[index % len(HOURS)]
    if length == "short":
        return f"网点在{city}市{road}。"
    if length == "medium":
        return f"{city}医保中心工作日上午{hour}开始办公，周六和周日上午也可以到{road}窗口办理业务。"
    return (
        f"{city}参保人员去外地就医，可以先在{city}医保公众号或者{road}医保窗口办理备案。"
        f"备案时请准备好身份证和{city}定点医院开具的转诊证明。"
        f"备案成功以后，在就医地的定点医院看病，可以直接刷医保卡结算。"
        f"急诊没来得及备案的，出院后到{road}窗口补办即可。"
    )


def write(directory: Path, repeats: int) -> tuple[Path, Path]:
    """The flow into ``directory/flows`` and a knowledge base of ``repeats`` entries of each
    length into ``directory/kb``.

    Returns:
        The flows directory and the knowledge base's directory.
    """
    flows, kb = directory / "flows", directory / "kb"
    flows.mkdir(parents=True, exist_ok=True)
    kb.mkdir(parents=True, exist_ok=True)
    (flows / f"{FLOW_NAME}.yaml").write_text(FLOW, encoding="utf-8")
    entries = [
        {
            "id": f"{length}-{index}",
            "title": knowledge_question(length, index),
            "kind": "knowledge",
            "questions": [knowledge_question(length, index)],
            "answer": knowledge_answer(length, index),
        }
        for length in LENGTHS
        for index in range(repeats)
    ]
    text = yaml.safe_dump({"entries": entries}, allow_unicode=True, sort_keys=False)
    (kb / "bench.yaml").write_text(text, encoding="utf-8")
    return flows, kb


def template_text(length: str, telnum: str, today: str) -> str:
    """The templated answer of ``length`` as the flow writes it, for its spoken length."""
    tail, reference = telnum[-4:], today.replace("-", "") + telnum[-4:]
    steps = yaml.safe_load(FLOW)["steps"]
    step = {"short": "tail", "medium": "reference", "long": "loss"}[length]
    said: str = steps[step]["say"]
    return said.replace("{{tail}}", tail).replace("{{reference}}", reference).replace("{{telnum}}", telnum)
