"""Who may reach what: the CTI's token and networks, the admin bearer token, console
logins, and CSRF, decided in one place before any endpoint runs.

Three kinds of caller, three kinds of credential (docs/security.md):

- **The CTI** calls ``/cti/*`` (and fetches ``/audio/*``). With ``VOICEBOT_CTI_TOKEN`` it
  must put ``token=…`` in the query of the URL it was configured with (GX CTI §52.6
  lets the callback URL carry a query); with ``VOICEBOT_CTI_ALLOW`` it must call from
  one of those networks. Behind a reverse proxy the client address is read from
  ``X-Forwarded-For``, but only when the peer is one of ``VOICEBOT_TRUSTED_PROXIES``:
  anyone else could write that header. Refusals are 403 in plain text, as the CTI's
  endpoints answer every error, and counted in the metrics.
- **Programs** (a CRM, an agents' desktop, scripts) send ``Authorization: Bearer
  <VOICEBOT_ADMIN_TOKEN>`` and act as an admin.
- **People** log in to the console, which keeps their name and role (viewer or admin)
  in a signed cookie (Quart's ``session``). A request that changes something on the
  strength of that cookie must also send ``X-CSRF-Token`` with the session's token,
  which another site's page cannot read.

Endpoints that read or change callers' data (``/calls``, the knowledge admin API and
customer history) need a principal: any for reading, an admin for changing. Without
one the answer is 401; with too small a role, 403. The rest stays open: the CTI's
endpoints under their own rules, the knowledge webhook and search (the answers are not
personal), ``/healthz``, the API documents and ``/metrics`` (its own token).

The CTI's path does no more than a prefix test and, when configured, one compare and
one network lookup: it must stay cheap (docs/performance.md).
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
from pathlib import Path
from typing import Literal, cast

from quart import Quart, Response, current_app, request, session
from quart.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin
from quart.wrappers import BaseRequestWebsocket
from werkzeug.wrappers import Response as WerkzeugResponse

from bot.config import Settings
from bot.errors import AccessRefused, ConfigError
from bot.web.errors import CTI_PREFIX, json_error, plain_error

logger = logging.getLogger(__name__)

Role = Literal["viewer", "admin"]
EXTENSION_KEY = "voicebot.access"
CSRF_HEADER = "X-CSRF-Token"
SECRET_KEY_FILE = "secret_key"
SESSION_HOURS = 12  # a shift, with its overtime
_UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Paths (prefixes) that need a principal, and whether GET may be done by a viewer.
DATA_PREFIXES = (
    "/calls",
    "/kb/entries",
    "/kb/import",
    "/kb/export",
    "/kb/customers/",
    "/campaigns",
    "/do-not-call",
)
_AUDIO_PREFIX = "/audio/"

Network = IPv4Network | IPv6Network
SessionRole = Callable[[str], Awaitable[str | None]]
Address = IPv4Address | IPv6Address


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a request acts for: ``via`` a bearer token (a program) or a console session."""

    name: str
    role: Role
    via: Literal["token", "session"]

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


