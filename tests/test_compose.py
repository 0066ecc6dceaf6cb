"""compose.yaml and deploy/nginx.conf hang together (no Docker engine here to run them):
services, settings, volumes, the proxy's upstream; ``nginx -t`` where nginx is installed."""

from __future__ import annotations

import math
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from bot.config import Settings

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "compose.yaml"
NGINX_CONF = ROOT / "deploy" / "nginx.conf"
ENV_PREFIX = "VOICEBOT_"
_INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?[-?][^}]*)?\}")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def nginx() -> str:
    """deploy/nginx.conf without its comments."""
    return "\n".join(line.split("#", 1)[0] for line in NGINX_CONF.read_text(encoding="utf-8").splitlines())


def _environment(service: dict[str, Any]) -> dict[str, str]:
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) if "=" in item else (item, "") for item in environment)
    return {name: str(value) for name, value in environment.items()}


def _interpolated(value: str) -> str:
    """``value`` with each ``${NAME…}`` replaced by NAME (enough to read a URL's host)."""
    return _INTERPOLATION.sub(lambda match: match[1].lower(), value)


def _depends_on(service: dict[str, Any]) -> dict[str, dict[str, Any]]:
    depends = service.get("depends_on") or {}
    return {name: {} for name in depends} if isinstance(depends, list) else depends


def _settings_env_names() -> set[str]:
    names = set()
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias or field.alias
        names.add(alias.upper() if isinstance(alias, str) else f"{ENV_PREFIX}{name.upper()}")
    return names


def test_the_services_and_what_they_wait_for(services: dict[str, dict[str, Any]]) -> None:
    assert {"redis", "postgres", "bot", "proxy"} <= services.keys()
    for name, service in services.items():
        for other, how in _depends_on(service).items():
            assert other in services, f"{name} depends on {other}, which is not a service"
            if how.get("condition") == "service_healthy":
                assert "healthcheck" in services[other] or other == "bot", f"{other} has no health check"
    assert _depends_on(services["bot"])["redis"]["condition"] == "service_healthy"
    assert _depends_on(services["bot"])["postgres"]["condition"] == "service_healthy"
    # The bot's health check is the image's HEALTHCHECK (GET /healthz).
    assert "HEALTHCHECK" in (ROOT / "Dockerfile").read_text(encoding="utf-8")


def test_the_stores_keep_their_data(services: dict[str, dict[str, Any]]) -> None:
    redis, postgres = services["redis"], services["postgres"]
    assert redis["image"].startswith("redis:7")
    assert redis["command"][-2:] == ["--appendonly", "yes"]
    assert postgres["image"].startswith("postgres:15")
    assert any(str(v).endswith(":/data") for v in redis["volumes"])
    assert any(str(v).endswith(":/var/lib/postgresql/data") for v in postgres["volumes"])
    password = _environment(postgres)["POSTGRES_PASSWORD"]
    assert password.startswith("${POSTGRES_PASSWORD:?"), "the password comes from the environment, required"


def test_the_bots_settings_are_real_settings(services: dict[str, dict[str, Any]]) -> None:
    bot = services["bot"]
    assert bot["build"]["dockerfile"] == "Dockerfile"
    assert (ROOT / bot["build"]["context"] / bot["build"]["dockerfile"]).is_file()
    assert bot["deploy"]["replicas"] == "${VOICEBOT_REPLICAS:-2}"
    environment = _environment(bot)
    unknown = set(environment) - _settings_env_names()
    assert not unknown, f"not settings of bot.config.Settings: {sorted(unknown)}"
    assert {"VOICEBOT_REDIS_URL", "VOICEBOT_DATABASE_URL", "VOICEBOT_PUBLIC_URL"} <= environment.keys()
    assert urlsplit(_interpolated(environment["VOICEBOT_REDIS_URL"])).hostname == "redis"
    database = urlsplit(_interpolated(environment["VOICEBOT_DATABASE_URL"]))
    assert (database.scheme, database.hostname) == ("postgresql", "postgres")
    postgres = _environment(services["postgres"])
    assert (database.username, database.path) == (postgres["POSTGRES_USER"], f"/{postgres['POSTGRES_DB']}")
    assert database.password == "postgres_password"  # the same variable as the server's


