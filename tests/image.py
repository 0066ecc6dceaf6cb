"""The Dockerfile's steps, performed without a container engine, into a directory.

What is read from the Dockerfile and what is reproduced by hand, plainly:

- read and followed: every ``COPY`` of the build and run stages (sources filtered through
  ``.dockerignore``, destinations under ``WORKDIR``), the run stage's ``ENV``, ``WORKDIR``,
  ``USER`` (its group) and ``ENTRYPOINT`` (with the host and port swapped for loopback);
- reproduced, not parsed: the ``RUN`` lines. The build stage's venv is made by
  ``python -m venv`` and ``pip install`` of the copied sources; the run stage's
  ``chmod -R a-w`` of the app, ``mkdir``/``chown 10001:0``/``chmod -R g=u`` of the data
  directory are done here in Python. ``tests/test_image.py`` checks that the RUN lines
  still say these things, so that a change there is seen;
- not reproduced: the base image (the host's Python and espeak-ng stand in), apt,
  ``HEALTHCHECK``, ``VOLUME`` (a plain directory), ``EXPOSE``.

Container paths (``/app/…``, ``/opt/…``) become paths under the directory.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
VENV = "/opt/venv"
DATA_DIR = "/app/var"
IMAGE_UID = 10001  # the owner the Dockerfile gives the data directory


@dataclass
class Stage:
    """One ``FROM`` of the Dockerfile and its instructions, as ``(KEYWORD, arguments)``."""

    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def arguments(self, keyword: str) -> list[str]:
        return [rest for word, rest in self.instructions if word == keyword]

    def copies(self) -> list[tuple[list[str], str]]:
        """The ``COPY`` lines from the build context: (sources, destination)."""
        found = []
        for rest in self.arguments("COPY"):
            words = shlex.split(rest)
            if not any(word.startswith("--from=") for word in words):
                paths = [word for word in words if not word.startswith("--")]
                found.append((paths[:-1], paths[-1]))
        return found

    def env(self) -> dict[str, str]:
        """The ``ENV key=value`` lines, in order (values unexpanded)."""
        values: dict[str, str] = {}
        for rest in self.arguments("ENV"):
            for pair in shlex.split(rest):
                key, _, value = pair.partition("=")
                values[key] = value
        return values

    def workdir(self) -> str:
        return self.arguments("WORKDIR")[-1]


def parse_dockerfile(path: Path = DOCKERFILE) -> list[Stage]:
    """The stages, with continuation lines joined and comments dropped."""
    stages: list[Stage] = []
    logical = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.rstrip()
        if line.lstrip().startswith("#"):
            continue
        if line.endswith("\\"):
            logical += line[:-1] + " "
            continue
        keyword, _, rest = (logical + line).strip().partition(" ")
        logical = ""
        if not keyword:
            continue
        if keyword.upper() == "FROM":
            words = rest.split()
            stages.append(Stage(words[2] if len(words) > 2 and words[1].upper() == "AS" else None))
        elif stages:
            stages[-1].instructions.append((keyword.upper(), rest.strip()))
    return stages


def ignore_rules(path: Path = DOCKERIGNORE) -> list[tuple[bool, re.Pattern[str]]]:
    """``.dockerignore`` as (excludes, pattern) rules, the last matching one winning."""
    rules = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            include = line.startswith("!")
            rules.append((not include, _pattern(line.removeprefix("!").strip("/"))))
    return rules


def _pattern(glob: str) -> re.Pattern[str]:
    parts = re.split(r"(\*\*/|\*\*|\*|\?)", glob)
    wildcard = {"**/": "(?:.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}
    return re.compile("".join(wildcard.get(part, re.escape(part)) for part in parts))


def is_ignored(relative: str, rules: list[tuple[bool, re.Pattern[str]]]) -> bool:
    """Whether the context path ``relative`` (``a/b.py``) is left out of the build context;
    a rule matching a parent directory counts for what is inside (Docker's rule)."""
    parents = relative.split("/")
    candidates = ["/".join(parents[: i + 1]) for i in range(len(parents))]
    ignored = False
    for excludes, pattern in rules:
        if any(pattern.fullmatch(candidate) for candidate in candidates):
            ignored = excludes
    return ignored


def inside(root: Path, container_path: str) -> Path:
    """Where a container path lies under ``root``."""
    return root / container_path.lstrip("/")


def copy_from_context(stage: Stage, root: Path, context: Path = ROOT) -> None:
    """Perform the stage's ``COPY`` lines from ``context`` (filtered by ``.dockerignore``)."""
    rules = ignore_rules()
    workdir = stage.workdir()
    for sources, destination in stage.copies():
        target = inside(root, destination if destination.startswith("/") else f"{workdir}/{destination}")
        for source in sources:
            path = context / source
            if path.is_dir():
                shutil.copytree(path, target, dirs_exist_ok=True, ignore=_ignorer(context, rules))
            elif not is_ignored(source, rules):
                into = target / path.name if destination.endswith("/") or len(sources) > 1 else target
                into.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, into)


