"""Slot extraction from one utterance, written the way phone-line ASR writes callers.

Dates are resolved against two fixed call dates: Saturday 2026-11-21 (so 这周五 is
already past and 下周 starts on the 23rd) and Wednesday 2026-12-30 (so 月底,
下个月 and 大后天 cross into 2027).
"""

from __future__ import annotations

import datetime
import random
import re

import pytest

from bot.language.slots import (
    BUILTIN_KINDS,
    SlotContext,
    SlotMatch,
    SlotValue,
    id_card_check_char,
    make_slot_type,
    normalize_spoken_digits,
)

SATURDAY = datetime.date(2026, 11, 21)
YEAR_END = datetime.date(2026, 12, 30)  # a Wednesday

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def with_check(first17: str) -> str:
    """Complete an ID with its GB 11643-1999 check character, computed here independently."""
    return first17 + "10X98765432"[sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def speak(digits: str) -> str:
    """Read digits aloud the way callers do: 幺 for 1, 两 for 2, 拐 for 7."""
    return "".join("零幺两三四五六拐八九"[int(d)] if d.isdigit() else d for d in digits)


ID = with_check("32010219900307123")  # born 1990-03-07
ID_2 = with_check("44030419851120051")
ID_X = with_check("11010519491231002")  # the standard's own example, ends in X
ID_LEAP = with_check("51010720000229001")  # born on 29 February 2000
ID_FEB_30 = with_check("32010219900230123")  # right check digit, impossible birth date
ID_UNBORN = with_check("11010520301231002")  # born after the call
ID_WRONG = ID[:17] + ("0" if ID[17] != "0" else "1")


SPOKEN_DIGITS = ("零〇洞０", "一幺１", "二两２", "三３", "四４", "五５", "六６", "七拐７", "八８", "九９")


def extract(
    kind: str, text: str, options: dict[str, object] | None = None, today: datetime.date = SATURDAY
) -> SlotMatch | None:
    return make_slot_type(kind, options or {}).extract(text, SlotContext(today))


def value_of(
    kind: str, text: str, options: dict[str, object] | None = None, today: datetime.date = SATURDAY
) -> SlotValue | None:
    match = extract(kind, text, options, today)
    return None if match is None else match.value


def assert_value(actual: SlotValue | None, expected: SlotValue | None) -> None:
    # 3500 must not come back as 3500.0, nor True as 1.
    assert actual == expected
    assert type(actual) is type(expected)


# --- normalize_spoken_digits -------------------------------------------------


@pytest.mark.parametrize(
    ("text", "normalized"),
    [
        ("幺三八 幺二三四 五六七八", "13812345678"),
        ("一三八，一二三四，五六七八", "13812345678"),
        ("138-1234-5678", "13812345678"),
        ("138一二三四5678", "13812345678"),
        ("洞幺两三四五六拐八九〇", "01234567890"),
        ("号码是 幺三八 ，谢谢", "号码是 138 ，谢谢"),
        ("三 个人, 好", "3 个人, 好"),
        ("１２３ ４５", "12345"),
    ],
    ids=[
        "spaces",
        "commas",
        "dashes",
        "mixed",
        "all-spoken-forms",
        "edges-kept",
        "not-between-digits",
        "full-width",
    ],
)
def test_normalize_spoken_digits(text: str, normalized: str) -> None:
    result, index = normalize_spoken_digits(text)
    assert result == normalized
    assert len(index) == len(result)
    assert index == sorted(index)
    for char, offset in zip(result, index, strict=True):
        # Each character is either kept as it was or is the digit a spoken one stands for.
        assert char == text[offset] or (char.isdigit() and text[offset] in SPOKEN_DIGITS[int(char)])


def test_normalize_spoken_digits_maps_back_to_the_original() -> None:
    text = "电话 幺三八-12"
    result, index = normalize_spoken_digits(text)
    assert result == "电话 13812"
    assert [text[i] for i in index] == ["电", "话", " ", "幺", "三", "八", "1", "2"]


# --- phone -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("幺三八 幺二三四 五六七八", "13812345678"),
        ("一三八一二三四五六七八", "13812345678"),
        ("138 1234 5678", "13812345678"),
        ("138-1234-5678", "13812345678"),
        ("一三八，一二三四，五六七八", "13812345678"),
        ("138一二三四5678", "13812345678"),
        ("幺三八两三四五六拐八洞", "13823456780"),
        ("我的手机号是幺三八 幺二三四 五六七八谢谢", "13812345678"),
        ("13812345678", "13812345678"),
        ("手机 199 8888 0000 ，打这个", "19988880000"),
        ("138 1234 5678，两个人都用这个", "13812345678"),
        ("零五七幺 八八八八 八八八八", "057188888888"),
        ("座机010-12345678", "01012345678"),
        ("0755 8765 4321", "075587654321"),
        ("(0571) 8888 8888", "057188888888"),
    ],
    ids=[
        "spoken-yao",
        "spoken-yi",
        "spaced",
        "dashed",
        "asr-commas",
        "mixed",
        "liang-guai-dong",
        "in-sentence",
        "plain",
        "in-sentence-digits",
        "trailing-liang-after-comma",
        "landline-spoken",
        "landline-beijing",
        "landline-4-digit-area",
        "landline-brackets",
    ],
)
def test_phone(text: str, expected: str) -> None:
    assert_value(value_of("phone", text), expected)


