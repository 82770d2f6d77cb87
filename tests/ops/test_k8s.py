"""deploy/k8s/: the kustomize base and the production overlay, validated offline.

No cluster runs here. ``kubectl kustomize`` (kubectl's built-in kustomize, no cluster needed)
renders the overlay; ``kubernetes-validate`` checks every core kind against the Kubernetes
OpenAPI schemas it bundles (strict: unknown fields fail); the KEDA objects are checked against
the ``openAPIV3Schema`` of the CRDs vendored in deploy/k8s/crds/. Then the rendered objects are
checked against the worker table of docs/architecture.md and the time limits of backend/celery.py.
"""

from __future__ import annotations

import copy
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from backend.celery import QUEUES, TASKS
from tests.conftest import REPO_DIR

K8S = REPO_DIR / "deploy" / "k8s"
KUBERNETES_VERSION = "1.37.0"
# queue -> (concurrency, memory limit): docs/architecture.md "Queues and workers".
WORKER_TABLE = {
    "default": (2, "512Mi"),
    "data_fetch": (2, "1Gi"),
    "ai_generation": (1, "2Gi"),
    "maintenance": (1, "512Mi"),
}
# The overlay's autoscaling bounds (deploy/k8s/overlays/production/scaling.yaml).
SCALING = {"default": (1, 4), "data_fetch": (1, 6), "ai_generation": (1, 3), "maintenance": (1, 2)}