def _ignorer(
    context: Path, rules: list[tuple[bool, re.Pattern[str]]]
) -> Callable[[str, list[str]], list[str]]:
    def ignore(directory: str, names: list[str]) -> list[str]:
        relative = Path(directory).relative_to(context).as_posix()
        return [name for name in names if is_ignored(f"{relative}/{name}".removeprefix("./"), rules)]

    return ignore


def build_venv(root: Path, python: str, source: Path) -> Path:
    """The build stage's ``python -m venv /opt/venv`` and ``pip install .``, under ``root``;
    pip's cache and configured indexes are used (the image build does not cache)."""
    venv = inside(root, VENV)
    subprocess.run([python, "-m", "venv", str(venv)], check=True)
    pip = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "--quiet", str(source)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert pip.returncode == 0, f"pip install of the build stage's sources failed:\n{pip.stderr}"
    return venv


def make_app_read_only(root: Path, stage: Stage) -> None:
    """``chmod -R a-w`` of everything the run stage copied from the context."""
    for _, destination in stage.copies():
        for path in [inside(root, destination), *inside(root, destination).rglob("*")]:
            path.chmod(path.stat().st_mode & ~0o222)


def make_data_dir(root: Path) -> Path:
    """``mkdir -p /app/var && chown -R 10001:0 /app/var && chmod -R g=u /app/var``."""
    data = inside(root, DATA_DIR)
    data.mkdir(parents=True)
    os.chown(data, IMAGE_UID, 0)
    mode = data.stat().st_mode
    data.chmod(mode | (mode & 0o700) >> 3)
    return data


def run_env(stage: Stage, root: Path) -> dict[str, str]:
    """The run stage's ``ENV``, container paths moved under ``root``, ``$PATH`` expanded
    with the host's, as the base image sets ``LANG`` and Docker sets ``HOME`` (``/``)."""
    env = {"LANG": "C.UTF-8", "HOME": str(root), "PATH": os.environ["PATH"]}
    for key, value in stage.env().items():
        parts = [
            str(inside(root, part)) if part.startswith(("/app", "/opt")) else part
            for part in value.split(":")
        ]
        env[key] = ":".join(parts).replace("$PATH", env["PATH"])
    return env


def entrypoint(stage: Stage, env: dict[str, str], host: str, port: int) -> list[str]:
    """The ``ENTRYPOINT``, its program found on the run ``PATH``, serving on host:port."""
    argv: list[str] = json.loads(stage.arguments("ENTRYPOINT")[-1])
    program = shutil.which(argv[0], path=env["PATH"])
    assert program, f"{argv[0]} is not on the image's PATH {env['PATH']}"
    argv[0] = program
    argv[argv.index("--host") + 1] = host
    argv[argv.index("--port") + 1] = str(port)
    return argv


def user_group(stage: Stage) -> int:
    """The group of the run stage's ``USER uid:gid`` (the UID is replaced by an arbitrary one)."""
    _, _, group = stage.arguments("USER")[-1].partition(":")
    return int(group)


def reachable_by_anyone(path: Path) -> bool:
    """Whether any user may execute ``path``: every directory above it searchable by others."""
    real = path.resolve()
    return all(parent.stat().st_mode & 0o001 for parent in real.parents) and bool(real.stat().st_mode & 0o001)
