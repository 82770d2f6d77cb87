"""The monitoring profile of docker-compose.yml, deploy/prometheus/ and the Grafana dashboard.

``docker-compose config`` resolves the profile (tests/ops/test_compose.py's helper); the
dashboard JSON and the Prometheus files are checked for shape, and every metric they query is
checked against the names ``/metrics`` really exposes (rendered from the app in process).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from django.test import Client, override_settings
from prometheus_client.parser import text_string_to_metric_families

from backend.celery import QUEUES
from core.heartbeat import beat_heartbeat_write
from tests.conftest import REPO_DIR
from tests.ops.test_compose import resolved

DASHBOARD = REPO_DIR / "deploy" / "grafana" / "dashboards" / "adspark.json"
PROMETHEUS = REPO_DIR / "deploy" / "prometheus"
# PromQL words that are not metric names.
PROMQL = {
    "sum",
    "max",
    "min",
    "by",
    "rate",
    "histogram_quantile",
    "count",
    "vector",
    "or",
    "and",
    "le",
    "absent",
    "humanize",
    "humanizeDuration",
    "without",
    "on",
    "bool",
    "avg",
    "increase",
    "e",
}


@pytest.fixture(scope="module")
def dashboard() -> dict:
    return json.loads(DASHBOARD.read_text())


@pytest.fixture
def exposed(db: None) -> set[str]:
    """Every sample name /metrics exposes (counters with ``_total``, histograms with ``_bucket``…)."""
    import ai_agent.metrics  # noqa: F401 - loaded by the worker; register its counters here too
    import core.metrics.celery  # noqa: F401

    beat_heartbeat_write(sent_at=None, hostname="test")
    with override_settings(METRICS_TOKEN="t", METRICS_BASIC_AUTH=""):
        body = Client().get("/metrics", HTTP_HOST="localhost", HTTP_AUTHORIZATION="Bearer t").content.decode()
    names = set()
    for family in text_string_to_metric_families(body):
        names.add(family.name)
        suffixes = {"counter": ["_total", "_created"], "histogram": ["_bucket", "_count", "_sum", "_created"]}
        names |= {family.name + suffix for suffix in suffixes.get(family.type, [])}
    return names


def metric_names(expr: str) -> set[str]:
    stripped = re.sub(r"\{[^}]*\}", "", expr)  # label matchers
    stripped = re.sub(r"\[[^\]]*\]", "", stripped)  # ranges
    stripped = re.sub(r'"[^"]*"', "", stripped)
    words = set(re.findall(r"[a-zA-Z_][a-zA-Z0-9_]*", stripped))
    return {word for word in words if word not in PROMQL and "_" in word}


def test_it_has_a_row_per_queue_with_depth_consumers_throughput_p95_and_failures(dashboard) -> None:  # type: ignore[no-untyped-def]
    rows: dict[str, list[dict]] = {}
    current = None
    for panel in dashboard["panels"]:
        if panel["type"] == "row":
            current = panel["title"]
            rows[current] = []
        else:
            rows[current].append(panel)
    for queue in QUEUES:
        panels = rows[f"Queue {queue}"]
        exprs = " ".join(t["expr"] for p in panels for t in p["targets"])
        assert f'queue="{queue}"' in exprs
        for metric in (
            "adspark_queue_depth",
            "adspark_queue_consumers",
            "adspark_celery_tasks_total",
            "adspark_celery_task_runtime_seconds_bucket",
        ):
            assert metric in exprs, (queue, metric)
        assert "histogram_quantile(0.95" in exprs and 'state=~"failure' in exprs
    assert "adspark_serpapi_budget_remaining" in json.dumps(rows["SerpApi spend"])
    assert "adspark_jobs" in json.dumps(rows["Jobs"])
    assert dashboard["uid"] and dashboard["schemaVersion"] >= 36
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))


def test_it_queries_only_metrics_that_exist(dashboard, exposed) -> None:  # type: ignore[no-untyped-def]
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    rules = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())
    exprs += [rule["expr"] for group in rules["groups"] for rule in group["rules"]]
    unknown = {name for expr in exprs for name in metric_names(expr)} - exposed
    assert not unknown, unknown
    print(
        f"{len(exprs)} queries over {len({n for e in exprs for n in metric_names(e)})} metrics, all exposed"
    )


def test_it_scrapes_the_web_and_every_worker_replica_with_the_metrics_login() -> None:
    config = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert jobs["adspark-web"]["static_configs"][0]["targets"] == ["backend:8000"]
    workers = jobs["adspark-workers"]["dns_sd_configs"][0]
    assert (
        set(workers["names"]) == {f"celery-worker-{q.replace('_', '-')}" for q in QUEUES}
        and workers["port"] == 9808
    )
    for job in jobs.values():
        assert job["metrics_path"] == "/metrics"
        assert set(job["basic_auth"]) == {"username_file", "password_file"}  # no password inline


def test_it_provisions_prometheus_and_grafana_in_the_monitoring_profile(tmp_path: Path) -> None:
    services = resolved(tmp_path, "docker-compose.yml")["services"]
    prometheus, grafana = services["prometheus"], services["grafana"]
    assert prometheus["profiles"] == ["monitoring"] and grafana["profiles"] == ["monitoring"]
    mounts = " ".join(str(v) for v in prometheus["volumes"])
    assert "deploy/prometheus/prometheus.yml" in mounts and "deploy/prometheus/alerts.yml" in mounts
    assert prometheus["environment"]["METRICS_BASIC_AUTH"]
    assert all(str(port).startswith("127.0.0.1:") for port in prometheus["ports"])
    mounts = " ".join(str(v) for v in grafana["volumes"])
    assert "deploy/grafana/provisioning" in mounts and "deploy/grafana/dashboards" in mounts
    assert (
        grafana["environment"]["GF_SECURITY_ADMIN_PASSWORD"]
        and grafana["environment"]["GF_AUTH_ANONYMOUS_ENABLED"] == "false"
    )
    for name in (
        "celery-worker-default",
        "celery-worker-data-fetch",
        "celery-worker-ai-generation",
        "celery-worker-maintenance",
    ):
        env = services[name]["environment"]
        assert env["CELERY_METRICS_PORT"] == "9808" and env["PROMETHEUS_MULTIPROC_DIR"] == "/tmp/prometheus"
        assert "/tmp/prometheus" in services[name]["tmpfs"]
    assert services["backend"]["environment"]["PROMETHEUS_MULTIPROC_DIR"] == "/tmp/prometheus"
    assert "-c gunicorn.conf.py" in services["backend"]["command"]
    provider = yaml.safe_load((REPO_DIR / "deploy/grafana/provisioning/dashboards/adspark.yml").read_text())
    assert provider["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards"
    datasource = yaml.safe_load(
        (REPO_DIR / "deploy/grafana/provisioning/datasources/prometheus.yml").read_text()
    )
    uid = datasource["datasources"][0]["uid"]
    dashboard = json.loads(DASHBOARD.read_text())
    assert {p["datasource"]["uid"] for p in dashboard["panels"] if "datasource" in p} == {uid}
