"""`personalize-operator run`: how the operator starts everywhere (demo, tests, image)."""

from __future__ import annotations

import argparse
import logging
import sys

import kopf
import prometheus_client
import pydantic

from personalize_operator.runtime import leader
from personalize_operator.runtime.health import Health, keep_in_touch, record_watch_activity, serve
from personalize_operator.runtime.settings import LogFormat, OperatorSettings
from personalize_operator.tools import commands as tool_commands

ENV_PREFIX = "PERSONALIZE_OPERATOR_"
QUIET_LOGGERS = ("botocore", "boto3", "urllib3", "kubernetes", "s3transfer")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="personalize-operator", description="Amazon Personalize EventTracker operator"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the operator (all namespaces unless --namespace is given)")
    run.add_argument(
        "-n",
        "--namespace",
        action="append",
        dest="namespaces",
        metavar="NS",
        help="watch this namespace (repeatable); default: all namespaces",
    )
    run.add_argument(
        "--liveness",
        dest="liveness_endpoint",
        metavar="URL",
        help="liveness endpoint, e.g. http://0.0.0.0:8080/healthz; readiness is /readyz on the same port ('' disables)",
    )
    run.add_argument(
        "--leader-election",
        action=argparse.BooleanOptionalAction,
        help="reconcile only while holding the Lease (default: on); --no-leader-election for a lone process",
    )
    run.add_argument("--lease-name", help="name of the leader-election Lease (default: personalize-operator)")
    run.add_argument("--lease-namespace", help="namespace of the Lease (default: the pod's own namespace)")
    run.add_argument("--metrics-port", type=int, help="Prometheus metrics port (0 disables)")
    run.add_argument(
        "--resync-seconds",
        type=float,
        metavar="S",
        help="look at every resource again after S seconds (+-20%% jitter), whatever its phase (default 600)",
    )
    run.add_argument("--log-level", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    run.add_argument("--log-format", choices=[f.value for f in LogFormat])
    tool_commands.register(commands)
    return parser


def load_settings(overrides: dict[str, object]) -> OperatorSettings:
    """Settings from the environment and flags; errors name the variable to fix."""
    try:
        return OperatorSettings(**{k: v for k, v in overrides.items() if v is not None})
    except pydantic.ValidationError as error:
        problems = "; ".join(
            f"{ENV_PREFIX}{str(e['loc'][0]).upper()}: {e['msg']}" for e in error.errors() if e.get("loc")
        )
        raise SystemExit(f"personalize-operator: invalid configuration: {problems}") from None


def run(settings: OperatorSettings) -> None:
    kopf.configure(log_format=kopf.LogFormat.JSON if settings.log_format == LogFormat.JSON else kopf.LogFormat.FULL)
    logging.getLogger().setLevel(settings.log_level)
    for chatty in QUIET_LOGGERS:  # at DEBUG they print AWS response bodies, trackingIds included
        logging.getLogger(chatty).setLevel(max(logging.WARNING, logging.getLogger().level))
    import personalize_operator.handlers  # noqa: F401  (registers the handlers)

    if settings.metrics_port:
        prometheus_client.start_http_server(settings.metrics_port)
    health = Health(api_timeout=settings.liveness_timeout, watch_timeout=settings.watch_timeout)
    if settings.liveness_endpoint:  # ours, not kopf's: it must answer before kopf starts (a standby never does)
        serve(health, settings.liveness_endpoint)
    record_watch_activity(health)
    elector: leader.LeaderElector | leader.NotElected = leader.NOT_ELECTED
    if settings.leader_election:
        elector = leader.elector_for(settings, on_contact=health.api_reached)
        health.identity = elector.identity
        elector.start().wait_until_leading()  # a standby stops here: no kopf, no watch, no AWS call
    else:
        keep_in_touch(health, settings.retry_period)
    health.leading()
    try:
        kopf.run(
            standalone=True,
            clusterwide=not settings.namespaces,
            namespaces=settings.namespaces,
            memo=kopf.Memo(settings=settings, leader=elector),
        )
    finally:
        if isinstance(elector, leader.LeaderElector):
            elector.stop(release=True)  # a clean stop hands over at once instead of after lease_duration


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command in tool_commands.NAMES:
        return tool_commands.dispatch(args)
    if args.command == "run":
        settings = load_settings(
            {
                "namespaces": args.namespaces,
                "liveness_endpoint": args.liveness_endpoint,
                "metrics_port": args.metrics_port,
                "resync_seconds": args.resync_seconds,
                "leader_election": args.leader_election,
                "lease_name": args.lease_name,
                "lease_namespace": args.lease_namespace,
                "log_level": args.log_level,
                "log_format": args.log_format,
            }
        )
        run(settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
