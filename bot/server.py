"""Serving an app under Granian until SIGINT or SIGTERM: ``voicebot serve`` and
``voicebot kb serve`` alike.

Granian rather than Hypercorn: the GX CTI manual (§52.3) prints ``txt=你好`` unencoded,
and a CTI that sends it so puts raw UTF-8 in the request line. Granian hands those bytes
to the app as they came (``bot/cti/params.py`` decodes them); h11, under Hypercorn and
uvicorn alike, answers 400 before the app sees the request. It also serves about twice
the requests per second (docs/performance.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import resource
import signal
import sys
from collections.abc import Callable

import click
from granian.constants import Interfaces
from granian.log import LogLevels
from granian.server.embed import Server
from quart import Quart

from bot.config import EventLoop

logger = logging.getLogger(__name__)

GRACEFUL_TIMEOUT_SECONDS = 5
MAX_CONNECTIONS = 2048  # the listen backlog, and the connections served at once
_EXPERIMENTAL = "Embedded server is experimental!"

# Granian configures logging itself when a server is made. Incrementally and with no
# handlers, its records go through our root handler instead of its own stdout one; the
# access logger is left alone and off (``log_access`` is False): its lines would carry
# the query string, and with it the caller's phone number.
_GRANIAN_LOGGING = {
    "version": 1,
    "incremental": True,
    "handlers": {},
    "loggers": {"_granian": {"propagate": True}},
}


class _StartupFailed(Exception):
    """Serving did not start: the app's ``before_serving`` hooks raised (rendering prompts,
    opening a database), or the address could not be listened on."""


def run(
    app: Quart,
    host: str,
    port: int,
    *,
    on_stop: Callable[[], None] | None = None,
    event_loop: EventLoop = "uvloop",
) -> None:
    """Serve ``app`` on ``host:port`` on ``event_loop``; exit status 1 when its start-up fails.

    ``on_stop`` is called once a signal has asked the server to stop, before the
    requests in flight are waited for (the fake PBX ends its armed hangs there).
    """
    # What start-up made so far (the imported code, the flows, pypinyin's tables) lives as
    # long as the process; kept out of the collected generations, full collections stop
    # walking it (≈10% more callbacks per second measured with `make bench` when jieba's
    # whole dictionary was loaded here), and a forked worker's copy of it stays shared.
    # With the collector paused since the first import (`voicebot serve`, bot/entry.py),
    # the imports' garbage (about 1,500 objects in cycles, under 1 MB) is frozen with the
    # rest rather than collected: a collection here would walk some 200,000 objects (about
    # 0.1 s of start-up). The app collects and freezes what it builds next when it is
    # ready (bot/app.py), and resumes the collector.
    if gc.isenabled():
        gc.collect()
    gc.freeze()
    _raise_open_files_limit()
    try:
        with asyncio.Runner(loop_factory=_loop_factory(event_loop)) as runner:
            runner.run(_serve(app, host, port, on_stop))
    except _StartupFailed as exc:
        click.echo(f"voicebot: could not start: {exc}", err=True)
        sys.exit(1)


def _loop_factory(event_loop: EventLoop) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's loop (libuv's: its wake-ups, timers and sockets cost less than asyncio's
    own; 10–17 % more turns/s at saturation, docs/performance.md), or asyncio's (None)."""
    if event_loop == "asyncio":
        return None
    try:
        import uvloop  # noqa: PLC0415  # not on Windows
    except ImportError:
        logger.warning("uvloop is not installed: serving on asyncio's own event loop")
        return None
    return uvloop.new_event_loop


def _raise_open_files_limit() -> None:
    """Each connection is a file: the soft limit (1,024 under systemd's default) would
    refuse connections before ``MAX_CONNECTIONS``; raise it to the hard limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = max(soft, 4 * MAX_CONNECTIONS)
    if hard != resource.RLIM_INFINITY:
        wanted = min(hard, wanted)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < 2 * MAX_CONNECTIONS:
        logger.warning(
            "at most %d open files (ulimit -n; LimitNOFILE= under systemd): fewer than %d connections "
            "can be served at once",
            soft,
            MAX_CONNECTIONS,
        )


async def _serve(app: Quart, host: str, port: int, on_stop: Callable[[], None] | None) -> None:
    # Granian's embedded server, in this process and on this event loop, serving the app
    # object that `voicebot serve` built and checked (its worker processes would import
    # the app anew). The app's lifespan is run here, not by Granian's lifespan worker:
    # that one runs after_serving only once every connection has closed, so one hung
    # request would hold back the pending transfers for good. These are the two calls
    # Quart's own lifespan handler makes.
    try:
        await app.startup()
    except Exception as exc:  # Quart has logged it with its traceback
        raise _StartupFailed(str(exc)) from exc
    # The embedded server is chosen on purpose, and what we rely on is pinned by
    # tests/test_serve.py; its "experimental" warning at every start would only alarm
    # whoever reads the log.
    logging.getLogger("_granian").addFilter(lambda record: record.getMessage() != _EXPERIMENTAL)
    granian = Server(
        app,
        address=host,
        port=port,
        interface=Interfaces.ASGINL,
        log_level=LogLevels.notset,  # the root logger's level decides
        log_dictconfig=_GRANIAN_LOGGING,
        # Granian's default of 128 is also how many connections it serves at once: the
        # 129th would get no answer until another closed (a CTI or a proxy may pool more
        # keep-alive connections than that; measured by bench/calls.py).
        backlog=MAX_CONNECTIONS,
    )
    try:
        await _serve_until_signalled(granian, on_stop)
    finally:
        await app.shutdown()


async def _serve_until_signalled(granian: Server, on_stop: Callable[[], None] | None) -> None:
    """Serve until SIGINT or SIGTERM, then let requests in flight finish, for a while."""
    serving = asyncio.create_task(granian.serve())
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    signalled = asyncio.create_task(stop.wait())
    await asyncio.wait({serving, signalled}, return_when=asyncio.FIRST_COMPLETED)
    signalled.cancel()
    for sig in (signal.SIGINT, signal.SIGTERM):
        # A second signal is the operator insisting: it stops the process at once,
        # without the wait for requests in flight and the shutdown hooks.
        loop.remove_signal_handler(sig)
    if serving.done():  # before any signal: it could not listen, or its worker died
        try:
            serving.result()
        except (OSError, RuntimeError) as exc:  # Granian raises RuntimeError for a taken address
            # Its first line is the reason; the rest is a Rust backtrace when RUST_BACKTRACE is set.
            reason = str(exc).partition("\n")[0]
            raise _StartupFailed(f"serving on {granian.bind_addr}:{granian.bind_port}: {reason}") from exc
        return
    if on_stop is not None:
        on_stop()
    granian.stop()  # type: ignore[no-untyped-call]  # granian leaves stop() unannotated
    try:
        await asyncio.wait_for(asyncio.shield(serving), GRACEFUL_TIMEOUT_SECONDS)
    except TimeoutError:
        logger.warning("requests still running after %d s: stopping without them", GRACEFUL_TIMEOUT_SECONDS)
        serving.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await serving