@pytest.mark.parametrize(
    "text",
    [
        ID,
        "我的身份证是" + speak(ID),
        "1381234567",
        "12812345678",
        "138123456789",
        "88888888",
        "我不记得了",
    ],
    ids=[
        "id-card-digits",
        "spoken-id-card",
        "ten-digits",
        "bad-prefix",
        "twelve-digits",
        "no-area-code",
        "no-digits",
    ],
)
def test_phone_no_match(text: str) -> None:
    assert extract("phone", text) is None


def test_phone_two_numbers() -> None:
    matches = make_slot_type("phone", {}).extract_all(
        "13812345678，或者 幺三九 八七六五 四三二幺", SlotContext(SATURDAY)
    )
    assert [m.value for m in matches] == ["13812345678", "13987654321"]


# --- id_card -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (ID, ID),
        (speak(ID), ID),
        (f"帮我查一下身份证{speak(ID)}的报销进度", ID),
        (f"身份证 {ID[:6]} {ID[6:14]} {ID[14:]}", ID),
        (f"{speak(ID[:6])}，{speak(ID[6:14])}，{speak(ID[14:])}", ID),
        (ID_2, ID_2),
        (ID_X, ID_X),
        (ID_X.lower(), ID_X),
        (speak(ID_X[:17]) + "叉", ID_X),
        (speak(ID_X[:17]) + " 埃克斯", ID_X),
        (speak(ID_X[:17]) + "艾克斯", ID_X),
        (speak(ID_X[:17]) + "差", ID_X),
        (ID_LEAP, ID_LEAP),
    ],
    ids=[
        "digits",
        "spoken",
        "in-sentence",
        "spaced-groups",
        "asr-commas",
        "another",
        "check-x",
        "check-lower-x",
        "check-cha",
        "check-aikesi-spaced",
        "check-aikesi",
        "check-asr-cha",
        "born-on-leap-day",
    ],
)
def test_id_card(text: str, expected: str) -> None:
    assert_value(value_of("id_card", text), expected)


@pytest.mark.parametrize(
    "text",
    [ID_WRONG, ID_FEB_30, ID_UNBORN, ID[:17], ID + "5", "13812345678", ID_X[:17] + "Y"],
    ids=[
        "wrong-check-digit",
        "impossible-birth-date",
        "born-in-future",
        "17-digits",
        "19-digits",
        "phone",
        "bad-x",
    ],
)
def test_id_card_rejected(text: str) -> None:
    assert extract("id_card", text) is None


def test_id_card_check_char_is_the_standards() -> None:
    assert id_card_check_char("11010519491231002") == "X"
    assert id_card_check_char(ID[:17]) == ID[17]


# --- digits ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "options", "expected"),
    [
        ("工号幺二三四五六", {"min_length": 6, "max_length": 6}, "123456"),
        ("订单号 2024 0001", {}, "20240001"),
        ("验证码是 洞两拐九", {"min_length": 4, "max_length": 6}, "0279"),
        ("尾号是5678", {"min_length": 4, "max_length": 4}, "5678"),
        ("尾号 1234 5678", {"max_length": 4}, "1234"),
        ("12", {"min_length": 4}, None),
        ("帮我查一下", {}, None),
        ("两个人", {}, None),
        ("7", {}, "7"),
    ],
    ids=[
        "exact-length",
        "spaced",
        "dong-liang-guai",
        "in-sentence",
        "max-splits-at-separator",
        "too-short",
        "lone-yi-is-a-word",
        "lone-liang-is-a-word",
        "single-ascii-digit",
    ],
)
def test_digits(text: str, options: dict[str, object], expected: str | None) -> None:
    assert value_of("digits", text, options) == expected


