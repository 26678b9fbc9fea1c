"""The deploy files (docker-compose.yml, compose.dev.yml, .env.example, deploy/) agree with the
settings Orderline knows, and the tools that read them accept them: docker compose / docker-compose
`config` (no Docker engine needed), `caddy validate`, node for the syntax of mongo-init.js. A check
whose tool is missing here is skipped and says so; `make test` installs Debian's caddy and
docker-compose when it can."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import textwrap

import pytest
import yaml

from bot.config import Settings
from tests.conftest import ROOT

COMPOSE = {"prod": ROOT / "docker-compose.yml", "dev": ROOT / "compose.dev.yml"}
SETTINGS = set(Settings.model_fields) - {"generated_tokens"}  # set by load_settings, never from the environment
NOT_SETTINGS_OK = {"WEB_CONCURRENCY"}  # read by `serve` (gunicorn processes), not a Settings field


def load(which: str) -> dict:
    return yaml.safe_load(COMPOSE[which].read_text())


def app_services(doc: dict) -> dict:
    return {name: s for name, s in doc["services"].items() if "build" in s}


def env_example() -> dict[str, dict]:
    """KEY -> {"active": set in the file (not commented), "required": marked REQUIRED}."""
    out, previous = {}, ""
    for line in (ROOT / ".env.example").read_text().splitlines():
        m = re.match(r"^(# )?([A-Z][A-Z0-9_]*)=", line)
        if m:
            out[m.group(2)] = {"active": not m.group(1), "required": "REQUIRED" in previous}
        previous = line
    return out


def compose_variables(text: str) -> dict[str, str]:
    """${VAR}, ${VAR:-default}, ${VAR:?error} -> the operator after the name ('' / ':-' / ':?')."""
    return {m.group(1): m.group(2) or "" for m in re.finditer(r"\$\{([A-Z0-9_]+)(:[-?])?", text)}


@pytest.mark.parametrize("which", ["prod", "dev"])
def test_compose_passes_only_settings_orderline_knows(which):
    apps = app_services(load(which))
    assert {"web", "worker"} <= set(apps)
    for name, service in apps.items():
        unknown = set(service["environment"]) - SETTINGS - NOT_SETTINGS_OK
        assert not unknown, f"{COMPOSE[which].name}: {name} passes {sorted(unknown)}, which Orderline does not read"
    assert apps["web"]["command"][-2:] == ["bot", "serve"] and apps["worker"]["command"][-2:] == ["bot", "worker"]


@pytest.mark.parametrize("which", ["prod", "dev"])
def test_every_service_has_a_health_check_and_apps_wait_for_their_dependencies(which):
    services = load(which)["services"]
    for name, service in services.items():
        if service.get("restart") == "no":  # a one-shot: apps wait for it to complete instead
            continue
        assert service.get("healthcheck", {}).get("test"), f"{name} has no health check"
    for name, service in app_services({"services": services}).items():
        for dep, cond in service["depends_on"].items():
            one_shot = services[dep].get("restart") == "no"
            assert cond["condition"] == ("service_completed_successfully" if one_shot else "service_healthy"), (name, dep)


def test_production_compose_is_the_failover_shape():
    services = load("prod")["services"]
    env = services["web"]["environment"]
    sentinels = env["REDIS_SENTINELS"].split(",")
    assert len(sentinels) == 3 and all(s.split(":")[0] in services for s in sentinels)
    assert env["REDIS_WAIT_REPLICAS"] == "1"
    assert "replicaSet=rs0" in env["MONGO_URI"] and all(f"mongo-{i}:27017" in env["MONGO_URI"] for i in (1, 2, 3))
    assert services["worker"]["deploy"]["replicas"] == 2
    assert "ports" not in services["web"] and services["caddy"]["ports"][:2] == ["80:80", "443:443"]


def test_every_setting_is_in_env_example_and_every_line_there_means_something():
    example, text = env_example(), COMPOSE["prod"].read_text()
    variables = compose_variables(text)
    missing = SETTINGS - set(example)
    assert not missing, f".env.example lacks {sorted(missing)}"
    meaningless = set(example) - SETTINGS - set(variables)
    assert not meaningless, f".env.example has {sorted(meaningless)}: neither a setting nor read by docker-compose.yml"
    passed = set(load("prod")["services"]["web"]["environment"])
    for key in set(example) & SETTINGS:
        assert key in passed or key in ("HOST", "PORT"), f"{key} is in .env.example but never reaches the app"
    for name, op in variables.items():
        if op == ":?":
            assert example.get(name, {}).get("required"), f"docker-compose.yml requires {name}: mark it REQUIRED"
        assert name in example, f"docker-compose.yml reads {name}, which .env.example does not mention"


def test_every_setting_is_in_the_readme_table():
    readme = (ROOT / "README.md").read_text()
    table = readme[readme.index("## Settings"):readme.index("## Using it")]
    missing = [name for name in SETTINGS if f"`{name}`" not in table]
    assert not missing, f"README's settings table lacks {missing}"


def _compose_clis() -> list[list[str]]:
    clis = []
    if shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        clis.append(["docker", "compose"])
    if shutil.which("docker-compose"):
        clis.append(["docker-compose"])
    return clis


def _project(tmp_path, env_text: str):
    for name in ("docker-compose.yml", "compose.dev.yml", "Dockerfile"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "deploy", tmp_path / "deploy")
    (tmp_path / ".env").write_text(env_text)
    return tmp_path


def filled_env() -> str:
    """.env.example with every REQUIRED line given a value, as an operator would."""
    values = {"DOMAIN": "shop.example.com", "ACME_EMAIL": "ops@example.com",
              "PUBLIC_BASE_URL": "https://shop.example.com", "TELEGRAM_BOT_TOKEN": "123:abc"}
    lines = []
    for line in (ROOT / ".env.example").read_text().splitlines():
        m = re.match(r"^([A-Z][A-Z0-9_]*)=$", line)
        lines.append(f"{m.group(1)}={values.get(m.group(1), '0123456789abcdef0123')}" if m else line)
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("which", ["prod", "dev"])
def test_docker_compose_config_accepts_the_files(tmp_path, which):
    clis = _compose_clis()
    if not clis:
        pytest.skip("neither `docker compose` nor `docker-compose` is installed (make test installs Debian's docker-compose)")
    project = _project(tmp_path, filled_env() if which == "prod" else "")
    for cli in clis:
        res = subprocess.run([*cli, "-f", COMPOSE[which].name, "config"], cwd=project, capture_output=True, text=True,
                             timeout=60, env={**os.environ, "COMPOSE_PROJECT_NAME": "orderline"})
        assert res.returncode == 0, (cli, res.stderr)
        rendered = yaml.safe_load(res.stdout)["services"]
        assert {"web", "worker"} <= set(rendered)
        if which == "prod":
            assert rendered["web"]["environment"]["API_TOKEN"] == "0123456789abcdef0123"


def test_docker_compose_refuses_a_missing_secret_naming_it(tmp_path):
    clis = _compose_clis()
    if not clis:
        pytest.skip("neither `docker compose` nor `docker-compose` is installed (make test installs Debian's docker-compose)")
    project = _project(tmp_path, filled_env().replace("REDIS_PASSWORD=0123456789abcdef0123", "REDIS_PASSWORD="))
    for cli in clis:
        res = subprocess.run([*cli, "config"], cwd=project, capture_output=True, text=True, timeout=60)
        assert res.returncode != 0 and "set REDIS_PASSWORD in .env" in res.stderr, (cli, res.stderr)


def test_caddy_validates_the_caddyfile():
    if not shutil.which("caddy"):
        pytest.skip("caddy is not installed (make test installs Debian's caddy)")
    env = {**os.environ, "DOMAIN": "shop.example.com", "ACME_EMAIL": "ops@example.com"}
    res = subprocess.run(["caddy", "validate", "--config", "deploy/Caddyfile", "--adapter", "caddyfile"], cwd=ROOT,
                         env=env, capture_output=True, text=True, timeout=60)
    assert res.returncode == 0 and "Valid configuration" in res.stdout + res.stderr, res.stderr
    fmt = subprocess.run(["caddy", "fmt", "deploy/Caddyfile"], cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert fmt.stdout == (ROOT / "deploy" / "Caddyfile").read_text()  # formatted as Caddy writes it


def test_shell_scripts_parse():
    for script, shell in (("redis-node.sh", "sh"), ("redis-sentinel.sh", "sh"), ("mongo-member.sh", "bash")):
        res = subprocess.run([shell, "-n", str(ROOT / "deploy" / script)], capture_output=True, text=True)
        assert res.returncode == 0, (script, res.stderr)


MONGOSH_FAKE = textwrap.dedent("""
    // Just enough of mongosh's globals to run deploy/mongo-init.js in node and record what it does.
    const vm = require("vm"), fs = require("fs");
    const [initiated, userExists, primaryHere] = process.argv.slice(2).map((a) => a === "1");
    const calls = [];
    const adminDb = (where) => ({
      auth: (u, p) => calls.push(`auth ${where} ${u} ${p}`),
      runCommand: () => (primaryHere ? { isWritablePrimary: true } : { isWritablePrimary: false, primary: "mongo-2:27017" }),
      getUser: () => (userExists ? { user: "orderline" } : null),
      createUser: (u) => calls.push(`createUser ${where} ${u.user} ${u.pwd} ${JSON.stringify(u.roles)}`),
      updateUser: (n, u) => calls.push(`updateUser ${where} ${n} ${u.pwd}`),
    });
    const context = {
      process: { env: { MONGO_ROOT_PASSWORD: "rootpw", MONGO_APP_PASSWORD: "apppw", MONGO_DB: "shop" } },
      db: { getSiblingDB: (name) => adminDb("mongo-1") },
      rs: {
        status: () => { if (!initiated) { const e = new Error("no config"); e.codeName = "NotYetInitialized"; throw e; } return {}; },
        initiate: (cfg) => calls.push(`initiate ${cfg.members.map((m) => m.host).join(",")}`),
      },
      Mongo: function (host) { this.getDB = () => adminDb(host); },
      sleep: () => {}, print: () => {},
    };
    vm.runInNewContext(fs.readFileSync(process.argv[1].replace(/fake\\.js$/, "") + "mongo-init.js", "utf8"), context);
    console.log(JSON.stringify(calls));
