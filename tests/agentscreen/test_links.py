"""The agent page's signed links: one call, until they expire."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from itsdangerous import TimestampSigner

from bot.agentscreen.links import AgentLinks, LinkRefused

NOW = 1_800_000_000.0


def links(now: float = NOW, secret: str = "key") -> AgentLinks:
    made = AgentLinks.of(secret, "http://10.0.0.5:8080/", 600)
    return AgentLinks(made.secret, made.base, made.lifetime_seconds, clock=lambda: now)


def test_the_key_is_what_itsdangerous_signs_for_the_call() -> None:
    """The signer is itsdangerous's, not ours: its own unsign accepts the link."""
    signer = TimestampSigner(
        "key", salt="voicebot agent page link v2", key_derivation="hmac", digest_method="sha256"
    )
    key = AgentLinks.of("key", None, 600).key("call-1")  # made now: itsdangerous checks against now
    assert signer.unsign(f"call-1.{key}", max_age=600) == b"call-1"


def test_a_link_opens_its_call_until_it_expires() -> None:
    key = links().key("15155578339432391")
    links().check("15155578339432391", key)
    links(NOW + 600).check("15155578339432391", key)
    with pytest.raises(LinkRefused, match="expired"):
        links(NOW + 601).check("15155578339432391", key)


def test_the_url_is_short_and_names_the_call() -> None:
    url = links().url("fd6a66a6-52da-4bcd-ade3-902aecb2a996@192.168.1.82")
    assert url is not None
    assert url.startswith("http://10.0.0.5:8080/agent/fd6a66a6-52da-4bcd-ade3-902aecb2a996@192.168.1.82?k=")
    assert len(url.partition("?k=")[2]) < 64  # biz_data holds 1,500 characters
    assert AgentLinks.of("key", None, 600).url("x") is None  # no public URL: no link


@pytest.mark.parametrize(
    ("call_id", "change", "reason"),
    [
        ("other-call", lambda k: k, "does not match this call"),
        ("call-1", lambda k: k[:-1] + ("A" if k[-1] != "A" else "B"), "does not match this call"),
        ("call-1", lambda k: "Bzzzzz" + k[k.index(".") :], "does not match this call"),  # a later time
        ("call-1", lambda k: "", "no key"),
        ("call-1", lambda k: "!!." + k.partition(".")[2], "malformed"),
    ],
    ids=["another-call", "tampered-signature", "extended-expiry", "missing", "malformed"],
)
def test_a_changed_or_misused_key_is_refused_with_the_reason(
    call_id: str, change: Callable[[str], str], reason: str
) -> None:
    key = links().key("call-1")
    with pytest.raises(LinkRefused, match=reason):
        links().check(call_id, change(key))


def test_another_secret_key_opens_nothing() -> None:
    key = links(secret="one").key("call-1")
    with pytest.raises(LinkRefused, match="does not match"):
        links(secret="two").check("call-1", key)
