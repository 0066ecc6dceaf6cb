"""The Docker image, checked without a container engine (none runs where the tests do).

The slow test performs the Dockerfile's steps into a directory (tests/image.py says which
lines it reads and which it reproduces) and serves from there as an arbitrary UID of group
0, as OpenShift runs images; the fast ones read the Dockerfile and .dockerignore.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests import image
from tests.loopback import unused_port
from tests.test_serve import stop, wait_healthy

ARBITRARY_UID = 12345  # not the image's 10001: any UID of group 0 must do
TOKEN = "image-admin-token"
NEW_ENTRY = {
    "id": "image-check",
    "title": "镜像检查",
    "kind": "faq",
    "questions": ["镜像里的知识库能改吗"],
    "keywords": ["镜像检查"],
    "answer": "能改，改动写在数据卷里。",
}


def _dockerfile() -> str:
    return image.DOCKERFILE.read_text(encoding="utf-8")


def _run_lines(stage: image.Stage) -> str:
    return "\n".join(stage.arguments("RUN"))


def test_the_venv_is_copied_whole_and_no_wheels_layer_remains() -> None:
    build, run = image.parse_dockerfile()[0], image.parse_dockerfile()[-1]
    assert "/wheels" not in _dockerfile()
    assert f"COPY --from=build {image.VENV} {image.VENV}" in _dockerfile()
    # tests/image.py reproduces these RUN steps by hand: they must still be what the file says.
    assert f"python -m venv {image.VENV}" in _run_lines(build)
    assert f"{image.VENV}/bin/pip install --no-cache-dir ." in _run_lines(build)
    assert "chmod -R a-w /app/flows /app/knowledge" in _run_lines(run)
    assert f"chown -R {image.IMAGE_UID}:0 {image.DATA_DIR}" in _run_lines(run)
    assert f"chmod -R g=u {image.DATA_DIR}" in _run_lines(run)


def test_the_image_runs_as_group_0_with_the_knowledge_base_on_the_volume() -> None:
    run = image.parse_dockerfile()[-1]
    env = run.env()
    assert run.arguments("USER") == [f"{image.IMAGE_UID}:0"]
    assert run.arguments("VOLUME") == [f'["{image.DATA_DIR}"]']
    assert env["VOICEBOT_DATA_DIR"] == image.DATA_DIR
    assert env["VOICEBOT_KB_DIR"].startswith(f"{image.DATA_DIR}/")
    assert env["VOICEBOT_KB_SEED_DIR"] in [destination for _, destination in run.copies()]


def test_base_image_and_mirrors_are_build_arguments_defaulting_to_nothing() -> None:
    text = _dockerfile()
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11-slim-bookworm$", text, re.MULTILINE)
    assert re.search(r"^ARG PIP_INDEX_URL=$", text, re.MULTILINE)
    assert re.search(r"^ARG APT_MIRROR=$", text, re.MULTILINE)
    assert text.count("FROM ${PYTHON_IMAGE}") == 2


@pytest.mark.parametrize(
    ("path", "ignored"),
    [
        (".git/HEAD", True),
        (".venv/bin/python", True),
        ("var/voicebot.sqlite3", True),
        ("tests/test_image.py", True),
        ("bench/results/turns.json", True),
        ("bot/__pycache__/app.cpython-311.pyc", True),
        ("voicebot.egg-info/PKG-INFO", True),
        ("pyproject.toml", False),
        ("README.md", False),
        ("bot/app.py", False),
        ("flows/yibao.yaml", False),
        ("knowledge/data/yibao.yaml", False),
    ],
    ids=str,
)
def test_the_build_context_is_only_what_the_build_needs(path: str, ignored: bool) -> None:
    assert image.is_ignored(path, image.ignore_rules()) is ignored


# --- the slow one: the run stage, performed, serving as UID 12345 of group 0 -------------


def _python_for_anyone() -> str | None:
    """A Python 3.11+ that another UID may run (this venv's may live under /root)."""
    candidates = [getattr(sys, "_base_executable", sys.executable)]
    candidates += [found for name in ("python3.11", "python3") if (found := shutil.which(name))]
    candidates += ["/usr/local/bin/python3", "/usr/bin/python3"]  # the official image's, Debian's
    for candidate in candidates:
        path = Path(candidate)
        if path.exists() and image.reachable_by_anyone(path):
            version = subprocess.run(
                [candidate, "-c", "import sys; print(sys.version_info >= (3, 11))"],
                capture_output=True,
                text=True,
                check=False,
            )
            if version.stdout.strip() == "True":
                return candidate
    return None


def _processes_of(uid: int) -> list[int]:
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            lines = status.read_text().splitlines()
        except OSError:  # the process ended meanwhile
            continue
        if any(line.startswith("Uid:") and line.split()[1] == str(uid) for line in lines):
            found.append(int(status.parent.name))
    return found


@pytest.fixture(scope="module")
def image_root() -> Iterator[Path]:
    """A root for the image's paths that another UID can enter (pytest's tmp is 0700)."""
    root = Path(tempfile.mkdtemp(prefix="voicebot-image-"))
    root.chmod(0o755)
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.mark.timeout(600)
def test_slow_the_image_serves_knowledge_and_its_edits_as_an_arbitrary_uid(image_root: Path) -> None:
    """Slow (a venv and a pip install, about 20 s with pip's cache): the image's run
    stage, performed, then served as UID 12345 of group 0 with the image's ENV."""
    if os.geteuid() != 0:
        pytest.skip("serves as another UID (setuid/setgid), which needs root")
    python = _python_for_anyone()
    if python is None:
        pytest.skip("no Python 3.11+ that another UID may run (every one lies under a private directory)")
    stages = image.parse_dockerfile()
    build, run = stages[0], stages[-1]
    image.copy_from_context(build, image_root)
    image.build_venv(image_root, python, image.inside(image_root, build.workdir()))
    image.copy_from_context(run, image_root)
    image.make_app_read_only(image_root, run)
    data = image.make_data_dir(image_root)
    env = {**image.run_env(run, image_root), "VOICEBOT_KB_ADMIN_TOKEN": TOKEN}
    port = unused_port()
    with (image_root / "serve.log").open("wb") as log:
        process = subprocess.Popen(
            image.entrypoint(run, env, "127.0.0.1", port),
            env=env,
            cwd=image.inside(image_root, run.workdir()),
            user=ARBITRARY_UID,
            group=image.user_group(run),
            extra_groups=[],
            umask=0o022,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, process, image_root)
        with httpx.Client(base_url=base, timeout=10) as http:
            answer = http.post("/webhooks/rest/webhook", json={"sender": "c1", "message": "异地就医怎么备案"})
            assert answer.status_code == 200
            reply = json.loads(answer.json()[0]["text"])  # the sample's answer or its choices
            assert reply.get("found", True), reply
            assert "异地" in reply["clarify"]
            created = http.post("/kb/entries", json=NEW_ENTRY, headers={"Authorization": f"Bearer {TOKEN}"})
            assert created.status_code == 201, created.text
            found = http.get("/kb/search", params={"q": "镜像里的知识库能改吗"}).json()["results"]
            assert found[0]["title"] == "镜像检查"
    finally:
        stop(process)
    assert process.returncode == 0, (image_root / "serve.log").read_text()
    assert _processes_of(ARBITRARY_UID) == []
    kb_dir = Path(env["VOICEBOT_KB_DIR"])
    assert kb_dir.is_relative_to(data)
    assert (kb_dir / "yibao.yaml").stat().st_uid == ARBITRARY_UID  # seeded by the server
    assert "镜像检查" in (kb_dir / "added.yaml").read_text(encoding="utf-8")
    assert sorted(p.name for p in Path(env["VOICEBOT_KB_SEED_DIR"]).iterdir()) == ["yibao.yaml"]