# --- number ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("三千五", 3500),
        ("两万三", 23000),
        ("一百零五", 105),
        ("十二", 12),
        ("1.5", 1.5),
        ("一点五", 1.5),
        ("3500", 3500),
        ("三千五百块", 3500),
        ("大概两千吧", 2000),
        ("一万五千五", 15500),
        ("1.5万", 15000),
        ("一点五万", 15000),
        ("3,500", 3500),
        ("三千 五百", 3500),
        ("零点五", 0.5),
        ("3千5", 3500),
        ("二十五个", 25),
        ("０.７５", 0.75),
    ],
    ids=[
        "qian-elided",
        "wan-elided",
        "ling",
        "shi",
        "decimal",
        "spoken-decimal",
        "digits",
        "with-unit",
        "in-sentence",
        "wan-qian-elided",
        "decimal-wan",
        "spoken-decimal-wan",
        "thousands-comma",
        "asr-space",
        "zero-point",
        "mixed",
        "with-measure-word",
        "full-width",
    ],
)
def test_number(text: str, expected: int | float) -> None:
    assert_value(value_of("number", text), expected)


@pytest.mark.parametrize(
    ("text", "options", "expected"),
    [
        ("帮我查一下", {}, None),
        ("便宜一点", {}, None),
        ("千万别", {}, None),
        ("没有", {}, None),
        ("五个还是五十个", {"min": 10}, 50),
        ("三千五", {"min": 100, "max": 3000}, None),
        ("一点五", {"min": 1, "max": 2}, 1.5),
    ],
    ids=["yi-xia", "yi-dian", "qian-wan-bie", "no-number", "min-skips", "above-max", "within-float-bounds"],
)
def test_number_no_match_and_bounds(
    text: str, options: dict[str, object], expected: int | float | None
) -> None:
    assert value_of("number", text, options) == expected


# --- amount ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("三千五", 3500),
        ("两万三千块", 23000),
        ("1.5万", 15000),
        ("一万五", 15000),
        ("三块五", 3.5),
        ("三块五毛", 3.5),
        ("五百元", 500),
        ("2000块钱", 2000),
        ("一千二百三十四块五毛六", 1234.56),
        ("五毛钱", 0.5),
        ("三块零五", 3.05),
        ("一千二百三十四元五角六分", 1234.56),
        ("¥200", 200),
        ("还了 三千五百 块", 3500),
        ("大概一点五万元吧", 15000),
        ("十二块八", 12.8),
        ("1234.567", 1234.57),
        ("一块", 1),
    ],
    ids=[
        "bare-elided",
        "wan-with-kuai",
        "decimal-wan",
        "yi-wan-wu",
        "kuai-jiao",
        "kuai-jiao-mao",
        "yuan",
        "kuai-qian",
        "yuan-jiao-fen-colloquial",
        "mao-only",
        "kuai-ling-fen",
        "yuan-jiao-fen-formal",
        "currency-sign",
        "asr-spaces",
        "spoken-decimal-wan-yuan",
        "shi-er-kuai-ba",
        "rounded-to-cents",
        "yi-kuai-is-money",
    ],
)
def test_amount(text: str, expected: int | float) -> None:
    assert_value(value_of("amount", text), expected)


@pytest.mark.parametrize(
    ("text", "options"),
    [("我查一下", {}), ("不知道多少钱", {}), ("五块", {"min": 10})],
    ids=["yi-xia", "no-amount", "below-min"],
)
def test_amount_no_match(text: str, options: dict[str, object]) -> None:
    assert extract("amount", text, options) is None


