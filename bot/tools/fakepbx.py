"""``voicebot fake-pbx``: a loopback stand-in for both vendors' PBX APIs, for tests and
integrators (docs/tools.md).

It answers GX CTI call control (``/bridge/callctrl``, ``bot.tools.fakepbx_gx``), its
agents' status (``/bridge/jsoncfg``, ``bot.tools.fakepbx_gx_status``) and the HWD REST
API (``/dscom-api/public``, ``bot.tools.fakepbx_hwd``) as the manuals describe them,
records every request it serves (``GET /requests``), and fails on demand
(``/control/…``, ``bot.tools.fakepbx_control``). Tests can run it in-process
with ``create_fake_pbx_app()`` or as a process.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from typing import Any

import click
from quart import Quart, Response, g, jsonify, request
from werkzeug.exceptions import HTTPException

from bot import server
from bot.errors import FailureSpecError
from bot.logs import configure_logging
from bot.tools import (
    fakepbx_batch,
    fakepbx_calllog,
    fakepbx_control,
    fakepbx_gx,
    fakepbx_gx_status,
    fakepbx_hwd,
    fakepbx_speech,
)
from bot.tools.fakepbx_state import (
    EXTENSION_KEY,
    Credentials,
    FakePBXState,
    Tokens,
    fake_state,
    mask_secrets,
)

logger = logging.getLogger(__name__)

DEFAULT_PORT = 12121  # GX CTI's default port
MAX_RECORDED_TEXT = 2000  # characters of a body that is neither JSON nor a form
_UNRECORDED = ("/requests", "/healthz")


def create_fake_pbx_app(*, token_ttl_seconds: float = 1800, credentials: Credentials | None = None) -> Quart:
    """The fake PBX.

    Args:
        token_ttl_seconds: How long an HWD access token stays valid (the PBX's: 1800 s).
        credentials: What the HWD password grant accepts; default client ``voicebot``
            / ``secret``, user ``api`` / ``api``.
    """
    app = Quart(__name__)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions[EXTENSION_KEY] = FakePBXState(credentials or Credentials(), Tokens(token_ttl_seconds))
    blueprints = (
        fakepbx_gx.blueprint,
        fakepbx_gx_status.blueprint,
        fakepbx_batch.blueprint,  # §46–§51 batch calls that call the robot, §38 blacklist
        fakepbx_hwd.blueprint,
        fakepbx_control.blueprint,
        fakepbx_calllog.blueprint,  # §31's call-record push, on demand
        fakepbx_speech.blueprint,  # §54's live transcript lines, on demand
    )
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    app.before_request(_start_record)
    app.after_request(_complete_record)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(FailureSpecError, _control_error)
    return app


def vendor_of(path: str) -> str | None:
    """Whose API a path belongs to; None for the paths that are not recorded."""
    if path.startswith(("/bridge/", "/Oms/")):
        return "gx"
    if path.startswith(fakepbx_hwd.PREFIX + "/"):
        return "hwd"
    if path.startswith("/control/"):
        return "control"
    return None if path in _UNRECORDED else "other"


async def _start_record() -> None:
    vendor = vendor_of(request.path)
    if vendor is None:
        return
    body = await request.get_data(cache=True, as_text=False, parse_form_data=False)
    parsed = _json_or_none(body)
    form = (await request.form).to_dict()
    record: dict[str, Any] = {
        "seq": 0,  # numbered by the recorder
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
        "monotonic": time.monotonic(),
        "vendor": vendor,
        "method": request.method,
        "path": request.path,
        "query": mask_secrets(request.args.to_dict()),
        "form": mask_secrets(form),
        "json": mask_secrets(parsed),
        "headers": {
            name: request.headers.get(name) for name in ("Accept-Language", "Accept", "Content-Type")
        },
        "manual_headers": _manual_headers() if vendor == "hwd" else None,
        "token_sent": None,
        "token_valid": None,
        "status": None,
        "response": None,
    }
    if body and parsed is None and not form:
        record["body"] = body.decode("utf-8", "replace")[:MAX_RECORDED_TEXT]
    g.fake_pbx_record = fake_state().recorder.add(record)


def _manual_headers() -> bool:
    """Whether the headers HWD §2 asks of every API call were sent."""
    headers = request.headers
    return (
        "zh-CN" in headers.get("Accept-Language", "")
        and "application/json" in headers.get("Accept", "")
        and headers.get("Content-Type", "").startswith("application/json")
    )


async def _complete_record(response: Response) -> Response:
    record: dict[str, Any] | None = getattr(g, "fake_pbx_record", None)
    if record is None:
        return response
    record["status"] = response.status_code
    if (response.mimetype or "").startswith("audio/"):
        record["response"] = f"<{response.content_length} bytes of {response.mimetype}>"
    else:
        record["response"] = _shortened(_json_or_text(await response.get_data(as_text=False)))
    record["ms"] = round((time.monotonic() - record["monotonic"]) * 1000, 1)
    target = request.full_path if request.query_string else request.path
    detail = f" ({record['problem']})" if "problem" in record else ""
    logger.info(
        "#%d %s %s %s → %d%s",
        record["seq"],
        record["vendor"],
        request.method,
        target,
        response.status_code,
        detail,
    )
    return response


def _json_or_none(body: bytes) -> Any:
    try:
        return json.loads(body) if body else None
    except ValueError:
        return None


def _json_or_text(body: bytes) -> Any:
    parsed = _json_or_none(body)
    return body.decode("utf-8", "replace")[:MAX_RECORDED_TEXT] if parsed is None else mask_secrets(parsed)


def _shortened(answer: Any) -> Any:
    """A TTS answer's audio as its size: the recording stays readable."""
    data = answer.get("data") if isinstance(answer, dict) else None
    if isinstance(data, dict) and isinstance(data.get("audio"), str):
        return {**answer, "data": {**data, "audio": f"<{len(data['audio'])} base64 characters>"}}
    return answer


async def _control_error(exc: FailureSpecError) -> Response:
    """A control request that describes nothing the fake can do: ``{"error": <why>}``."""
    response = jsonify({"error": str(exc)})
    response.status_code = exc.status
    return response


async def _http_error(exc: HTTPException) -> Response:
    """Routing errors in each API's own shape: the HWD envelope, else plain text."""
    status = exc.code or 500
    if request.path.startswith(fakepbx_hwd.PREFIX + "/"):
        return fakepbx_hwd.envelope(str(status), exc.description, status=status)
    return fakepbx_gx.plain(status, f"{status} {exc.name}")


@click.command("fake-pbx")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=int, help="Port to listen on.")
@click.option(
    "--token-ttl",
    "token_ttl_seconds",
    default=1800.0,
    show_default=True,
    type=click.FloatRange(min=0, min_open=True),
    help="Seconds an HWD access token stays valid.",
)
@click.option("--client-id", default="voicebot", show_default=True, help="HWD OAuth client id.")
@click.option("--client-secret", default="secret", show_default=True, help="HWD OAuth client secret.")
@click.option("--username", default="api", show_default=True, help="HWD API user.")
@click.option("--password", default="api", show_default=True, help="HWD API user's password.")
@click.option(
    "--robot-url",
    default=None,
    help="Where the batch tasks' robot calls send their callbacks (GX §52), e.g. http://127.0.0.1:8080/cti/ai.",
)
@click.option("--log-level", default="info", show_default=True, help="Log level (each request at info).")
def fake_pbx_command(
    *,
    host: str,
    port: int,
    token_ttl_seconds: float,
    client_id: str,
    client_secret: str,
    username: str,
    password: str,
    robot_url: str | None,
    log_level: str,
) -> None:
    """A fake GX CTI and HWD PBX on HOST:PORT that records requests and fails on demand."""
    configure_logging(log_level)
    credentials = Credentials(client_id, client_secret, username, password)
    app = create_fake_pbx_app(token_ttl_seconds=token_ttl_seconds, credentials=credentials)
    state: FakePBXState = app.extensions[EXTENSION_KEY]
    state.batch.robot_url = robot_url
    logger.info("fake PBX on http://%s:%d (GX /bridge/callctrl, HWD %s)", host, port, fakepbx_hwd.PREFIX)
    # Armed hangs end at once on a signal: stopping never waits for them.
    server.run(app, host, port, on_stop=state.stopping.set)