def render(path: Path) -> list[dict[str, Any]]:
    if shutil.which("kubectl") is None:
        pytest.fail("kubectl is needed to render the kustomizations (apt-get install kubectl)")
    result = subprocess.run(["kubectl", "kustomize", str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


@pytest.fixture(scope="module")
def production() -> list[dict[str, Any]]:
    return render(K8S / "overlays" / "production")


def by_kind(objects: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {obj["metadata"]["name"]: obj for obj in objects if obj["kind"] == kind}


def crd_schema(filename: str, version: str = "v1alpha1") -> dict[str, Any]:
    crd = yaml.safe_load((K8S / "crds" / filename).read_text())
    (served,) = [v for v in crd["spec"]["versions"] if v["name"] == version and v["served"]]
    return served["schema"]["openAPIV3Schema"]


KEDA_SCHEMAS = {
    "ScaledObject": "keda.sh_scaledobjects.yaml",
    "TriggerAuthentication": "keda.sh_triggerauthentications.yaml",
}


def keda_errors(obj: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft7Validator(crd_schema(KEDA_SCHEMAS[obj["kind"]]))
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(obj)]


def worker_name(queue: str) -> str:
    return "adspark-worker-" + queue.replace("_", "-")


@pytest.mark.parametrize("path", ["base", "overlays/production"])
def test_it_renders_objects_that_kubernetes_and_keda_accept(path: str) -> None:
    objects = render(K8S / path)
    kinds = sorted({obj["kind"] for obj in objects})
    for obj in objects:
        if obj["apiVersion"].startswith("keda.sh/"):
            assert not keda_errors(obj), (obj["metadata"]["name"], keda_errors(obj))
        else:
            kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
    assert {
        "Deployment",
        "Service",
        "PodDisruptionBudget",
        "Job",
        "ConfigMap",
        "ScaledObject",
        "TriggerAuthentication",
    } <= set(kinds)
    print(f"{path}: {len(objects)} objects valid ({', '.join(kinds)})")


def test_it_rejects_what_the_vendored_schemas_forbid(production) -> None:  # type: ignore[no-untyped-def]
    scaled = by_kind(production, "ScaledObject")[worker_name("data_fetch")]
    broken = copy.deepcopy(scaled)
    broken["spec"]["minReplicaCount"] = "one"
    del broken["spec"]["scaleTargetRef"]
    assert len(keda_errors(broken)) == 2
    deployment = copy.deepcopy(by_kind(production, "Deployment")[worker_name("data_fetch")])
    deployment["spec"]["template"]["spec"]["terminationGracePeriod"] = 60  # misspelt field
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize("queue", QUEUES)
def test_it_runs_one_worker_deployment_per_queue_sized_and_stopped_as_the_tables_say(
    production, queue
) -> None:  # type: ignore[no-untyped-def]
    concurrency, memory = WORKER_TABLE[queue]
    deployment = by_kind(production, "Deployment")[worker_name(queue)]
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    args = container["args"]
    assert args[:4] == ["celery", "-A", "backend", "worker"]
    assert args[args.index("-Q") + 1] == queue
    assert int(args[args.index("-c") + 1]) == concurrency
    assert args[args.index("-n") + 1] == f"{queue}@%h"
    assert container["resources"]["limits"]["memory"] == memory
    # Warm shutdown: the kubelet waits longer than any task of the queue may run
    limits = [options for options in TASKS.values() if options["queue"] == queue]
    assert pod["terminationGracePeriodSeconds"] > max(o["soft_time_limit"] for o in limits)
    assert pod["terminationGracePeriodSeconds"] > max(o["time_limit"] for o in limits)
    # The liveness probe pings this very worker node
    probe = " ".join(container["livenessProbe"]["exec"]["command"])
    assert f"celery -A backend inspect ping -d {queue}@$HOSTNAME" in probe
    # Its pool's metrics are served for Prometheus in multiprocess mode
    env = {item["name"]: item.get("value") for item in container["env"]}
    assert env["CELERY_METRICS_PORT"] == "9808" and env["PROMETHEUS_MULTIPROC_DIR"] == "/tmp/prometheus"
    # KEDA owns the replica count
    assert "replicas" not in deployment["spec"]
    pdb = by_kind(production, "PodDisruptionBudget")[worker_name(queue)]
    assert pdb["spec"]["selector"]["matchLabels"] == deployment["spec"]["selector"]["matchLabels"]


@pytest.mark.parametrize("queue", QUEUES)
def test_it_scales_each_queue_on_its_redis_list_with_bounds_from_the_overlay(production, queue) -> None:  # type: ignore[no-untyped-def]
    scaled = by_kind(production, "ScaledObject")[worker_name(queue)]
    assert scaled["spec"]["scaleTargetRef"]["name"] == worker_name(queue)
    assert (scaled["spec"]["minReplicaCount"], scaled["spec"]["maxReplicaCount"]) == SCALING[queue]
    (trigger,) = scaled["spec"]["triggers"]
    assert trigger["type"] == "redis"
    assert trigger["metadata"]["listName"] == queue and trigger["metadata"]["databaseIndex"] == "0"
    auth = by_kind(production, "TriggerAuthentication")[trigger["authenticationRef"]["name"]]
    assert {ref["parameter"] for ref in auth["spec"]["secretTargetRef"]} == {"address", "password"}


def test_it_runs_exactly_one_beat_the_web_with_health_probes_and_flower_behind_auth(production) -> None:  # type: ignore[no-untyped-def]
    deployments = by_kind(production, "Deployment")
    beat = deployments["adspark-beat"]
    assert beat["spec"]["replicas"] == 1 and beat["spec"]["strategy"]["type"] == "Recreate"
    assert "adspark-beat" not in {
        s["spec"]["scaleTargetRef"]["name"] for s in by_kind(production, "ScaledObject").values()
    }
    (web,) = deployments["adspark-web"]["spec"]["template"]["spec"]["containers"]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert web[probe]["httpGet"]["path"] == "/api/health/"
    assert web["args"][:2] == ["gunicorn", "backend.wsgi:application"] and "gunicorn.conf.py" in web["args"]
    assert by_kind(production, "Service")["adspark-web"]["spec"]["selector"] == {
        "app.kubernetes.io/name": "adspark-web"
    }
    (flower,) = deployments["adspark-flower"]["spec"]["template"]["spec"]["containers"]
    auth = {item["name"]: item for item in flower["env"]}["FLOWER_BASIC_AUTH"]
    assert auth["valueFrom"]["secretKeyRef"] == {"name": "adspark", "key": "FLOWER_BASIC_AUTH"}
    assert all(obj["metadata"].get("namespace") == "adspark" for obj in production)


def test_it_takes_secrets_only_from_the_secret(production) -> None:  # type: ignore[no-untyped-def]
    secretish = (
        "KEY",
        "PASSWORD",
        "SECRET",
        "TOKEN",
        "AUTH",
        "DATABASE_URL",
        "BROKER_URL",
        "RESULT_BACKEND",
        "REDIS_URL",
    )
    assert not by_kind(production, "Secret"), "the Secret is made outside Git"
    for name, config in by_kind(production, "ConfigMap").items():
        assert not [key for key in config["data"] if any(word in key for word in secretish)], name
    for deployment in [*by_kind(production, "Deployment").values(), *by_kind(production, "Job").values()]:
        for container in deployment["spec"]["template"]["spec"]["containers"]:
            for item in container.get("env", []):
                if any(word in item["name"] for word in secretish):
                    assert "value" not in item and item["valueFrom"]["secretKeyRef"]["name"] == "adspark", (
                        item
                    )
            refs = [ref.get("secretRef", {}).get("name") for ref in container.get("envFrom", [])]
            assert set(refs) <= {"adspark", None}


def test_it_uses_the_worker_command_of_the_compose_file(production) -> None:  # type: ignore[no-untyped-def]
    # One worker table: compose and Kubernetes start each queue's worker with the same options.
    compose = yaml.safe_load((REPO_DIR / "docker-compose.yml").read_text())["services"]
    for queue in QUEUES:
        service = compose["celery-worker-" + queue.replace("_", "-")]
        (container,) = by_kind(production, "Deployment")[worker_name(queue)]["spec"]["template"]["spec"][
            "containers"
        ]
        assert shlex.split(service["command"]) == container["args"]