# --- date ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("今天", "2026-11-21"),
        ("明天", "2026-11-22"),
        ("后天", "2026-11-23"),
        ("大后天", "2026-11-24"),
        ("昨天", "2026-11-20"),
        ("前天", "2026-11-19"),
        ("下周三", "2026-11-25"),
        ("下星期三", "2026-11-25"),
        ("下礼拜三", "2026-11-25"),
        ("下个星期一", "2026-11-23"),
        ("下周日", "2026-11-29"),
        ("这周五", "2026-11-20"),
        ("本周五", "2026-11-20"),
        ("这周日", "2026-11-22"),
        ("周五", "2026-11-27"),
        ("星期六", "2026-11-21"),
        ("礼拜天", "2026-11-22"),
        ("下下周一", "2026-11-30"),
        ("3月5号", "2027-03-05"),
        ("三月五号", "2027-03-05"),
        ("3月5日", "2027-03-05"),
        ("五月二十号", "2027-05-20"),
        ("五月二十", "2027-05-20"),
        ("12月31日", "2026-12-31"),
        ("十一月二十一号", "2026-11-21"),
        ("十一月二十号", "2027-11-20"),
        ("月底", "2026-11-30"),
        ("下个月底", "2026-12-31"),
        ("下月底", "2026-12-31"),
        ("下个月5号", "2026-12-05"),
        ("这个月5号", "2026-11-05"),
        ("2026年3月5日", "2026-03-05"),
        ("二零二六年三月五日", "2026-03-05"),
        ("2026-03-05", "2026-03-05"),
        ("明年3月5号", "2027-03-05"),
        ("15号", "2026-12-15"),
        ("21号", "2026-11-21"),
        ("二十五号", "2026-11-25"),
        ("我想约明天下午", "2026-11-22"),
        ("那就 3月 5号 吧", "2027-03-05"),
    ],
    ids=[
        "jintian",
        "mingtian",
        "houtian",
        "dahoutian",
        "zuotian",
        "qiantian",
        "next-week-zhou",
        "next-week-xingqi",
        "next-week-libai",
        "next-week-ge",
        "next-week-sunday",
        "this-week-past",
        "this-week-ben",
        "this-week-sunday",
        "bare-weekday-next",
        "bare-weekday-today",
        "libaitian",
        "week-after-next",
        "month-day",
        "month-day-spoken",
        "month-day-ri",
        "spoken-twenty",
        "no-hao-after-month",
        "later-this-year",
        "today-is-not-past",
        "past-rolls-to-next-year",
        "month-end",
        "next-month-end",
        "next-month-end-short",
        "next-month-day",
        "this-month-past-day",
        "full",
        "full-spoken",
        "iso",
        "next-year",
        "bare-day-past-next-month",
        "bare-day-today",
        "bare-day-spoken",
        "in-sentence",
        "asr-spaces",
    ],
)
def test_date(text: str, expected: str) -> None:
    assert_value(value_of("date", text), expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12月31日", "2026-12-31"),
        ("一月三号", "2027-01-03"),
        ("月底", "2026-12-31"),
        ("下个月底", "2027-01-31"),
        ("下个月5号", "2027-01-05"),
        ("5号", "2027-01-05"),
        ("大后天", "2027-01-02"),
        ("下周三", "2027-01-06"),
        ("周五", "2027-01-01"),
        ("这周一", "2026-12-28"),
        ("2月29号", None),
        ("31号", "2026-12-31"),
    ],
    ids=[
        "this-year-end",
        "next-january",
        "month-end-december",
        "next-month-end-crosses-year",
        "next-month-day-crosses-year",
        "bare-day-crosses-year",
        "dahoutian-crosses-year",
        "next-week-crosses-year",
        "bare-weekday-crosses-year",
        "this-week-monday",
        "no-leap-day-in-2027",
        "bare-31-in-december",
    ],
)
def test_date_at_year_end(text: str, expected: str | None) -> None:
    assert value_of("date", text, today=YEAR_END) == expected


@pytest.mark.parametrize(
    "text",
    ["31号", "2月30日", "5.20", "3号线", "下周", "下个月", "没空", "1012号"],
    ids=[
        "no-31st-in-november",
        "impossible",
        "dot-ambiguous",
        "subway-line",
        "week-no-day",
        "month-no-day",
        "none",
        "long-number",
    ],
)
def test_date_no_match(text: str) -> None:
    assert extract("date", text) is None


# --- time ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("下午三点半", "15:30"),
        ("上午十点", "10:00"),
        ("晚上八点", "20:00"),
        ("中午十二点", "12:00"),
        ("中午一点", "13:00"),
        ("三点一刻", "15:15"),
        ("九点三刻", "09:45"),
        ("15:30", "15:30"),
        ("15：30", "15:30"),
        ("下午3:30", "15:30"),
        ("九点四十五", "09:45"),
        ("十点二十分", "10:20"),
        ("十点零五", "10:05"),
        ("凌晨两点", "02:00"),
        ("凌晨十二点", "00:00"),
        ("晚上十二点", "00:00"),
        ("半夜一点", "01:00"),
        ("两点整", "14:00"),
        ("八点钟", "08:00"),
        ("十二点半", "12:30"),
        ("十五点三十", "15:30"),
        ("七点", "19:00"),
        ("下午十五点", "15:00"),
        ("１５：３０", "15:30"),
        ("早上七点", "07:00"),
        ("那就明天下午 三点 吧", "15:00"),
    ],
    ids=[
        "afternoon-half",
        "morning",
        "evening",
        "noon",
        "noon-one",
        "bare-quarter-is-pm",
        "three-quarters",
        "clock",
        "full-width-colon",
        "period-clock",
        "spoken-minutes",
        "spoken-minutes-fen",
        "ling-minutes",
        "early-morning",
        "midnight-lingchen",
        "midnight-wanshang",
        "after-midnight",
        "zheng",
        "dianzhong",
        "bare-noon-half",
        "24-hour-spoken",
        "bare-seven-is-pm",
        "24-hour-with-period",
        "full-width",
        "morning-seven",
        "in-sentence",
    ],
)
def test_time(text: str, expected: str) -> None:
    assert_value(value_of("time", text), expected)


@pytest.mark.parametrize(
    "text",
    ["快一点", "便宜一点儿", "二十五点", "十点七十分", "没时间"],
    ids=["a-little", "a-little-er", "hour-25", "minute-70", "none"],
)
def test_time_no_match(text: str) -> None:
    assert extract("time", text) is None