""")


@pytest.mark.parametrize("initiated, user_exists, primary_here, expected", [
    (False, False, True, ["auth mongo-1 root rootpw", "initiate mongo-1:27017,mongo-2:27017,mongo-3:27017",
                          'createUser mongo-1 orderline apppw [{"role":"readWrite","db":"shop"}]']),
    (True, True, False, ["auth mongo-1 root rootpw", "auth mongo-2:27017 root rootpw",
                         "updateUser mongo-2:27017 orderline apppw"]),
])
def test_mongo_init_initiates_once_and_writes_the_user_on_the_primary(tmp_path, initiated, user_exists, primary_here,
                                                                     expected):
    """No MongoDB can run here: mongo-init.js runs in node against a fake of mongosh's globals."""
    if not shutil.which("node"):
        pytest.skip("node is not installed: mongo-init.js is not checked here")
    shutil.copy(ROOT / "deploy" / "mongo-init.js", tmp_path / "mongo-init.js")
    (tmp_path / "fake.js").write_text(MONGOSH_FAKE)
    flags = ["1" if f else "0" for f in (initiated, user_exists, primary_here)]
    res = subprocess.run(["node", str(tmp_path / "fake.js"), *flags], capture_output=True, text=True, timeout=30)
    assert res.returncode == 0, res.stderr
    import json

    assert json.loads(res.stdout) == expected
