"""The leader-election decision and Lease records, table-tested without a cluster.

Protects the safety argument of leader.py: a standby takes the Lease only after it has seen
the record unchanged for the record's own duration (by its own clock), never while the holder
renews; the leader renews without a new acquireTime; a change of holder counts a transition.
The loop around these calls runs against a real API server in tests/e2e/test_leader_election.py.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from personalize_operator.cli import load_settings
from personalize_operator.runtime.leader import LeaseRecord, LeaseTimings, Observed, Verdict, claimed, decide, observe

ME, OTHER = "pod-a_1", "pod-b_2"
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def held_by(holder: str, renewed: int = 0, duration: float = 15) -> LeaseRecord:
    return LeaseRecord(holder=holder, duration=duration, renewed=T0.replace(second=renewed), acquired=T0)


@pytest.mark.parametrize(
    ("observed", "now", "verdict"),
    [
        pytest.param(None, 0, Verdict.CREATE, id="no-lease-creates"),
        pytest.param(Observed(held_by(ME), since=0), 100, Verdict.RENEW, id="ours-is-renewed-even-late"),
        pytest.param(Observed(held_by(OTHER), since=0), 14.9, Verdict.WAIT, id="held-and-fresh-waits"),
        pytest.param(Observed(held_by(OTHER), since=0), 15, Verdict.TAKE, id="unchanged-for-its-duration-is-taken"),
        pytest.param(Observed(held_by(OTHER, duration=60), since=0), 30, Verdict.WAIT, id="the-record-duration-rules"),
        pytest.param(Observed(held_by(""), since=0), 0, Verdict.TAKE, id="released-is-taken-at-once"),
    ],
)
def test_decide(observed: Observed | None, now: float, verdict: Verdict) -> None:
    assert decide(ME, observed, now) is verdict


def test_a_renewal_restarts_the_expiry_clock_and_an_unchanged_record_does_not() -> None:
    first = observe(None, held_by(OTHER, renewed=1), now=0)
    assert first == Observed(held_by(OTHER, renewed=1), since=0)
    assert observe(first, held_by(OTHER, renewed=1), now=10) is first
    assert observe(first, held_by(OTHER, renewed=3), now=10) == Observed(held_by(OTHER, renewed=3), since=10)
    assert observe(first, None, now=10) is None


def test_the_expiry_is_measured_by_the_standby_clock_not_the_record_timestamps() -> None:
    """A leader whose clock runs an hour behind still holds the Lease while it renews."""
    skewed = LeaseRecord(holder=OTHER, duration=15, renewed=T0.replace(year=2020), acquired=T0.replace(year=2020))
    assert decide(ME, observe(None, skewed, now=500), now=510) is Verdict.WAIT


def test_renewing_keeps_acquire_time_and_transitions() -> None:
    mine = LeaseRecord(holder=ME, duration=15, renewed=T0, acquired=T0, transitions=3)
    later = T0.replace(minute=5)
    assert claimed(ME, mine, 15, later) == LeaseRecord(ME, 15, renewed=later, acquired=T0, transitions=3)


@pytest.mark.parametrize(
    ("current", "transitions"),
    [
        pytest.param(None, 0, id="first-holder"),
        pytest.param(LeaseRecord(OTHER, 15, transitions=3), 4, id="taken-over"),
        pytest.param(LeaseRecord("", 1, transitions=3), 4, id="after-a-release"),
    ],
)
def test_taking_sets_acquire_time_and_counts_a_transition(current: LeaseRecord | None, transitions: int) -> None:
    assert claimed(ME, current, 15, T0) == LeaseRecord(ME, 15, renewed=T0, acquired=T0, transitions=transitions)


def test_no_api_call_outlasts_the_margin_between_renew_deadline_and_lease_duration() -> None:
    assert LeaseTimings(15, 10, 2).request_timeout == 2
    assert LeaseTimings(15, 14, 2).request_timeout == 0.5


class TestSettings:
    """The usual 15/10/2 s, and timings that would let two leaders overlap are refused naming the variable."""

    def test_defaults_are_client_go_s(self) -> None:
        settings = load_settings({})
        assert settings.leader_election is True and settings.lease_name == "personalize-operator"
        assert (settings.lease_duration, settings.renew_deadline, settings.retry_period) == (15, 10, 2)

    @pytest.mark.parametrize(
        ("env", "variable"),
        [
            pytest.param({"RENEW_DEADLINE": "15"}, "RENEW_DEADLINE", id="deadline-not-below-duration"),
            pytest.param({"RETRY_PERIOD": "6"}, "RETRY_PERIOD", id="one-try-per-deadline"),
            pytest.param({"LEASE_NAME": "Not_A_Name"}, "LEASE_NAME", id="bad-lease-name"),
        ],
    )
    def test_bad_timings_stop_start_up(
        self, monkeypatch: pytest.MonkeyPatch, env: dict[str, str], variable: str
    ) -> None:
        for key, value in env.items():
            monkeypatch.setenv(f"PERSONALIZE_OPERATOR_{key}", value)
        with pytest.raises(SystemExit, match=f"PERSONALIZE_OPERATOR_{variable}"):
            load_settings({})

    def test_flags_name_the_lease(self) -> None:
        from personalize_operator.cli import _parser

        args = _parser().parse_args(["run", "--lease-name=ops", "--lease-namespace=ops-ns", "--no-leader-election"])
        assert (args.lease_name, args.lease_namespace, args.leader_election) == ("ops", "ops-ns", False)
