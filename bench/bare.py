"""The baseline: a bare Quart endpoint that answers a constant audio URL.

Served by the same Granian set-up as the bot (``bot.server.run``), it measures what the
framework alone costs, so the bot's throughput can be stated as a share of it.
"""

from __future__ import annotations

import argparse

from quart import Quart, Response

from bot import server

URL = "http://127.0.0.1:8080/audio/" + "0" * 64 + ".wav?canbeinterrupted=true"


def create_app() -> Quart:
    app = Quart(__name__)

    @app.route("/cti/ai", methods=["GET", "POST"])
    async def constant() -> Response:
        return Response(URL, content_type="text/plain; charset=utf-8")

    return app


def main() -> None:
    """Serve the baseline exactly as ``voicebot serve`` serves the bot."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    server.run(create_app(), "127.0.0.1", parser.parse_args().port)


if __name__ == "__main__":
    main()
