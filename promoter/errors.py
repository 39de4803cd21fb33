"""The tool's own errors and the exit codes they map to.

Every failure a user can cause or meet is a subclass of `PromoterError`
carrying a message that says what is wrong and what to do next; the CLI's
one error handler turns it into that message and its `exit_code`.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Documented process exit codes (docs/cli.md lists them)."""

    OK = 0
    """Done, or nothing to do (already at that tag)."""
    CHECK_FAILED = 1
    """A check found a problem (`promoter check`)."""
    DIFFERENCES = 1
    """`promoter diff` found differences (as `kubectl diff` says it)."""
    INPUT = 2
    """Bad usage, config, image reference, YAML, or unknown env/service."""
    GIT = 3
    """A git or remote operation failed (clone, fetch, push, auth)."""
    CONFLICT = 4
    """The push kept being rejected because the branch moved; retries ran out."""
    FILESYSTEM = 5
    """A file in the working tree could not be read or written."""
    FORGE = 6
    """The GitHub/GitLab API refused or failed (token scope, repository, outage)."""
    REGISTRY = 7
    """An OCI registry refused or failed (credentials, unknown repository, outage)."""
    APPLY = 8
    """The applier could not render, apply or prune an environment."""
    HEALTH = 9
    """Applied, but objects did not become healthy before the timeout
    (`promoter wait`: the applier reports the revision degraded)."""
    TIMEOUT = 10
    """`promoter wait`: the revision was not synced and healthy before --timeout."""
    NOTIFY = 12
    """`promoter notify test`: a notification target did not take the message."""
    INTERNAL = 70
    """A bug in promoter: please report it with the output."""
    PIPE_CLOSED = 141
    """The reader of stdout went away (`promoter status | head -1`), as a
    process killed by SIGPIPE reports it (128 + 13); nothing is printed."""
    INTERRUPTED = 130
    """Stopped by Ctrl-C / SIGINT (the shell convention, 128 + 2)."""
    TERMINATED = 143
    """Stopped by SIGTERM, e.g. a cancelled CI job (128 + 15)."""


class PromoterError(Exception):
    """Base of every error promoter reports to users."""

    exit_code: ExitCode = ExitCode.INTERNAL
    default_hint = "if this persists, please report it with the output above"
    """What the CLI says when the error was raised without a hint of its own."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n  hint: {self.hint}"


class InputError(PromoterError):
    """Something the user gave us is wrong (flags, refs, names)."""

    exit_code = ExitCode.INPUT
    default_hint = (
        "see `promoter COMMAND --help` for the options and docs/config.md for promoter.yaml"
    )


class Problem:
    """One located problem in a file: `file:line: message`."""

    __slots__ = ("file", "line", "message")

    def __init__(self, file: str, line: int | None, message: str) -> None:
        self.file = file
        self.line = line
        self.message = message

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.message}"

    def __repr__(self) -> str:
        return f"Problem({self!s})"


class ConfigError(InputError):
    """promoter.yaml is missing or invalid; carries every problem found."""

    def __init__(self, problems: list[Problem], *, hint: str | None = None) -> None:
        self.problems = problems
        lines = "\n".join(str(p) for p in problems)
        super().__init__(f"invalid configuration:\n{lines}", hint=hint)


class ImageRefError(InputError):
    """An image reference does not follow the OCI distribution grammar."""


class YamlError(InputError):
    """A YAML file in the environment repository cannot be parsed."""


class EditError(InputError):
    """An edit cannot be applied (e.g. no reference to the image in a path)."""


class FileSystemError(PromoterError):
    """A file could not be read or written."""

    exit_code = ExitCode.FILESYSTEM
    default_hint = "check that the file exists and that promoter may read and write it"


class GitError(PromoterError):
    """A git command or remote operation failed."""

    exit_code = ExitCode.GIT
    default_hint = "check the remote URL, the network, and the token in PROMOTER_GIT_TOKEN"


class PushConflictError(GitError):
    """The branch kept moving under us; every retry was rejected."""

    exit_code = ExitCode.CONFLICT


class ForgeError(PromoterError):
    """The forge's API refused or failed (after retries)."""

    exit_code = ExitCode.FORGE
    default_hint = (
        "check the forge token (PROMOTER_FORGE_TOKEN, GITHUB_TOKEN or GITLAB_TOKEN), "
        "its scopes, and the repository"
    )


class RegistryError(PromoterError):
    """An OCI registry refused or failed (after retries)."""

    exit_code = ExitCode.REGISTRY
    default_hint = (
        "check the registry address, its credentials (PROMOTER_REGISTRY_USERNAME/PASSWORD "
        "or the Docker config) and that it is up"
    )
