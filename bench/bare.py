"""The baseline: a bare Quart endpoint that answers a constant audio URL.

Served by the same Hypercorn as the bot, it measures what the framework alone costs,
so the bot's throughput can be stated as a share of it.
"""

from __future__ import annotations

import argparse
import asyncio

from hypercorn.asyncio import serve
from hypercorn.config import Config
from quart import Quart, Response

URL = "http://127.0.0.1:8080/audio/" + "0" * 64 + ".wav?canbeinterrupted=true"


def create_app() -> Quart:
    app = Quart(__name__)

    @app.route("/cti/ai", methods=["GET", "POST"])
    async def constant() -> Response:
        return Response(URL, content_type="text/plain; charset=utf-8")

    return app


def main() -> None:
    """Serve the baseline exactly as ``voicebot serve`` serves the bot (same Hypercorn set-up)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    config = Config()
    config.bind = [f"127.0.0.1:{parser.parse_args().port}"]
    config.accesslog = None
    asyncio.run(serve(create_app(), config))


if __name__ == "__main__":
    main()