def test_volumes_are_declared_and_the_knowledge_base_is_shared(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    declared = set(compose.get("volumes") or {})
    used = set()
    for name, service in services.items():
        for volume in service.get("volumes") or []:
            source = volume["source"] if isinstance(volume, dict) else str(volume).split(":", 1)[0]
            if source.startswith((".", "/")):
                assert (ROOT / source).exists(), f"{name} mounts {source}, which is missing"
            else:
                assert source in declared, f"{name} uses the volume {source}, not declared"
                used.add(source)
    assert declared == used
    kb_dir = _environment(services["bot"])["VOICEBOT_KB_DIR"]
    assert any(
        str(v).endswith(f":{kb_dir}") and not str(v).startswith((".", "/"))
        for v in services["bot"]["volumes"]
    )


def test_the_proxy_fronts_the_bots(services: dict[str, dict[str, Any]], nginx: str) -> None:
    proxy = services["proxy"]
    assert proxy["image"].startswith("nginx:")
    assert any(str(v).startswith("./deploy/nginx.conf:/etc/nginx/nginx.conf") for v in proxy["volumes"])
    assert "/healthz" in " ".join(proxy["healthcheck"]["test"])
    assert "ports" not in services["bot"], "the bots are reached through the proxy only"
    assert nginx.count("{") == nginx.count("}")
    depth = 0
    for char in nginx:
        depth += {"{": 1, "}": -1}.get(char, 0)
        assert depth >= 0
    assert re.search(r"^\s*resolver\s+127\.0\.0\.11\b", nginx, re.MULTILINE)
    targets = set(re.findall(r"^\s*proxy_pass\s+(\S+);", nginx, re.MULTILINE))
    assert targets
    variables = dict(re.findall(r"^\s*set\s+(\$\w+)\s+(\S+);", nginx, re.MULTILINE))
    upstreams = {urlsplit(variables.get(target, target)) for target in targets}
    expose = re.search(r"^EXPOSE\s+(\d+)", (ROOT / "Dockerfile").read_text(encoding="utf-8"), re.MULTILINE)
    assert expose
    assert {(u.hostname, u.port) for u in upstreams} == {("bot", int(expose[1]))}
    assert re.search(r"^\s*location\s+=\s+/healthz\s*\{", nginx, re.MULTILINE)
    assert re.search(r"proxy_set_header\s+X-Forwarded-For\s+\$proxy_add_x_forwarded_for;", nginx)
    listen = re.search(r"^\s*listen\s+(\d+);", nginx, re.MULTILINE)
    assert listen
    assert any(str(port).endswith(f":{listen[1]}") for port in proxy["ports"])


def test_the_proxy_takes_the_bodies_the_bot_takes(nginx: str) -> None:
    app = (ROOT / "bot" / "app.py").read_text(encoding="utf-8")
    bot_limit = re.search(r'MAX_CONTENT_LENGTH"\]\s*=\s*([\d\s*]+)\n', app)
    assert bot_limit
    size = re.search(r"client_max_body_size\s+(\d+)([km]?);", nginx)
    assert size
    nginx_limit = int(size[1]) * {"": 1, "k": 1024, "m": 1024 * 1024}[size[2]]
    assert nginx_limit == math.prod(int(factor) for factor in bot_limit[1].split("*"))


@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed")
def test_nginx_accepts_the_configuration(tmp_path: Path) -> None:
    nginx = shutil.which("nginx")
    assert nginx
    result = subprocess.run(
        [nginx, "-t", "-c", str(NGINX_CONF), "-p", str(tmp_path), "-e", "stderr"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr
