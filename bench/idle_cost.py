"""The idle cost of the periodic resync: AWS calls per Active resource per hour.

Starts the local control plane, the emulator and the operator (a short
resync, so the window holds several resyncs), makes N trackers Active, zeroes
the emulator's call counters, waits W seconds, and counts. Every figure comes
from the emulator's counters, never from the operator's logs. The cost per
resync does not depend on the interval, so the hourly cost at the default
interval is calls-per-resync x 3600 / default.

    .venv/bin/python bench/idle_cost.py [--trackers 20] [--resync 10] [--window 60]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import uuid
from pathlib import Path

from kubernetes import client, config

from local_cluster.cluster import ControlPlane
from personalize_emulator.testing import running_emulator
from personalize_operator.runtime.settings import OperatorSettings

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from support.kube import create_namespace, install_crd
from support.operator_process import OperatorProcess
from support.solo import new_dataset_group
from support.trackers import REPO, Trackers, manifest


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trackers", type=int, default=20)
    parser.add_argument("--resync", type=float, default=10.0, help="resync seconds used while measuring")
    parser.add_argument("--window", type=float, default=60.0, help="seconds of idle time counted")
    args = parser.parse_args()
    default_resync = OperatorSettings.model_fields["resync_seconds"].default

    with tempfile.TemporaryDirectory(prefix="idle-cost-") as work, ControlPlane(workdir=Path(work) / "cp") as plane:
        api = config.new_client_from_config(config_file=str(plane.kubeconfig))
        core, custom = client.CoreV1Api(api), client.CustomObjectsApi(api)
        install_crd(plane.kubeconfig, REPO / "crds")
        namespace = create_namespace(core, f"idle-{uuid.uuid4().hex[:6]}")
        with running_emulator(transition_delay=0.2, tracker_quota=10_000) as emulator:
            operator = OperatorProcess(
                kubeconfig=plane.kubeconfig,
                endpoint=emulator.endpoint,
                log=Path(work) / "operator.log",
                namespaces=[namespace],
                extra_env={"PERSONALIZE_OPERATOR_RESYNC_SECONDS": str(args.resync)},
            ).start()
            try:
                trackers = Trackers(custom=custom, core=core, namespace=namespace)
                for i in range(args.trackers):
                    trackers.create(manifest(f"idle-{i}", new_dataset_group(emulator, stem=f"idle{i}")))
                for i in range(args.trackers):
                    trackers.wait_phase(f"idle-{i}", "Active", timeout=120)
                time.sleep(2 * args.resync)  # let the first passes settle into the resync rhythm
                emulator.admin.reset_calls()
                time.sleep(args.window)
                calls = emulator.admin.calls()
            finally:
                operator.stop()

    total = sum(calls.values())
    resyncs = args.window / args.resync
    per_resync = total / args.trackers / resyncs
    result = {
        "trackers": args.trackers,
        "resync_seconds_measured": args.resync,
        "window_seconds": args.window,
        "calls_by_operation": calls,
        "calls_per_resource_per_resync": round(per_resync, 2),
        "default_resync_seconds": default_resync,
        "calls_per_resource_per_hour_at_default": round(per_resync * 3600 / default_resync, 1),
    }
    print(f"{'trackers':<48}{args.trackers}")
    print(f"{'calls in the window, by operation':<48}{calls}")
    print(f"{'calls per resource per resync':<48}{per_resync:.2f}")
    print(
        f"{'calls per resource per hour (resync ' + str(int(default_resync)) + ' s)':<40}"
        f"{per_resync * 3600 / default_resync:.1f}"
    )
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
