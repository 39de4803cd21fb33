"""Hints for failed git commands: what the user can do about what git,
its HTTP transport or ssh said."""

from __future__ import annotations


def hint_for(stderr: str) -> str | None:
    """What to do about a failed git command, from what git (or ssh) said."""
    text = stderr.lower()
    if "authentication failed" in text or "could not read username" in text or " 401" in text:
        return (
            "set PROMOTER_GIT_TOKEN (or GITHUB_TOKEN / GITLAB_TOKEN) to a token with write access"
        )
    if "host key verification failed" in text:
        return (
            "ssh does not know the server's host key: add it to ~/.ssh/known_hosts "
            "(ssh-keyscan -p PORT HOST >> ~/.ssh/known_hosts), never switch checking off"
        )
    if "permission denied (publickey" in text:
        return (
            "the server refused the SSH key: load it into ssh-agent, or set "
            "GIT_SSH_COMMAND='ssh -i KEYFILE', and give it write access (a deploy key)"
        )
    if "does not allow request for unadvertised object" in text:
        return (
            "the server refused a partial clone's fetch (git protocol v0 over SSH): let "
            "sshd pass git's protocol on (AcceptEnv GIT_PROTOCOL), or set "
            "uploadpack.allowFilter and uploadpack.allowAnySHA1InWant on the repository"
        )
    if " 403" in text or "permission to" in text or "denied" in text:
        return "the token or key lacks write access to this repository"
    if ("remote branch" in text and "not found" in text) or "couldn't find remote ref" in text:
        return "check --branch or the environment's `branch:` in promoter.yaml"
    if "not found" in text or "does not appear to be a git repository" in text:
        return "check the repository URL (--repo-url) and that the token can see it"
    if "could not resolve host" in text or "connection refused" in text:
        return "the git server is unreachable from here"
    return None
