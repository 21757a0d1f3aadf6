"""`make cluster`: run the local control plane in the foreground until Ctrl-C."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from pathlib import Path
from types import FrameType

from local_cluster import build, node
from local_cluster.cluster import ControlPlane


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="local-cluster", description=__doc__)
    parser.add_argument("--workdir", type=Path, default=Path(".local/cluster"), help="state, certificates and logs")
    parser.add_argument("--kubeconfig", type=Path, default=Path(".local/kubeconfig"), help="admin kubeconfig to write")
    parser.add_argument(
        "--build-only",
        action="store_true",
        help="build or find the binaries (with --node: the node's too), print where",
    )
    parser.add_argument("--node", action="store_true", help="also start a real node (root; containerd, runc)")
    parser.add_argument(
        "--node-image",
        action="append",
        default=[],
        metavar="REF",
        help="podman image to import into the node's containerd (repeatable), e.g. localhost/personalize-operator:dev",
    )
    args = parser.parse_args(argv)

    if args.build_only:
        print(build.ensure_binaries())
        if args.node:
            print(build.ensure_node_binaries())
            print(build.ensure_pause())
        return 0
    signal.signal(signal.SIGTERM, _raise_interrupt)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started with SIGINT ignored
    workdir = args.workdir.resolve()
    images = tuple(
        node.save_podman_image(ref, workdir / "images" / f"{i}.tar") for i, ref in enumerate(args.node_image)
    )
    plane = ControlPlane(workdir=workdir, kubeconfig_path=args.kubeconfig.resolve(), node=args.node, node_images=images)
    started = time.monotonic()
    try:
        plane.start()
        versions = json.loads((build.module_dir() / "versions.json").read_text())
        print(
            f"Local control plane ready in {time.monotonic() - started:.1f}s "
            f"(Kubernetes {versions['kubernetes']}, etcd {versions['etcd']})\n"
            f"  API server: {plane.server}\n"
            f"  logs:       {plane.log_dir}\n"
            + (
                f"  node:       {node.NODE_NAME} Ready (logs in {plane.running_node.log_dir})\n"
                if plane.running_node
                else ""
            )
            + f"Use it from another shell:\n"
            f"  export KUBECONFIG={plane.kubeconfig}\n"
            f"  kubectl get --raw /version\n"
            f"Press Ctrl-C to stop.",
            flush=True,
        )
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        print("\nstopping the control plane ...", file=sys.stderr, flush=True)
    finally:
        # A second signal must not cut the clean-up short (the node has mounts and iptables chains to undo).
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        plane.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
