"""`personalize-emulator`: run the emulator until interrupted.

Prints one line, `personalize-emulator listening on http://HOST:PORT`, once
the port is bound, so launchers that pass `--port 0` can read the endpoint.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import sys
from collections.abc import Sequence
from types import FrameType

from personalize_emulator.config import EmulatorConfig

READY_PREFIX = "personalize-emulator listening on "


def _non_negative_float(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, not {text}")
    return value


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, not {text}")
    return value


def parser() -> argparse.ArgumentParser:
    defaults = EmulatorConfig()
    p = argparse.ArgumentParser(
        prog="personalize-emulator",
        description="Amazon Personalize emulator (AWS JSON 1.1 + personalize-events PutEvents) for tests and demos.",
    )
    p.add_argument("--host", default=defaults.host, help="address to bind (default %(default)s)")
    p.add_argument("--port", type=int, default=defaults.port, help="port to bind; 0 picks a free one (default 0)")
    p.add_argument("--account-id", default=defaults.account_id, help="12-digit account id (default %(default)s)")
    p.add_argument(
        "--transition-delay",
        type=_non_negative_float,
        default=defaults.transition_delay,
        metavar="SECONDS",
        help="time each status transition takes, 0 allowed (default %(default)s)",
    )
    p.add_argument(
        "--tracker-quota",
        type=_non_negative_int,
        default=defaults.tracker_quota,
        help="event trackers per account and region (default %(default)s)",
    )
    p.add_argument(
        "--max-tags-per-resource",
        type=_non_negative_int,
        default=defaults.max_tags_per_resource,
        help="tags per resource before TooManyTagsException (default %(default)s, AWS's documented limit)",
    )
    p.add_argument(
        "--tps-limit",
        type=_non_negative_float,
        default=defaults.tps_limit,
        metavar="N",
        help="calls per second per API and region before LimitExceededException/ThrottlingException (default 0: none)",
    )
    p.add_argument("--seed", type=int, default=None, help="seed for fault injection (default: random)")
    p.add_argument(
        "--credential-duration",
        type=float,
        default=None,
        help="seconds AssumeRole credentials last, whatever DurationSeconds asks (default: as asked, 3600)",
    )
    p.add_argument(
        "--iam-policy",
        action="append",
        default=[],
        metavar="PRINCIPAL=FILE",
        help="attach the IAM policy in FILE to PRINCIPAL, an access key id or a role ARN (repeatable); a principal"
        " with policies is authorized by them, one without is allowed everything (default: none)",
    )
    p.add_argument("--log-level", default="WARNING", help="Python logging level (default %(default)s)")
    return p


def _stop(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        config = EmulatorConfig(
            host=args.host,
            port=args.port,
            account_id=args.account_id,
            transition_delay=args.transition_delay,
            tracker_quota=args.tracker_quota,
            max_tags_per_resource=args.max_tags_per_resource,
            seed=args.seed,
            credential_duration=args.credential_duration,
            tps_limit=args.tps_limit,
            iam_policy_files=tuple(args.iam_policy),
        )
        from personalize_emulator.iam_policies import load_startup

        load_startup(config.iam_policy_files)  # a bad policy file is refused before the port is bound
    except ValueError as error:
        print(f"personalize-emulator: {error}", file=sys.stderr)
        return 2

    from personalize_emulator.server import EmulatorServer  # botocore loads here, after argument errors

    try:
        server = EmulatorServer(config)
    except OSError as error:
        print(f"personalize-emulator: cannot listen on {config.host}:{config.port}: {error}", file=sys.stderr)
        return 1
    signal.signal(signal.SIGTERM, _stop)
    print(f"{READY_PREFIX}{server.endpoint}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    return 0
