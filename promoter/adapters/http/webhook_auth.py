"""Who may deliver a webhook: the secrets (GitHub's HMAC signature, GitLab's
token) from the environment, constant-time comparison, a size limit, and
the replay memory. `webhooks` enforces these in the order its docstring
gives."""

from __future__ import annotations

import hashlib
import hmac
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from promoter.core import masking
from promoter.errors import InputError

if TYPE_CHECKING:
    from promoter.core.chatops.events import Event

DEFAULT_MAX_BODY = 1_048_576


REPLAY_MEMORY = 10_000


GITHUB_SECRET_VARIABLE = "PROMOTER_WEBHOOK_SECRET"


GITLAB_TOKEN_VARIABLE = "PROMOTER_GITLAB_WEBHOOK_TOKEN"


@dataclass(frozen=True)
class WebhookSettings:
    github_secret: str | None = None
    gitlab_token: str | None = None
    max_body: int = DEFAULT_MAX_BODY
    accepts: Callable[[Event], bool] | None = None
    """Whether this server serves the event's repository (None: any)."""

    @classmethod
    def from_environ(cls, environ: dict[str, str], **kwargs: Any) -> WebhookSettings:
        github = environ.get(GITHUB_SECRET_VARIABLE) or None
        gitlab = environ.get(GITLAB_TOKEN_VARIABLE) or None
        masking.register(github)
        masking.register(gitlab)
        return cls(github_secret=github, gitlab_token=gitlab, **kwargs)


class ReplayGuard:
    """A bounded, thread-safe memory of keys seen recently (oldest forgotten)."""

    def __init__(self, size: int = REPLAY_MEMORY) -> None:
        self.size = size
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def seen(self, key: str) -> bool:
        """True if `key` was seen before; otherwise remember it and say False."""
        with self._lock:
            if key in self._seen:
                self._seen.move_to_end(key)
                return True
            self._seen[key] = None
            if len(self._seen) > self.size:
                self._seen.popitem(last=False)
            return False


def require_secret(settings: WebhookSettings) -> None:
    """Refuse to run unverified: without a secret anyone could command the bot."""
    if not (settings.github_secret or settings.gitlab_token):
        raise InputError(
            "the webhook receiver needs a secret to verify deliveries",
            hint=f"set {GITHUB_SECRET_VARIABLE} (GitHub) and/or {GITLAB_TOKEN_VARIABLE} "
            "(GitLab) to the secret configured on the webhook",
        )


def github_signature(secret: str, body: bytes) -> str:
    """The `X-Hub-Signature-256` value GitHub sends for `body`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def same_secret(given: str, expected: str) -> bool:
    # compare_digest refuses non-ASCII str; header values may hold anything.
    return hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode("utf-8"))
