"""Errors the applier raises: its pure rules, and the API server's answers
as `promoter.adapters.kube` converts them.

They subclass `PromoterError` so the CLI's one error handler reports them,
with the applier's exit code (a render, annotation or stored inventory the
agent cannot act on).
"""

from __future__ import annotations

from collections.abc import Sequence

from promoter.errors import ExitCode, PromoterError


class ApplierError(PromoterError):
    """The applier refuses to go on; nothing was pruned."""

    exit_code = ExitCode.APPLY
    default_hint = "fix the manifests in Git; `promoter diff` shows what an apply would change"


class RenderEmptyError(ApplierError):
    """The render produced no objects and the environment does not allow it."""


class RenderInvalidError(ApplierError):
    """The render has objects the applier cannot key (no name, duplicates)."""


class WaveError(ApplierError, ValueError):
    """A `promoter.dev/wave` annotation is not an integer.

    Also a ValueError: it is a bad value in an object, and callers that only
    know the builtin hierarchy can still catch it.
    """


class InventoryError(ApplierError):
    """The stored inventory cannot be read or cannot be stored.

    Without a trustworthy inventory the agent must not prune.
    """


class KubeError(ApplierError):
    """The API server refused or failed a request (after retries)."""

    default_hint = "check that the cluster's API server is reachable and the agent's RBAC"

    def __init__(self, message: str, *, status: int | None = None, hint: str | None = None):
        super().__init__(message, hint=hint)
        self.status = status


class KubeUnavailableError(KubeError):
    """5xx, 429, timeouts or connection errors outlasted the retries."""


class KubeConflictError(KubeError):
    """Server-side apply conflicts with another field manager (409)."""


class UnknownKindError(KubeError):
    """The cluster does not serve this apiVersion/kind (yet)."""


def hint_for(status: int | None, *, impersonating: bool = False) -> str | None:
    """What to do about an API server's refusal, by HTTP status."""
    if status == 403 and impersonating:
        return (
            "the account promoter.yaml names (impersonated) lacks RBAC for this: the "
            "cluster decides what a tenant may do; see deploy/tenant/"
        )
    return {
        401: "the credentials in the kubeconfig (or the service account token) were refused",
        403: "the agent's service account lacks RBAC for this; see deploy/rbac/role.yaml",
        409: "another field manager owns this field: drop it from Git, or let promoter "
        "take it over with --force-conflicts",
        422: "the manifest is invalid for this cluster; fix it in Git",
    }.get(status or 0)


def first_hint(problems: Sequence[str]) -> str | None:
    """One hint for a list of failed applies (their messages)."""
    text = "\n".join(problems)
    if "conflict" in text:
        return (
            "another field manager owns a field promoter applies: drop it from Git, or "
            "let promoter take it over with --force-conflicts"
        )
    if "after" in text and "attempts" in text:
        return "the API server kept failing; the next round retries"
    return None
