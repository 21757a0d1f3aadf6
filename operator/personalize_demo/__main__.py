"""`make demo`: control plane + emulator + operator + the example tracker reaching Active.

Every step is what a user would do by hand: start a cluster, install the CRD,
run `personalize-operator run`, `kubectl apply` the example, wait for Ready,
then act as an application pod (read the trackingId from the Secret, send
PutEvents with it). Runs until Ctrl-C, then stops every process it started.
"""

from __future__ import annotations

import base64
import contextlib
import datetime
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

from local_cluster.cluster import ControlPlane
from local_cluster.processes import spawn
from local_cluster.processes import stop as stop_process
from personalize_emulator.testing import running_emulator

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "eventtracker.yaml"
REGION = "us-east-1"


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


def main() -> int:
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started with SIGINT ignored
    work = Path(tempfile.mkdtemp(prefix="personalize-demo-"))
    logs = work / "logs"
    started = time.monotonic()
    plane = ControlPlane(workdir=work / "cluster", kubeconfig_path=REPO / ".local" / "demo.kubeconfig")
    children: list[subprocess.Popen[bytes]] = []
    stack = contextlib.ExitStack()
    try:
        say("starting the local control plane (kube-apiserver, kube-controller-manager, etcd)")
        plane.start()
        kubeconfig = plane.kubeconfig
        say(f"control plane ready at {plane.server} (kubeconfig: {kubeconfig})")

        emulator = stack.enter_context(running_emulator(subprocess=True, transition_delay=1.0))
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
        for child in reversed(children):
            stop_process(child)
        stack.close()
        plane.stop()
        say(f"stopped every process; logs kept in {logs}")


if __name__ == "__main__":
    sys.exit(main())