# --- yes_no --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("是", True),
        ("是的", True),
        ("对", True),
        ("对的对的", True),
        ("好", True),
        ("好的", True),
        ("可以", True),
        ("行", True),
        ("需要", True),
        ("要", True),
        ("没问题", True),
        ("嗯", True),
        ("嗯嗯，可以的", True),
        ("OK", True),
        ("有", True),
        ("不好意思，可以", True),
        ("不是", False),
        ("不对", False),
        ("不要", False),
        ("不用", False),
        ("不需要", False),
        ("不行", False),
        ("没有", False),
        ("算了", False),
        ("好的，不用了", False),
        ("嗯，我不需要", False),
        ("不，谢谢", False),
        ("你好", None),
        ("是不是要交钱", None),
        ("需不需要带身份证", None),
        ("可以吗", None),
        ("我有个问题", None),
        ("我在银行", None),
        ("我不知道", None),
    ],
    ids=[
        "shi",
        "shi-de",
        "dui",
        "dui-repeated",
        "hao",
        "hao-de",
        "keyi",
        "xing",
        "xuyao",
        "yao",
        "mei-wenti",
        "en",
        "en-keyi",
        "ok",
        "you",
        "sorry-then-yes",
        "bu-shi",
        "bu-dui",
        "bu-yao",
        "bu-yong",
        "bu-xuyao",
        "bu-xing",
        "mei-you",
        "suan-le",
        "negation-wins",
        "en-then-no",
        "bare-bu",
        "greeting",
        "a-not-a-question",
        "a-not-a-two-char-verb",
        "echo-question",
        "you-in-sentence",
        "bank",
        "dont-know",
    ],
)
def test_yes_no(text: str, expected: bool | None) -> None:
    match = extract("yes_no", text)
    assert (None if match is None else match.value) is expected


# --- enum ----------------------------------------------------------------------

CITIES: dict[str, object] = {"values": {"北京": ["北京市", "帝都"], "上海": ["上海市", "魔都"], "重庆": []}}


@pytest.mark.parametrize(
    ("text", "expected", "span_text"),
    [
        ("北京", "北京", "北京"),
        ("我在北京市", "北京", "北京市"),
        ("帝都", "北京", "帝都"),
        ("人在魔都", "上海", "魔都"),
        ("背景", "北京", "背景"),
        ("我在背景工作", "北京", "背景"),
        ("崇庆", "重庆", "崇庆"),
        ("上海市", "上海", "上海市"),
        ("广州", None, None),
        ("北", None, None),
    ],
    ids=[
        "canonical",
        "longest-synonym",
        "synonym",
        "synonym-in-sentence",
        "homophone",
        "homophone-in-sentence",
        "polyphone-homophone",
        "longest-wins",
        "unknown",
        "partial",
    ],
)
def test_enum(text: str, expected: str | None, span_text: str | None) -> None:
    match = extract("enum", text, CITIES)
    assert (None if match is None else (match.value, match.text)) == (
        None if expected is None else (expected, span_text)
    )


def test_enum_plain_list_and_case() -> None:
    assert value_of("enum", "我要 VIP 套餐", {"values": ["vip", "普通"]}) == "vip"
    assert value_of("enum", "ｖｉｐ", {"values": {"VIP": None}}) == "VIP"


def test_enum_extract_all_in_order() -> None:
    matches = make_slot_type("enum", CITIES).extract_all("先去魔都再回北京", SlotContext(SATURDAY))
    assert [m.value for m in matches] == ["上海", "北京"]


# --- regex ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        (r"AB\d{4}", "订单号AB1234谢谢", "AB1234"),
        (r"AB(\d{4})", "订单号AB1234谢谢", "1234"),
        (r"(?i)vip(\d)", "我是VIP3会员", "3"),
        (r"AB\d{4}", "没有订单", None),
        (r"\d*", "abc", None),
    ],
    ids=["whole-match", "group-one", "inline-flag", "no-match", "empty-matches-skipped"],
)
def test_regex(pattern: str, text: str, expected: str | None) -> None:
    assert value_of("regex", text, {"pattern": pattern}) == expected


def test_regex_group_span() -> None:
    match = extract("regex", "订单号AB1234谢谢", {"pattern": r"AB(\d{4})"})
    assert match == SlotMatch("1234", 5, 9, "1234")


