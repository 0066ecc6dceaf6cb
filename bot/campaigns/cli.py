"""``voicebot campaign``: outbound campaigns from the terminal, through a running service's
admin API (``--url``, ``VOICEBOT_ADMIN_TOKEN``), so that every instance sees the same
campaigns and one scheduler runs them (docs/campaigns.md)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import click
import httpx

DEFAULT_URL = "http://127.0.0.1:8080"
TIMEOUT_SECONDS = 30.0
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class Api:
    def __init__(self, url: str) -> None:
        token = os.environ.get("VOICEBOT_ADMIN_TOKEN", "")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = httpx.Client(
            base_url=url.rstrip("/"), headers=headers, timeout=TIMEOUT_SECONDS, trust_env=False
        )

    def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self.http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise click.ClickException(
                f"{self.http.base_url}: {exc} — is `voicebot serve` running there?"
            ) from exc
        if response.status_code >= 400:
            raise click.ClickException(_error(response))
        return response


def _error(response: httpx.Response) -> str:
    try:
        message = response.json()["error"]["message"]
    except (ValueError, KeyError, TypeError):
        message = response.text.strip()
    hint = " (set VOICEBOT_ADMIN_TOKEN)" if response.status_code == 401 else ""
    return f"{response.status_code}: {message}{hint}"


url_option = click.option(
    "--url", default=DEFAULT_URL, show_default=True, envvar="VOICEBOT_URL", help="The running service."
)


@click.group("campaign")
def campaign_group() -> None:
    """Outbound campaigns on the GX CTI's batch calls (docs/campaigns.md)."""


@campaign_group.command("create")
@click.argument("name")
@click.argument("numbers", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--flow", required=True, help="The flow its calls run.")
@click.option("--task", "task_id", required=True, type=int, help="The GX batch-call task (§46 id).")
@click.option("--hours", help="Calling windows, e.g. 09:00-12:00,13:30-20:00.")
@click.option("--weekdays", help="Days it calls, 1 = Monday, e.g. 1,2,3,4,5.")
@click.option("--daily-cap", type=int, help="Most numbers handed to the task per day.")
@click.option("--attempts", type=int, help="Calls of a number that does not answer, at most.")
@click.option("--retry-after", "retry_after_minutes", type=int, help="Minutes before calling it again.")
@click.option("--callback-date", help="The flow's variable with a callback date (callback_date).")
@click.option("--callback-time", help="The flow's variable with a callback time (callback_time).")
@click.option("--column", "columns", multiple=True, help="A column's variable name: --column 姓名=name.")
@url_option
def create(name: str, numbers: Path, url: str, columns: tuple[str, ...], **options: Any) -> None:
    """Create campaign NAME from NUMBERS, a CSV or Excel file (it starts stopped)."""
    params = {"name": name, **{k: str(v) for k, v in options.items() if v is not None}}
    if columns:
        params["columns"] = ",".join(columns)
    kind = XLSX if numbers.suffix.lower() == ".xlsx" else "text/csv"
    answer = (
        Api(url)
        .call(
            "POST", "/campaigns", params=params, content=numbers.read_bytes(), headers={"Content-Type": kind}
        )
        .json()
    )
    for warning in answer.get("warnings", []):
        click.echo(f"warning: {warning}", err=True)
    _show(answer)


@campaign_group.command("list")
@url_option
def list_campaigns(url: str) -> None:
    """Every campaign and its numbers' counts."""
    for campaign in Api(url).call("GET", "/campaigns").json()["campaigns"]:
        counts = ", ".join(f"{state} {n}" for state, n in campaign["numbers"].items() if n)
        what = f"{campaign['state']}, flow {campaign['flow']}, task {campaign['task_id']}"
        click.echo(f"{campaign['name']}: {what}; {counts}")


@campaign_group.command("show")
@click.argument("name")
@url_option
def show(name: str, url: str) -> None:
    """A campaign, its rules and progress (the GX task's live counts while it runs)."""
    _show(Api(url).call("GET", f"/campaigns/{name}").json())


@campaign_group.command("start")
@click.argument("name")
@url_option
def start(name: str, url: str) -> None:
    """Start calling (within the campaign's hours and cap)."""
    _show(Api(url).call("POST", f"/campaigns/{name}/start").json())


@campaign_group.command("stop")
@click.argument("name")
@url_option
def stop(name: str, url: str) -> None:
    """Stop calling; the GX task stops too."""
    _show(Api(url).call("POST", f"/campaigns/{name}/stop").json())


@campaign_group.command("results")
@click.argument("name")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write here, not to stdout."
)
@url_option
def results(name: str, output: Path | None, url: str) -> None:
    """Each number's data and result, as CSV."""
    text = Api(url).call("GET", f"/campaigns/{name}/results.csv").text
    if output is None:
        sys.stdout.write(text.removeprefix("\ufeff"))
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}", err=True)


@campaign_group.command("do-not-call")
@click.argument("telnum", required=False)
@click.option("--remove", is_flag=True, help="Take TELNUM off the list.")
@click.option("--reason", default="added by an operator", show_default=True)
@url_option
def do_not_call(telnum: str | None, remove: bool, reason: str, url: str) -> None:
    """List the do-not-call numbers, or add (or --remove) TELNUM."""
    api = Api(url)
    if telnum is None:
        for row in api.call("GET", "/do-not-call").json()["numbers"]:
            click.echo(f"{row['telnum']}  {row['reason']}")
    elif remove:
        api.call("DELETE", f"/do-not-call/{telnum}")
        click.echo("removed")
    else:
        added = api.call("POST", "/do-not-call", json={"telnum": telnum, "reason": reason}).json()["added"]
        click.echo("added" if added else "already on the list")


def _show(campaign: dict[str, Any]) -> None:
    click.echo(
        json.dumps({k: v for k, v in campaign.items() if k != "warnings"}, ensure_ascii=False, indent=2)
    )
