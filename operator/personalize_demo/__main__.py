"""`make demo`: control plane + emulator + operator + the example tracker reaching Active.

Every step is what a user would do by hand: start a cluster, install the CRD,
run `personalize-operator run`, `kubectl apply` the example, wait for Ready,
then the application step: when this machine can run the local node (root,
containerd and runc, and the image from `make image`), a real pod mounts the
Secret and sends PutEvents with the trackingId it reads from the file;
otherwise this process acts as that pod (reads the Secret, sends PutEvents).
PERSONALIZE_DEMO_NODE=0 skips the node. Runs until Ctrl-C, then stops every
process it started.
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import FrameType

import boto3
import yaml

from local_cluster import node, workloads
from local_cluster.cluster import ControlPlane
from local_cluster.processes import spawn
from local_cluster.processes import stop as stop_process
from personalize_emulator.testing import Emulator, aws_environment, running_emulator

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "eventtracker.yaml"
REGION = "us-east-1"
IMAGE = "localhost/personalize-operator:dev"  # what `make image` builds


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def say(text: str) -> None:
    print(f"==> {text}", flush=True)


def kubectl(kubeconfig: Path, *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        ["kubectl", f"--kubeconfig={kubeconfig}", *args], input=stdin, capture_output=True, text=True, timeout=300
    )
    if done.returncode != 0:
        raise SystemExit(f"kubectl {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


def node_unavailable() -> str:
    """Why the demo cannot use a real node here; empty when it can."""
    if os.environ.get("PERSONALIZE_DEMO_NODE") == "0":
        return "PERSONALIZE_DEMO_NODE=0"
    problems = node.missing_prerequisites()
    if not problems and node.another_node_running():
        problems.append("another local node runs on this machine")
    if shutil.which("podman") is None:
        problems.append("podman not found")
    elif subprocess.run(["podman", "image", "exists", IMAGE], capture_output=True, check=False).returncode != 0:
        problems.append(f"no image {IMAGE} (make image)")
    return "; ".join(problems)


def application_pod(kubeconfig: Path, namespace: str, secret: str, emulator: Emulator, host: str) -> None:
    """The application as a real pod: mounts the Secret, sends PutEvents with the id it reads from the file."""
    port = int(emulator.endpoint.rsplit(":", 1)[1])
    service = {"apiVersion": "v1", "kind": "List", "items": workloads.emulator_service(host, port)}
    kubectl(kubeconfig, "apply", "-n", namespace, "-f", "-", stdin=json.dumps(service))
    cluster_ip = kubectl(kubeconfig, "get", "service", workloads.EMULATOR_SERVICE, "-n", namespace, "-o",
                         "jsonpath={.spec.clusterIP}")  # fmt: skip
    deployment = workloads.application("storefront-app", IMAGE, secret, aws_environment(f"http://{cluster_ip}:80"))
    kubectl(kubeconfig, "apply", "-n", namespace, "-f", "-", stdin=json.dumps(deployment))
    say("deployment storefront-app: a pod mounting the Secret (volume and secretKeyRef), on the local node")
    print(kubectl(kubeconfig, "rollout", "status", "-n", namespace, "deployment/storefront-app", "--timeout=180s"))
    deadline = time.monotonic() + 60
    while not any(t.get("eventsReceived") for t in emulator.admin.trackers()):
        if time.monotonic() > deadline:
            raise SystemExit("the application pod sent no event within 60s; see kubectl logs deployment/storefront-app")
        time.sleep(0.5)
    line = kubectl(kubeconfig, "logs", "-n", namespace, "deployment/storefront-app").strip().splitlines()[-1:]
    say(f"the pod read trackingId from {workloads.SECRET_MOUNT} and sent PutEvents; the emulator accepted it")
    say(f"the pod printed sha256 hashes only: {line[0] if line else '(nothing yet)'}")


def main() -> int:
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started with SIGINT ignored
    work = Path(tempfile.mkdtemp(prefix="personalize-demo-"))
    logs = work / "logs"
    started = time.monotonic()
    unavailable = node_unavailable()
    images = () if unavailable else (node.save_podman_image(IMAGE, work / "image.tar"),)
    plane = ControlPlane(
        workdir=work / "cluster",
        kubeconfig_path=REPO / ".local" / "demo.kubeconfig",
        node=not unavailable,
        node_images=images,
    )
    children: list[subprocess.Popen[bytes]] = []
    stack = contextlib.ExitStack()
    try:
        say("starting the local control plane (kube-apiserver, kube-controller-manager, etcd)")
        say("with a node (kubelet, containerd)" if plane.node else f"without a node ({unavailable})")
        plane.start()
        kubeconfig = plane.kubeconfig
        say(f"control plane ready at {plane.server} (kubeconfig: {kubeconfig})")

        # With a node the emulator listens on the host's address, where pods can reach it.
        listen = {"host": plane.host} if plane.node else {}
        emulator = stack.enter_context(running_emulator(subprocess=True, transition_delay=1.0, **listen))
        os.environ.update(emulator.env(region=REGION))
        say(f"Personalize emulator listening on {emulator.endpoint}")

        manifest = yaml.safe_load(EXAMPLE.read_text())
        group_name = manifest["spec"]["datasetGroupArn"].rsplit("/", 1)[-1]
        personalize = boto3.client("personalize", region_name=REGION)
        group_arn = personalize.create_dataset_group(name=group_name)["datasetGroupArn"]
        manifest["spec"]["datasetGroupArn"] = group_arn
        say(f"created dataset group {group_arn}")

        kubectl(kubeconfig, "apply", "--server-side", "-f", str(REPO / "crds"))
        kubectl(
            kubeconfig,
            "wait",
            "--for=condition=Established",
            "--timeout=60s",
            "crd/eventtrackers.personalize.operators.dev",
        )
        say("installed the EventTracker CRD")

        operator = shutil.which("personalize-operator", path=str(Path(sys.executable).parent)) or ""
        children.append(
            spawn(
                [operator, "run", "--metrics-port=0", "--liveness="],
                logs / "operator.log",
                env={"KUBECONFIG": str(kubeconfig), **emulator.env(region=REGION)},
            )
        )
        say(f"operator running (log: {logs / 'operator.log'})")

        namespace = manifest["metadata"].get("namespace", "default")
        name = manifest["metadata"]["name"]
        say(f"kubectl apply -f {EXAMPLE.relative_to(REPO)}")
        print(kubectl(kubeconfig, "apply", "-f", "-", stdin=yaml.safe_dump(manifest)).strip(), flush=True)
        applied = time.monotonic()
        print(
            kubectl(
                kubeconfig, "wait", "-n", namespace, "--for=condition=Ready", "--timeout=180s", f"eventtracker/{name}"
            ).strip(),
            flush=True,
        )
        say(f"Ready {time.monotonic() - applied:.1f}s after apply ({time.monotonic() - started:.1f}s since start)")
        print(kubectl(kubeconfig, "get", "et", "-n", namespace, "-o", "wide"), flush=True)

        status = yaml.safe_load(kubectl(kubeconfig, "get", "et", name, "-n", namespace, "-o", "yaml"))["status"]
        secret = yaml.safe_load(
            kubectl(kubeconfig, "get", "secret", status["secretName"], "-n", namespace, "-o", "yaml")
        )
        say(f"Secret {status['secretName']} keys (values not shown): {', '.join(sorted(secret['data']))}")

        if plane.node:
            application_pod(kubeconfig, namespace, status["secretName"], emulator, plane.host)
        else:
            tracking_id = base64.b64decode(secret["data"]["trackingId"]).decode()
            events = boto3.client("personalize-events", region_name=REGION)
            events.put_events(
                trackingId=tracking_id,
                sessionId="demo-session",
                userId="demo-user",
                eventList=[{"eventType": "click", "itemId": "item-1", "sentAt": datetime.datetime.now(datetime.UTC)}],
            )
            del tracking_id
            say("as an application pod: read trackingId from the Secret and sent PutEvents; the emulator accepted it")
        say(f"all running. Try: kubectl --kubeconfig {kubeconfig} get et -A   (Ctrl-C to stop and clean up)")
        if os.environ.get("PERSONALIZE_DEMO_EXIT"):
            return 0
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        print(flush=True)
        say("stopping")
        return 0
    finally:
        # A second Ctrl-C must not cut the clean-up short (the node has mounts and iptables chains to undo).
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        for child in reversed(children):
            stop_process(child)
        stack.close()
        plane.stop()
        say(f"stopped every process; logs kept in {logs}")


if __name__ == "__main__":
    sys.exit(main())
