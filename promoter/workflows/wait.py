"""`promoter wait`: block until an environment's applier has synced a
revision and it is healthy — a pipeline step after a merge.

A controller synced to a *later* commit counts when `revision` is among its
ancestors (merges that land together are applied together). With promoter's
own agent the `promoter/apply` commit status on the revision is read from the
forge; with Argo CD or Flux their objects are.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from promoter.adapters.controllers import ControllerReader
from promoter.adapters.git import GitRepo
from promoter.core.config.model import Environment
from promoter.core.controllers import DEGRADED, HEALTHY, ControllerState, apply_status_state
from promoter.core.forge import APPLY_STATUS_CONTEXT

DONE, FAILED, WAITING = "healthy", "degraded", "waiting"


class Statuses(Protocol):
    def commit_statuses(self, sha: str) -> dict[str, str]: ...


@dataclass
class WaitResult:
    env: str
    revision: str
    outcome: str
    """healthy, degraded, or timeout."""
    states: list[ControllerState] = field(default_factory=list)
    waited_s: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "env": self.env,
            "revision": self.revision,
            "outcome": self.outcome,
            "waited_s": round(self.waited_s, 1),
            "states": [s.to_json() for s in self.states],
        }


def _reached(repo: GitRepo | None, revision: str, synced: str | None) -> bool:
    """`synced` is `revision` or a commit built on it."""
    if not synced:
        return False
    if synced.startswith(revision) or revision.startswith(synced):
        return True
    if repo is None or not repo.has_commit(synced) or not repo.has_commit(revision):
        return False
    return repo.run("merge-base", "--is-ancestor", revision, synced, check=False)[0] == 0


def judge(repo: GitRepo | None, revision: str, states: list[ControllerState]) -> str:
    """DONE when every object is healthy at the revision (or after it);
    FAILED when one is degraded there — or degraded without naming a
    revision (not found, suspended): waiting would not change it."""
    outcome = DONE
    for state in states:
        reached = _reached(repo, revision, state.revision)
        if state.verdict == DEGRADED and (reached or state.revision is None):
            return FAILED
        if state.verdict != HEALTHY or (state.revision is not None and not reached):
            outcome = WAITING
    return outcome


def agent_states(statuses: Statuses, revision: str, env: str) -> list[ControllerState]:
    """promoter's agent, as one state: its `promoter/apply` status on the revision."""
    state = statuses.commit_statuses(revision).get(APPLY_STATUS_CONTEXT)
    return [apply_status_state(state, revision)]


def wait_for(
    env: Environment,
    revision: str,
    *,
    repo: GitRepo | None,
    reader: ControllerReader | None,
    statuses: Callable[[], Statuses] | None,
    timeout: float,
    interval: float,
    say: Callable[[str], None] = lambda line: None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> WaitResult:
    """Poll every `interval` seconds until DONE, FAILED or `timeout`; `say`
    gets a line per object whenever what it reports changes."""
    start = clock()
    forge = statuses() if env.applier is None and statuses is not None else None
    said: list[str] = []
    while True:
        if env.applier is not None:
            assert reader is not None
            states = reader.states(env.applier, env.name)
        else:
            assert forge is not None
            states = agent_states(forge, revision, env.name)
        outcome = judge(repo, revision, states)
        lines = [
            f"{s.name}: {s.verdict} at {(s.revision or '-')[:12]}: {s.summary}" for s in states
        ]
        if lines != said:  # say what changed, not the same line every poll
            for line in lines:
                say(f"{env.name}: {line}")
            said = lines
        waited = clock() - start
        if outcome != WAITING:
            return WaitResult(env.name, revision, outcome, states, waited)
        if waited + interval > timeout:
            return WaitResult(env.name, revision, "timeout", states, waited)
        sleep(interval)