class AccessRules:
    """The access settings, prepared once: tokens as bytes, networks parsed."""

    def __init__(
        self,
        *,
        admin_token: str | None,
        cti_token: str | None = None,
        cti_allow: tuple[Network, ...] = (),
        trusted_proxies: tuple[Network, ...] = (),
        session_role: SessionRole | None = None,
    ) -> None:
        self.admin_token = admin_token.encode() if admin_token else None
        # A console user's role now, or None when there is no such user; None: this app
        # has no console, and no session cookie is accepted.
        self.session_role = session_role
        self.cti_token = cti_token.encode() if cti_token else None
        self.cti_allow = cti_allow
        self.trusted_proxies = trusted_proxies
        self.cti_open = self.cti_token is None and not cti_allow  # the CTI's paths need nothing

    @classmethod
    def of(cls, settings: Settings, session_role: SessionRole | None = None) -> AccessRules:
        return cls(
            admin_token=settings.admin_secret,
            cti_token=settings.cti_token.get_secret_value() if settings.cti_token else None,
            cti_allow=settings.cti_allow,
            trusted_proxies=settings.trusted_proxies,
            session_role=session_role,
        )

    async def check(self, method: str, path: str) -> None:
        """Raise :class:`AccessRefused` unless the current request may go on."""
        if path.startswith(CTI_PREFIX):
            self._check_cti(with_token=True)
        elif path.startswith(_AUDIO_PREFIX):
            # Audio names are content hashes, not guessable; the CTI fetches them by the
            # URL we answered with, which carries no token. Its networks still apply,
            # except for a logged-in console user's player.
            if self.cti_allow and await self.principal() is None:
                self._check_cti(with_token=False)
        elif path.startswith(DATA_PREFIXES):
            principal = await self.principal()
            if principal is None:
                raise AccessRefused(
                    401,
                    "unauthenticated",
                    "log in to the console, or send Authorization: Bearer <VOICEBOT_ADMIN_TOKEN>",
                )
            if method not in ("GET", "HEAD") and not principal.is_admin:
                raise AccessRefused(403, "role", f"{principal.name} is a viewer: changes need an admin")

    async def principal(self) -> Principal | None:
        """The current principal; a session's only while its user still exists with that
        role (``voicebot users remove`` ends a session at its next request)."""
        principal = current_principal(self)
        if principal is None or principal.via != "session" or self.session_role is None:
            return principal
        if await self.session_role(principal.name) != principal.role:
            session.clear()
            return None
        return principal

    def _check_cti(self, *, with_token: bool) -> None:
        self.check_cti_caller(
            request.args.get("token", "") if with_token else None,
            request.remote_addr,
            request.headers.getlist("X-Forwarded-For"),
        )

    def check_cti_caller(self, token: str | None, peer: str | None, forwarded: Sequence[str]) -> None:
        """Raise :class:`AccessRefused` unless the CTI's request may go on: ``token`` is the
        ``token=`` it gave (None where none is asked for: audio), ``peer`` the connection's
        address and ``forwarded`` its ``X-Forwarded-For`` headers."""
        expected = self.cti_token
        if token is not None and expected is not None and not hmac.compare_digest(token.encode(), expected):
            raise AccessRefused(403, "cti_token", "missing or wrong token= (VOICEBOT_CTI_TOKEN)")
        if self.cti_allow:
            client = self._client(peer, forwarded)
            if client is None or not any(client in network for network in self.cti_allow):
                raise AccessRefused(403, "cti_network", "this address may not call the CTI endpoints")

    def client_address(self) -> Address | None:
        """The caller's address: the peer's, or behind trusted proxies the last address
        in ``X-Forwarded-For`` that is not one of them."""
        return self._client(request.remote_addr, request.headers.getlist("X-Forwarded-For"))

    def _client(self, peer_text: str | None, forwarded_headers: Sequence[str]) -> Address | None:
        peer = _address(peer_text)
        if peer is None or not self._trusted(peer):
            return peer
        forwarded = ",".join(forwarded_headers)
        for hop in reversed([part.strip() for part in forwarded.split(",") if part.strip()]):
            address = _address(hop)
            if address is None:
                return None  # a hop that is not an address: nothing behind it can be trusted
            if not self._trusted(address):
                return address
        return peer

    def _trusted(self, address: Address) -> bool:
        return any(address in network for network in self.trusted_proxies)


def _address(text: str | None) -> Address | None:
    if not text:
        return None
    try:
        address = ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return None
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def current_principal(rules: AccessRules | None = None) -> Principal | None:
    """Who the current request acts for, or None: a valid bearer token, else a console
    session (checked for its CSRF token when the request changes something)."""
    rules = rules or _rules()
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        if (
            scheme.lower() == "bearer"
            and rules.admin_token is not None
            and hmac.compare_digest(token.strip().encode("utf-8", "replace"), rules.admin_token)
        ):
            return Principal("token", "admin", "token")
        raise AccessRefused(401, "bad_token", "the bearer token is wrong (VOICEBOT_ADMIN_TOKEN)")
    if rules.session_role is None:
        return None
    name, role = session.get("user"), session.get("role")
    if not isinstance(name, str) or role not in ("viewer", "admin"):
        return None
    if request.method in _UNSAFE_METHODS:
        expected = session.get("csrf")
        given = request.headers.get(CSRF_HEADER, "")
        if not isinstance(expected, str) or not hmac.compare_digest(given.encode(), expected.encode()):
            raise AccessRefused(403, "csrf", f"missing or wrong {CSRF_HEADER} header: reload the console")
    return Principal(name, cast(Role, role), "session")


async def verified_principal() -> Principal | None:
    """:func:`current_principal`, a session's only while its user still exists with that
    role (what the console's pages and API ask before they answer)."""
    return await _rules().principal()


def require(role: Role = "viewer") -> Principal:
    """The current principal, at least ``role``; else :class:`AccessRefused` (401/403)."""
    principal = current_principal()
    if principal is None:
        raise AccessRefused(401, "unauthenticated", "log in, or send Authorization: Bearer <token>")
    if role == "admin" and not principal.is_admin:
        raise AccessRefused(403, "role", f"{principal.name} is a viewer: this needs an admin")
    return principal


def _rules() -> AccessRules:
    return cast(AccessRules, current_app.extensions[EXTENSION_KEY])


