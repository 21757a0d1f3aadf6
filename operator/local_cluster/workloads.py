"""Manifests for pods on the local node: the emulator's Service and an application that mounts the Secret.

Why here: tests/node and `make demo` run the same application the same way.
Pods reach the emulator (listening on the host's address) through a Service
without selector whose EndpointSlice is that address, as they would reach any
service outside the cluster.
"""

from __future__ import annotations

from typing import Any

EMULATOR_SERVICE = "personalize-emulator"
SECRET_MOUNT = "/etc/tracking"
# Reads the mounted trackingId, sends one PutEvents for each value it sees, prints hashes (never the id).
APPLICATION = """
import hashlib, json, os, time
import boto3

def digest(value):
    return hashlib.sha256(value.encode()).hexdigest()

events = boto3.client("personalize-events")
sent = None
while True:
    current = open("/etc/tracking/trackingId").read()
    if current != sent:
        events.put_events(
            trackingId=current, sessionId="node-pod", eventList=[{"eventType": "click", "sentAt": time.time()}]
        )
        sent = current
        print(json.dumps({"file": digest(current), "env": digest(os.environ["TRACKING_ID"])}), flush=True)
    time.sleep(1)
"""

# Reads both values from its environment (envFrom, issue 27), sends one PutEvents, prints hashes, then waits.
ENV_APPLICATION = """
import hashlib, json, os, time
import boto3

def digest(value):
    return hashlib.sha256(value.encode()).hexdigest()

tracking_id = os.environ["PERSONALIZE_TRACKING_ID"]
arn = os.environ["PERSONALIZE_EVENT_TRACKER_ARN"]
boto3.client("personalize-events").put_events(
    trackingId=tracking_id, sessionId="env-pod", eventList=[{"eventType": "click", "sentAt": time.time()}]
)
print(json.dumps({"env": digest(tracking_id), "arn": digest(arn), "sent": True}), flush=True)
while True:
    time.sleep(3600)
"""


def emulator_service(host: str, port: int) -> list[dict[str, Any]]:
    """A Service (port 80) and its EndpointSlice pointing at host:port."""
    return [
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": EMULATOR_SERVICE},
            "spec": {"ports": [{"port": 80, "targetPort": port, "protocol": "TCP"}]},
        },
        {
            "apiVersion": "discovery.k8s.io/v1",
            "kind": "EndpointSlice",
            "metadata": {
                "name": f"{EMULATOR_SERVICE}-host",
                "labels": {"kubernetes.io/service-name": EMULATOR_SERVICE},
            },
            "addressType": "IPv4",
            "endpoints": [{"addresses": [host]}],
            "ports": [{"port": port, "protocol": "TCP"}],
        },
    ]


def deployment(name: str, container: dict[str, Any], volumes: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A one-replica Deployment of `container`, its pods labelled app=<name>."""
    pod: dict[str, Any] = {"containers": [container]}
    if volumes:
        pod["volumes"] = volumes
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}}, "spec": pod},
        },
    }


def _app_container(image: str, program: str, env: list[dict[str, Any]], **more: Any) -> dict[str, Any]:
    return {
        "name": "app",
        "image": image,
        "imagePullPolicy": "Never",
        "command": ["python3", "-c", program],
        "env": env,
        **more,
        "securityContext": {"readOnlyRootFilesystem": True, "allowPrivilegeEscalation": False},
    }


def application(name: str, image: str, secret: str, aws_env: dict[str, str]) -> dict[str, Any]:
    """A Deployment whose container mounts `secret` at SECRET_MOUNT and reads its trackingId into TRACKING_ID too."""
    env = [{"name": key, "value": value} for key, value in aws_env.items()]
    env.append({"name": "TRACKING_ID", "valueFrom": {"secretKeyRef": {"name": secret, "key": "trackingId"}}})
    mounts = [{"name": "tracking", "mountPath": SECRET_MOUNT, "readOnly": True}]
    container = _app_container(image, APPLICATION, env, volumeMounts=mounts)
    return deployment(name, container, [{"name": "tracking", "secret": {"secretName": secret}}])


def env_application(name: str, image: str, secret: str, aws_env: dict[str, str]) -> dict[str, Any]:
    """A Deployment whose container takes every key of `secret` as environment variables (envFrom)."""
    env = [{"name": key, "value": value} for key, value in aws_env.items()]
    container = _app_container(image, ENV_APPLICATION, env, envFrom=[{"secretRef": {"name": secret}}])
    return deployment(name, container)