# --- spans -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "options", "text", "span"),
    [
        ("phone", {}, "我的手机号是幺三八 幺二三四 五六七八谢谢", (6, 19)),
        ("phone", {}, "电话：138-1234-5678。", (3, 16)),
        ("id_card", {}, f"帮我查一下身份证{speak(ID)}的报销进度", (8, 26)),
        ("id_card", {}, f"号码 {speak(ID_X[:17])} 埃克斯 好的", (3, 24)),
        ("digits", {}, "工号 幺二三，四五六 对", (3, 10)),
        ("number", {}, "我要借 三千 五百 块", (4, 9)),
        ("amount", {}, "一共一千二百三十四块五毛六分钱吧", (2, 15)),
        ("date", {}, "那就下个月5号吧", (2, 7)),
        ("time", {}, "明天下午三点半可以", (2, 7)),
        ("yes_no", {}, "嗯，好的，不需要了", (5, 8)),
        ("enum", CITIES, "我在背景工作", (2, 4)),
    ],
    ids=[
        "phone",
        "phone-dashes",
        "id-card",
        "id-card-spoken-x",
        "digits",
        "number",
        "amount",
        "date",
        "time",
        "yes-no",
        "enum",
    ],
)
def test_span_in_original_text(
    kind: str, options: dict[str, object], text: str, span: tuple[int, int]
) -> None:
    match = extract(kind, text, options)
    assert match is not None
    assert (match.start, match.end) == span
    assert text[match.start : match.end] == match.text


# --- options and kinds -------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "options", "message"),
    [
        ("phonenumber", {}, "unknown slot type 'phonenumber'"),
        ("phone", {"country": "CN"}, "unknown option 'country'"),
        ("digits", {"min_length": 0}, "'min_length' must be a whole number >= 1"),
        ("digits", {"min_length": "6"}, "'min_length' must be a whole number"),
        ("digits", {"max_length": True}, "'max_length' must be a whole number"),
        ("digits", {"min_length": 8, "max_length": 4}, "'min_length' (8) is greater than 'max_length' (4)"),
        ("number", {"min": "zero"}, "'min' must be a number"),
        ("amount", {"min": 100, "max": 10}, "'min' (100) is greater than 'max' (10)"),
        ("enum", {}, "option 'values' is required"),
        ("enum", {"values": {"北京": "北京市"}}, "the synonyms of '北京' must be a list"),
        (
            "enum",
            {"values": {"北京": ["京城"], "南京": ["京城"]}},
            "'京城' is a synonym of both '北京' and '南京'",
        ),
        ("enum", {"values": {"": []}}, "must be non-empty text"),
        ("regex", {}, "option 'pattern' is required"),
        ("regex", {"pattern": "AB(\\d{4}"}, "'pattern' is not a valid regular expression: missing )"),
        ("regex", {"pattern": "[a-"}, "unterminated character set"),
    ],
    ids=[
        "unknown-kind",
        "unknown-option",
        "zero-length",
        "length-as-text",
        "length-as-bool",
        "min-above-max-length",
        "bound-as-text",
        "min-above-max",
        "enum-without-values",
        "synonyms-not-a-list",
        "duplicate-synonym",
        "empty-value",
        "regex-without-pattern",
        "regex-unbalanced",
        "regex-bad-set",
    ],
)
def test_bad_options(kind: str, options: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)) as raised:
        make_slot_type(kind, options)
    assert " — " in str(raised.value)  # every message says how to fix it


REQUIRED_OPTIONS: dict[str, dict[str, object]] = {"enum": CITIES, "regex": {"pattern": "x"}}


@pytest.mark.parametrize("kind", BUILTIN_KINDS, ids=BUILTIN_KINDS)
def test_every_builtin_kind_builds_and_finds_nothing_in_silence(kind: str) -> None:
    slot = make_slot_type(kind, REQUIRED_OPTIONS.get(kind, {}))
    assert slot.name == kind
    assert slot.extract("", SlotContext(SATURDAY)) is None
    assert slot.extract_all("……", SlotContext(SATURDAY)) == []


SUNDAY = datetime.date(2026, 11, 22)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("下周三", "2026-11-25"), ("这周五", "2026-11-20"), ("周日", "2026-11-22"), ("周一", "2026-11-23")],
    ids=["next-week-is-monday-based", "this-week-past", "bare-today", "bare-tomorrow"],
)
def test_date_on_a_sunday(text: str, expected: str) -> None:
    assert value_of("date", text, today=SUNDAY) == expected


FUZZ_ALPHABET = list(
    "零〇一二两三四五六七八九十百千万亿幺洞拐点.,，、 -:：0123456789年月日号周星期礼拜下上这本个底"
)
FUZZ_ALPHABET += list("今明后大前昨天午晚凌晨中半刻整分块元毛角钱¥叉X埃克斯是不对好没有要需北京背景魔都吗")