def install(
    app: Quart,
    settings: Settings,
    *,
    count_refused: Callable[[str], None] | None = None,
    session_role: SessionRole | None = None,
) -> None:
    """Guard ``app`` by ``settings``: the session cookie's key and flags, and the check
    before every request. ``count_refused(reason)`` counts each refusal (the metrics);
    ``session_role(name)`` says a console user's role now (None: no such user), and
    without it no session cookie is accepted."""
    rules = AccessRules.of(settings, session_role)
    app.extensions[EXTENSION_KEY] = rules
    app.secret_key = secret_key(settings)
    app.session_interface = CookieSessions()
    app.config.update(
        SESSION_COOKIE_NAME="voicebot_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        # Secure when the console is reached over HTTPS; plain HTTP is for loopback only.
        SESSION_COOKIE_SECURE=settings.public_url is not None and settings.public_url.scheme == "https",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=SESSION_HOURS),
    )

    @app.before_request
    async def _guard() -> Response | None:
        if rules.cti_open and request.path.startswith(CTI_PREFIX):
            return None  # every callback, when neither a token nor networks are set
        try:
            await rules.check(request.method, request.path)
        except AccessRefused as refused:
            return refusal(refused, count_refused)
        return None

    @app.errorhandler(AccessRefused)
    async def _refused(refused: AccessRefused) -> Response:  # raised by require() in an endpoint
        return refusal(refused, count_refused)


class CookieSessions(SecureCookieSessionInterface):
    """Quart's signed-cookie sessions, at no cost to a request without the cookie (every
    one of the CTI's): Quart opens and saves a session around each request, which builds
    a signer and reads seven settings even when there is nothing to read or write."""

    async def open_session(self, app: Quart, request: BaseRequestWebsocket) -> SecureCookieSession | None:
        if self.get_cookie_name(app) not in request.cookies:
            return self.session_class()
        return await super().open_session(app, request)

    async def save_session(
        self, app: Quart, session: SessionMixin, response: Response | WerkzeugResponse | None
    ) -> None:
        if session or session.modified or session.accessed:
            await super().save_session(app, session, response)


def refusal(refused: AccessRefused, count: Callable[[str], None] | None = None) -> Response:
    """The answer to a refused request: plain text on the CTI's paths, else the JSON error
    shape; 401 names the scheme to use."""
    if count is not None:
        count(refused.code)
    if request.path.startswith((CTI_PREFIX, _AUDIO_PREFIX)):
        response = plain_error(refused.status, refused.reason)
    else:
        response = json_error(refused.status, refused.code, refused.reason)
    if refused.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="voicebot"'
    return response


def secret_key(settings: Settings) -> str:
    """``VOICEBOT_SECRET_KEY``, else a key generated once in the data directory (then the
    instances that share it must share that directory, or set the setting)."""
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value()
    path = settings.data_dir / SECRET_KEY_FILE
    try:
        return _read_or_create_key(path)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read or create the console's cookie key ({exc.strerror})") from exc


def _read_or_create_key(path: Path) -> str:
    """The key in ``path``, made there first when there is none. Made aside and linked
    into place, so that processes starting at once all read the same whole key."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".{path.name}.{os.getpid()}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32) + "\n")
        try:
            os.link(draft, path)
        except FileExistsError:
            pass  # another process made it first: theirs is the key
        finally:
            draft.unlink()
    key = path.read_text().strip()
    if len(key) < 32:
        raise ConfigError(f"{path}: the cookie key is too short; delete the file to make a new one")
    return key


def check_binding(host: str, settings: Settings, *, serves_audio: bool = True) -> None:
    """Refuse to serve beyond this machine unprotected: a non-loopback address needs the
    admin token (else anyone on the network could read callers' numbers) and, where
    audio is served, the public URL (else audio URLs would have to come from the request).

    Raises:
        ConfigError: naming what is missing.
    """
    if _is_loopback(host):
        return
    missing = [
        name
        for name, value in (
            ("VOICEBOT_ADMIN_TOKEN", settings.admin_secret),
            ("VOICEBOT_PUBLIC_URL", settings.public_url if serves_audio else "not needed"),
        )
        if not value
    ]
    if missing:
        raise ConfigError(
            f"serving on {host}, beyond this machine, needs {' and '.join(missing)} "
            "(docs/security.md); or serve on 127.0.0.1 behind a proxy"
        )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    address = _address(host)
    return address is not None and address.is_loopback


audit_log = logging.getLogger("voicebot.audit")


def log_reveal(principal: Principal, call_id: str, *, what: str = "numbers") -> None:
    """Record that ``principal`` saw a call's unmasked ``what`` (its numbers, its
    recording): who, which call (the time is the log line's). At WARNING, so that it is
    kept at every log level."""
    audit_log.warning("%s revealed: call %s to %s (%s)", what, call_id, principal.name, principal.via)
