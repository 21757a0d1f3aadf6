"""Pure decisions about restarting the workloads that read the trackingId once (spec.rolloutRestartTargets).

Which workloads to restart in a pass, which Events that posts, and what the resource says when a restart
could not happen. A restart is due only when the Secret's write replaced another trackingId of ours
(kube/secrets.tracking_id_replaced: never on the first write, never for a renamed key or a healed edit),
so each change restarts each target once; one that could not be restarted (forbidden, the API failed)
is kept in status.pendingRestarts and tried again at the next pass until it is done or unlisted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace

from personalize_operator.api.names import RestartResult
from personalize_operator.reconciler.decide import Decision, Event, Phase, Step

Target = tuple[str, str]  # (kind, name), e.g. ("Deployment", "storefront")
RESTART_RETRY_SECONDS = 60.0
RESTART_FORBIDDEN = "RolloutRestartForbidden"
RESTART_FAILED = "RolloutRestartFailed"
CHART_VALUE = "rbac.rolloutRestart"


def label(target: Target) -> str:
    return f"{target[0]}/{target[1]}"


def to_restart(replaced: bool, targets: Sequence[Target], pending: Iterable[Target]) -> list[Target]:
    """Every listed target when the trackingId was replaced now; else those still pending and still listed."""
    if replaced:
        return list(targets)
    waiting = set(pending)
    return [target for target in targets if target in waiting]


def restart_events(secret: str, results: Mapping[Target, RestartResult | str]) -> list[Event]:
    """One Event per target asked: restarted, missing, forbidden, or failed (a str: the failure's message)."""
    events = []
    for target, result in results.items():
        what = label(target)
        if result == RestartResult.RESTARTED:
            events.append(
                Event("Normal", "RolloutRestarted", f"restarted {what}: the trackingId in Secret {secret} changed")
            )
        elif result == RestartResult.MISSING:
            events.append(
                Event(
                    "Warning",
                    "RolloutRestartTargetNotFound",
                    f"{what} is listed in spec.rolloutRestartTargets but does not exist in this namespace; "
                    "nothing restarted",
                )
            )
        elif result == RestartResult.FORBIDDEN:
            events.append(Event("Warning", RESTART_FORBIDDEN, forbidden_message([target])))
        else:
            events.append(Event("Warning", RESTART_FAILED, str(result)))
    return events


def still_pending(results: Mapping[Target, RestartResult | str]) -> list[Target]:
    """Targets to try again: forbidden or failed (restarted and missing ones are done)."""
    done = {RestartResult.RESTARTED, RestartResult.MISSING}
    return [target for target, result in results.items() if result not in done]


def forbidden_message(targets: Sequence[Target]) -> str:
    names = ", ".join(label(t) for t in targets)
    return (
        f"the trackingId changed but restarting {names} was forbidden: the operator may not patch these workloads "
        f"(enable the chart value {CHART_VALUE}), or restart them by hand (kubectl rollout restart)"
    )


def decide_after_restarts(
    decision: Decision, results: Mapping[Target, RestartResult | str], pending: Sequence[Target]
) -> Decision:
    """An Active pass stays Active; with restarts left pending its Ready and Synced messages say why."""
    if decision.step != Step.SYNC or decision.phase != Phase.ACTIVE:
        return decision
    if not pending:
        return replace(decision, pending_restarts=())
    forbidden = [t for t in pending if results.get(t) == RestartResult.FORBIDDEN]
    if forbidden:
        reason, why = RESTART_FORBIDDEN, forbidden_message(forbidden)
    else:
        reason = RESTART_FAILED
        why = "; ".join(str(results[t]) for t in pending if t in results) or "restart not done"
    return replace(
        decision,
        reason=reason,
        message=f"{decision.message}; {why}; trying again in {RESTART_RETRY_SECONDS:.0f}s",
        requeue=RESTART_RETRY_SECONDS,
        warning=True,
        synced=False,
        pending_restarts=tuple(pending),
    )