@pytest.mark.parametrize("kind", BUILTIN_KINDS, ids=BUILTIN_KINDS)
def test_random_text_never_raises_and_spans_hold(kind: str) -> None:
    slot = make_slot_type(kind, REQUIRED_OPTIONS.get(kind, {}))
    rng = random.Random(kind)  # reproducible per kind
    for today in (SATURDAY, YEAR_END, datetime.date(2024, 2, 29)):
        for _ in range(300):
            text = "".join(rng.choice(FUZZ_ALPHABET) for _ in range(rng.randint(0, 20)))
            previous_end = 0
            for match in slot.extract_all(text, SlotContext(today)):
                assert previous_end <= match.start < match.end
                assert text[match.start : match.end] == match.text
                previous_end = match.end


# --- issue 14: years, fused parts of day, quarters, 毛/分, words with numerals ----------


@pytest.mark.parametrize(
    ("kind", "text", "expected"),
    [
        ("date", "九八年三月五号", "1998-03-05"),
        ("date", "36年1月2号", "2036-01-02"),  # ten years ahead of 2026 at most
        ("date", "37年1月2号", "1937-01-02"),
        ("date", "一九九八年三月", None),  # a month is not a day: not this March
        ("date", "上上周三", "2026-11-04"),
        ("date", "上上个月2号", "2026-09-02"),
        ("date", "明晚", "2026-11-22"),
        ("time", "明晚八点半", "20:30"),
        ("time", "今早七点", "07:00"),
        ("time", "晚十点", "22:00"),
        ("time", "早一点", None),  # earlier, not 01:00
        ("time", "一点都不", None),
        ("time", "三点水", None),
        ("time", "十点十分", "10:10"),  # 十分 inside the time is its minutes
        ("time", "差一刻六点", "17:45"),
        ("time", "六点差五分", "17:55"),
        ("amount", "二十块零八毛", 20.8),
        ("amount", "三块零五", 3.05),
        ("amount", "八分钱", 0.08),
        ("amount", "九牛一毛", None),
        ("amount", "一块儿去", None),
        ("amount", "3,000万", 30000000),
        ("number", "第二个", None),
        ("number", "说一遍", None),
        ("number", "四川", None),
        ("number", "一心一意", None),
        ("number", "十万火急", None),
        ("number", "两遍", 2),
    ],
)
def test_issue_14_forms(kind: str, text: str, expected: SlotValue | None) -> None:
    assert_value(value_of(kind, text), expected)


@pytest.mark.parametrize(
    ("kind", "text", "expected"),
    [
        # N X N Y: an idiom or a compound noun, not a count
        ("number", "三年五载", None),  # jieba tags it a numeral (m)
        ("amount", "四菜一汤", None),  # not in jieba's dictionary
        ("time", "一点一滴", None),
        ("date", "一日三餐", None),
        ("number", "一步一步来", None),  # one by one
        ("number", "说了三番两次", None),
        # X N Y N
        ("number", "接二连三", None),
        ("number", "买一送一", None),
        # the same shapes that count
        ("number", "三到五个", 3),  # a range
        ("number", "一周两次", 1),  # two classifiers
        ("amount", "三块五毛", 3.5),
        ("time", "两点三刻", "14:45"),
        ("time", "差一刻五点", "16:45"),  # 刻 is the first numeral's classifier
        ("number", "大概三到四千", 3),
        ("number", "一共五个", 5),  # 一共 is a word: no lone numeral
        ("amount", "三千块五千块", 3000),  # the numerals are not alone
        ("date", "三号五点", "2026-12-03"),
        ("date", "周三周四都行", "2026-11-25"),
    ],
)
def test_numeral_idiom_shapes(kind: str, text: str, expected: SlotValue | None) -> None:
    assert_value(value_of(kind, text), expected)


@pytest.mark.parametrize(
    ("kind", "text", "expected"),
    [
        # dictionary "numerals" with two numerals apart, in 子, longer idioms, names of time
        ("number", "三天两头停电", None),
        ("amount", "一分一秒都等不了", None),
        ("number", "十有八九", None),
        ("number", "忙了一辈子", None),
        ("number", "八九不离十", None),
        ("number", "三下五除二", None),
        ("number", "七夕节", None),
        ("time", "我一时想不起来", None),  # 一时 (for a moment) is the whole span
        # digits no one says for a number; codes with Latin letters
        ("number", "七七八八的事", None),
        ("number", "四六开", None),
        ("number", "三四个", None),  # neighbours: an approximate count, unread as 几个 is
        ("number", "手机只有4G", None),
        ("number", "A4纸", None),
        ("number", "PM2.5", None),
        ("number", "三十个G", 30),
        ("number", "30G流量", 30),  # more digits before a letter: a quantity and its unit
        ("amount", "RMB200", 200),
        # 一 before a verb; 到 as a verb or in a range
        ("number", "一看就知道", None),
        ("number", "一到家就打了", None),
        ("number", "一到五个", 1),
        ("number", "一回", 1),  # 回 counts
        # a count is not money
        ("amount", "一个月五十八", 58),
        ("amount", "三次", None),
        ("amount", "两块", 2),
        # approximators after a lone numeral make words, not counts
        ("number", "一来一往", None),
        ("number", "二十多个", 20),
    ],
)
def test_numerals_in_ordinary_speech(kind: str, text: str, expected: SlotValue | None) -> None:
    assert_value(value_of(kind, text), expected)


