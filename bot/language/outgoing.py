"""Where the service may send requests: the outgoing-host allowlist.

A flow's ``http:`` step sends callers' data (numbers, ID numbers, what they said) to a
URL its author wrote. With ``VOICEBOT_OUTGOING_HOSTS`` set, only the hosts it names may
be called, besides the hosts of the service's own URL settings (PBX, speech, knowledge,
outcome receiver: named in settings already). A flow naming another host is refused
when it loads, at its ``url:``'s line (``voicebot flows check`` says the same), and a
URL whose host comes from a variable is checked again when the request is made.

Patterns: ``crm.example.com`` (that host, any port), ``crm.example.com:8443`` (that
port only), ``*.example.com`` (any host under example.com, not example.com itself),
``10.0.0.5`` and ``[fd00::5]``. Unset, nothing is enforced, as before this setting.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from urllib.parse import urlsplit

from bot.config import Settings
from bot.language.flow import Flow

Finding = tuple[tuple[str | int, ...], str, str]  # key path, what is wrong, how to fix it


class HostAllowlist:
    """Hosts (and optionally ports) that may be called; ``enforced`` is False when
    no pattern was configured."""

    def __init__(self, patterns: Iterable[str], *, always: Iterable[str] = ()) -> None:
        self._exact: set[tuple[str, int | None]] = set()
        self._suffixes: list[tuple[str, int | None]] = []
        configured = [p.lower() for p in patterns]
        self.enforced = bool(configured)
        self.patterns = tuple(configured)
        for pattern in [*configured, *(a.lower() for a in always)]:
            host, port = _split_pattern(pattern)
            if host.startswith("*."):
                self._suffixes.append((host[1:], port))
            else:
                self._exact.add((host, port))

    @classmethod
    def of(cls, settings: Settings) -> HostAllowlist:
        vendor_urls = [
            getattr(settings, field)
            for field in type(settings).model_fields
            if field.startswith("tts_") and field.endswith("_url")
        ]
        urls = (*vendor_urls, settings.kb_url, settings.outcome_url, settings.gx_url, settings.hwd_url)
        urls += (settings.public_url,)
        hosts = [host for url in urls if url is not None and (host := _host_port(str(url)))]
        return cls(settings.outgoing_hosts, always=hosts)

    def allows(self, url: str) -> bool:
        """Whether ``url`` may be requested (always, when not enforced)."""
        if not self.enforced:
            return True
        target = _host_port(url)
        if target is None:
            return False
        host, _, port_text = target.rpartition(":") if _has_port(target) else (target, "", "")
        port = int(port_text) if port_text else None
        for allowed_host, allowed_port in self._exact:
            if allowed_host == host and allowed_port in (None, port):
                return True
        return any(host.endswith(suffix) and p in (None, port) for suffix, p in self._suffixes)

    def describe(self) -> str:
        return ", ".join(self.patterns) or "(none)"


def check_http_hosts(flow: Flow, allowlist: HostAllowlist | None) -> Iterator[Finding]:
    """A finding for every ``http:`` step whose URL's host is not allowed, or is made
    from a variable while hosts are enforced (it could not be checked here)."""
    if allowlist is None or not allowlist.enforced:
        return
    for name, step in flow.steps.items():
        if step.http is None:
            continue
        url = step.http.url.text
        where = ("steps", name, "http", "url")
        authority = urlsplit(url).netloc if "://" in url else ""
        if "{" in authority:
            yield (
                where,
                f"the host of {url!r} comes from a variable, and VOICEBOT_OUTGOING_HOSTS is set",
                "write the host itself in the URL; variables may fill its path and query",
            )
        elif not allowlist.allows(url):
            yield (
                where,
                f"{url!r} calls a host not in VOICEBOT_OUTGOING_HOSTS ({allowlist.describe()})",
                "add the host to VOICEBOT_OUTGOING_HOSTS, or call an allowed one",
            )


def _host_port(url: str) -> str | None:
    """``host`` or ``host:port`` of a URL, the host in lower case; None when it has none."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError:
        return None
    if not host:
        return None
    host = f"[{host}]" if ":" in host else host
    return f"{host}:{port}" if port is not None else host


def _has_port(target: str) -> bool:
    return target.rsplit("]", 1)[-1].count(":") == 1


def _split_pattern(pattern: str) -> tuple[str, int | None]:
    if _has_port(pattern):
        host, _, port = pattern.rpartition(":")
        return host, int(port)
    return pattern, None
