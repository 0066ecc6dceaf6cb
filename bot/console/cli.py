"""``voicebot users add|list|remove``: the console's users, managed on the machine itself.

Nobody can create the first admin over the network: whoever may run this command may
read the data directory anyway. A running service reads the file again when it changes.
"""

from __future__ import annotations

import sys

import click

from bot.config import load_settings
from bot.console.users import ROLES, UserError, UsersFile, check_name, check_password, users_path
from bot.errors import ConfigError


def _users_file() -> UsersFile:
    try:
        return UsersFile(users_path(load_settings()))
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


@click.group("users")
def users_group() -> None:
    """The web console's users (VOICEBOT_CONSOLE_USERS): add, list, remove."""


@users_group.command("add")
@click.argument("name")
@click.option(
    "--role",
    type=click.Choice(ROLES),
    default="viewer",
    show_default=True,
    help="viewer: sees calls with masked numbers; admin: may reveal numbers and edit knowledge.",
)
def add_user(name: str, role: str) -> None:
    """Add user NAME, or set its role and password anew.

    The password is asked for twice on a terminal; otherwise it is the first line of
    standard input (echo "$PASSWORD" | voicebot users add wang --role admin).
    """
    users = _users_file()
    try:
        check_name(name)
        password = _password()
        check_password(password)
        new = users.add(name, role, password)
    except UserError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{'added' if new else 'updated'} {name} ({role}) in {users.path}", err=True)


def _password() -> str:
    if sys.stdin.isatty():
        return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))
    line = sys.stdin.readline()
    return line.rstrip("\r\n")


@users_group.command("list")
def list_users() -> None:
    """Print every user and its role."""
    users = _users_file()
    try:
        found = users.users()
    except UserError as exc:
        raise click.ClickException(str(exc)) from exc
    if not found:
        click.echo(f"no console users in {users.path}: add one with `voicebot users add NAME`", err=True)
        return
    for user in sorted(found.values(), key=lambda u: u.name):
        click.echo(f"{user.name}\t{user.role}")


@users_group.command("remove")
@click.argument("name")
def remove_user(name: str) -> None:
    """Remove user NAME; its open console sessions end at their next request."""
    users = _users_file()
    try:
        removed = users.remove(name)
    except UserError as exc:
        raise click.ClickException(str(exc)) from exc
    if not removed:
        raise click.ClickException(f"no user {name!r} in {users.path}")
    click.echo(f"removed {name} from {users.path}", err=True)