@pytest.mark.parametrize(
    ("kind", "text", "expected"),
    [
        # 一 and a classifier before more words is an article; a count when "only" comes
        # before it or nothing that starts a noun phrase comes after it
        ("number", "我想问一个问题", None),
        ("number", "他一把年纪了", None),
        ("amount", "我们一块去吧", None),
        ("number", "我就是一个打工的", None),
        ("number", "就一个人", 1),
        ("number", "一个人", 1),  # all the caller said: the answer to "how many?"
        ("number", "嗯一张卡吧", 1),
        ("number", "一个孩子", 1),
        ("number", "一个问题想问一下", None),
        ("number", "只有一张", 1),
        ("number", "一张就够了", 1),
        ("number", "一个吧", 1),
        ("number", "一个多月", 1),
        ("amount", "一块钱", 1),
        ("amount", "一块五", 1.5),
        ("number", "我想问一个问题我打了三次了", 3),
        # a lone 零 before more words is a word
        ("number", "找不开零钱", None),
        ("amount", "零件坏了", None),
        ("number", "零点五", 0.5),
        # a numeral before a noun with no classifier is a name or a compound
        ("number", "我二舅家", None),
        ("number", "给个五星好评", None),
        ("number", "三个人", 3),
        ("number", "两小时", 2),
        ("number", "两星期", 2),
        ("number", "三千五工资", 3500),  # a sum, not a name
        # ranks and ordinals
        ("number", "我家老三", None),
        ("number", "孩子大二了", None),
        ("number", "他比我大三岁", 3),
        ("number", "在五楼", None),
        ("number", "七号柜台", None),
        ("number", "三级医院", None),
        ("number", "排到二十三号", 23),
        ("number", "五层楼", 5),
        # a count is not money, by a measure noun too
        ("amount", "等了两小时", None),
        ("amount", "两小时五十块", 50),
        # a word of the dictionary that starts inside a number does not cut it (十块钱)
        ("amount", "欠了三百二十块钱", 320),
    ],
)
def test_numerals_by_their_neighbours(kind: str, text: str, expected: SlotValue | None) -> None:
    assert_value(value_of(kind, text), expected)


@pytest.mark.parametrize(
    ("kind", "text", "value", "alternatives"),
    [
        ("time", "两点", "14:00", ("02:00",)),
        ("time", "十点半", "10:30", ("22:30",)),
        ("date", "周六", "2026-11-21", ("2026-11-28",)),  # said on a Saturday
        ("amount", "三千五", 3500, ()),  # no unit: money is a guess
        ("number", "三千五", 3500, ()),  # nothing counted: what it counts is a guess
        ("number", "报个数两千三", 2300, ()),
    ],
)
def test_unsure_values_say_so(
    kind: str, text: str, value: SlotValue, alternatives: tuple[SlotValue, ...]
) -> None:
    match = extract(kind, text)
    assert match is not None
    assert (match.value, match.unsure, match.alternatives) == (value, True, alternatives)


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        ("time", "下午两点"),
        ("time", "十四点"),
        ("date", "周日"),
        ("date", "下周六"),
        ("amount", "三千五百块"),
        ("number", "三十个"),
        ("number", "两小时"),
        ("number", "五公里"),
    ],
)
def test_sure_values_are_not_unsure(kind: str, text: str) -> None:
    match = extract(kind, text)
    assert match is not None
    assert not match.unsure
    assert match.alternatives == ()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("下周一上午", ["上午"]),
        ("明晚或者后天下午", ["晚上", "下午"]),
        ("早八点", ["早上"]),
        ("后半夜", ["半夜"]),
        ("早点休息", []),
        ("晚点再说", []),
    ],
)
def test_part_of_day(text: str, expected: list[str]) -> None:
    slot = make_slot_type("part_of_day", {})
    assert [m.value for m in slot.extract_all(text, SlotContext(SATURDAY))] == expected


def test_a_date_and_a_part_of_day_are_two_matches() -> None:
    context = SlotContext(SATURDAY)
    date = make_slot_type("date", {}).extract("下周一上午", context)
    part = make_slot_type("part_of_day", {}).extract("下周一上午", context)
    assert date == SlotMatch("2026-11-23", 0, 3, "下周一")
    assert part == SlotMatch("上午", 3, 5, "上午")
