"""`bump`: put a new image version into an environment on the remote.

Races are resolved by re-applying the edit, never by textual rebase: when a
push is rejected because the branch moved, we fetch the new tip, run the
(idempotent) edit again on it, commit and push, a bounded number of times
with jittered backoff. So no bump is lost or applied twice.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from promoter.adapters.git import GitRepo, Identity, auth_environment
from promoter.adapters.notify import Notifier
from promoter.adapters.scratch import scratch_dir
from promoter.adapters.signing import signing_config
from promoter.adapters.worktree import FileEdit, plan_set_image, read_deployed, write_edits
from promoter.core import masking
from promoter.core.commit_messages import DEFAULT_MESSAGE, check_template, commit_message
from promoter.core.config.loader import load_config
from promoter.core.config.model import CONFIG_FILENAMES, Config, Environment, Service
from promoter.core.config.templates import branch_problem
from promoter.core.edit import Change
from promoter.core.forge import Forge
from promoter.core.images import ImageRef, parse_reference, validate_digest, validate_tag
from promoter.core.notify.notices import bump_pushed
from promoter.core.plans import PlanItem, same_version
from promoter.core.pr_records import ProposalResult
from promoter.core.rehearsal import Rehearsal
from promoter.core.service_choice import needed, resolve_service
from promoter.core.tag_selection import select_latest
from promoter.errors import GitError, InputError, PushConflictError
from promoter.workflows.api_commits import api_committer, publish
from promoter.workflows.open_pr import propose
from promoter.workflows.workspace import DEFAULT_IDENTITY, Workspace

STUCK_LIMIT = 3


@dataclass(frozen=True)
class TagQuery:
    """`--latest`: pick the tag from the registry instead of naming it."""

    latest: bool = False
    constraint: str | None = None
    pattern: str | None = None
    extract: str | None = None
    order: str = "semver"
    resolve_digest: bool = False

    def check(self) -> None:
        """Refuse bad options before anything is fetched."""
        if self.latest:
            select_latest(
                [],
                constraint=self.constraint,
                pattern=self.pattern,
                extract=self.extract,
                order=self.order,
            )
        elif self.constraint or self.pattern or self.extract:
            raise InputError("--constraint, --pattern and --extract go with --latest")


class Registry(Protocol):
    def list_tags(self, repository: str) -> list[str]: ...
    def resolve_digest(self, ref: ImageRef) -> str: ...


@dataclass(frozen=True)
class BumpRequest:
    env: str
    repo_url: str
    service: str | None = None
    tag: str | None = None
    digest: str | None = None
    image: str | None = None
    branch: str | None = None
    message: str = DEFAULT_MESSAGE
    retries: int = 20
    query: TagQuery = TagQuery()

    def check(self) -> None:
        """Refuse what can be refused before touching the network."""
        if self.tag is not None:
            validate_tag(self.tag)
        if self.digest is not None:
            validate_digest(self.digest)
        if self.image is not None:
            parse_reference(self.image)
        if self.branch is not None:
            branch = self.branch
            problem = (
                branch_problem(branch) if "{" not in branch else f"{branch!r} has a placeholder"
            )
            if problem:
                raise InputError(f"--branch: {problem}", hint="give a plain branch name, e.g. main")
        check_template(self.message)
        if self.query.latest and (self.tag or self.image):
            raise InputError("--latest picks the tag: give --service without --tag/--image")
        self.query.check()


@dataclass
class BumpResult:
    service: str
    env: str
    branch: str
    changes: list[Change] = field(default_factory=list)
    commit: str | None = None
    attempts: int = 0
    proposal: ProposalResult | None = None
    """Set when the environment takes changes through pull requests."""


ForgeFactory = Callable[[Config], Forge]


def bump(
    request: BumpRequest,
    environ: Mapping[str, str],
    identity: Identity = DEFAULT_IDENTITY,
    sleep: Callable[[float], None] = time.sleep,
    forge: ForgeFactory | None = None,
    registry: Callable[[], Registry] | None = None,
    rehearsal: Rehearsal | None = None,
    notifier: Notifier | None = None,
) -> BumpResult:
    """`rehearsal` (--dry-run): everything but the push, which is only
    rehearsed and noted there (and nothing is notified)."""
    request.check()
    if rehearsal is not None:
        notifier = None
    signing = signing_config(environ)  # a key that cannot sign: exit 2 before any clone
    env_vars = auth_environment(request.repo_url, dict(environ))
    with scratch_dir("promoter-bump-") as tmp:
        workdir = Path(tmp) / "repo"
        shown = masking.strip_credentials(request.repo_url)[0]
        services, images = needed(request.service, request.image)
        repo = GitRepo.clone(
            request.repo_url,
            workdir,
            branch=request.branch,
            sparse=[f"/{name}" for name in CONFIG_FILENAMES],
            env=env_vars,
        )
        repo.rehearsal, repo.signing = rehearsal, signing
        config = load_config(workdir, shown_as=shown, services=services, images=images)
        environment = config.environment(request.env)
        if request.query.latest or request.query.resolve_digest:
            service, tag, digest = _from_registry(config, request, registry)
        else:
            service, tag, digest = resolve_service(
                config, request.service, request.tag, request.digest, request.image
            )
        if environment.mode == "pull-request" and request.branch is None:
            if forge is None:
                raise InputError(
                    f"environment {environment.name!r} takes changes through pull requests "
                    "(mode: pull-request), and no forge is configured"
                )
            return _bump_by_pull_request(
                Workspace(
                    repo, workdir, config, repo.current_branch(), identity, environ, notifier
                ),
                forge(config),
                environment,
                service,
                tag,
                digest,
            )
        branch = request.branch or config.branch_for(environment) or repo.current_branch()
        if branch != repo.current_branch():
            repo.fetch_reset(branch)
            config = load_config(workdir, shown_as=shown, services=services, images=images)
        result = BumpResult(service.name, environment.name, branch)
        # commitMethod: api — the commit is made by GitHub (signed for the App);
        # a dry run rehearses the push instead, as for git.
        factory = forge
        made = None if factory is None else (lambda: factory(config))
        api = None if rehearsal is not None else api_committer(config, made)
        base = repo.head()
        rejection: str | None = None
        stuck = 0
        for attempt in range(1, request.retries + 2):
            result.attempts = attempt
            if attempt > 1:
                sleep(_backoff(attempt))
                tip = repo.fetch_reset(branch)
                # Rejected yet the tip did not move: another push may still have
                # held the ref lock, so try again a few times; a lock that stays
                # (a crashed server process) will not go away by retrying.
                stuck = stuck + 1 if tip == base else 0
                if stuck > STUCK_LIMIT:
                    raise GitError(
                        f"pushing to branch {branch!r} was rejected {stuck} times although "
                        f"the branch did not move: {rejection}",
                        hint="check the server's branch protection and the remote's state",
                    )
                base = tip
                config = load_config(workdir, shown_as=shown, services=services, images=images)
            service = config.service(service.name)
            path = config.path_for(service, environment.name)
            repo.checkout_only([*CONFIG_FILENAMES, path])
            edits = plan_set_image(workdir, config, environment.name, service, tag, digest)
            if not edits:
                result.changes = []
                return result  # already there: nothing to commit
            old = read_deployed(workdir, config, environment.name, service).image
            write_edits(workdir, edits)
            message = commit_message(
                request.message,
                service=service.name,
                env=environment.name,
                old=str(old) if old else "",
                new=ImageRef(service.image, tag, digest),
                environ=environ,
            )
            commit = repo.commit(_paths(edits), message, identity)
            if api is None:
                rejection = repo.push(branch)
            else:
                rejection, commit = publish(repo, api, branch, base, expected=base, force=False)
            if rejection is None:
                result.changes = [c for e in edits for c in e.changes]
                result.commit = commit
                if notifier is not None:
                    new = ImageRef(service.image, tag, digest)
                    _tell_pushed(notifier, config, result, old, new)
                return result
        raise PushConflictError(
            f"gave up after {request.retries + 1} attempts: the branch {branch!r} kept moving "
            "and every push was rejected; nothing was pushed",
            hint="raise --retries, or spread the pipelines out",
        )


def _from_registry(
    config: Config, request: BumpRequest, registry: Callable[[], Registry] | None
) -> tuple[Service, str | None, str | None]:
    """The tag `--latest` picks, and/or the digest `--resolve-digest` pins."""
    query = request.query
    if registry is None:
        from promoter.adapters.registry import RegistryClient  # requests only when asked

        registry = RegistryClient
    client = registry()
    if query.latest:
        if request.service is None:
            raise InputError("--latest needs --service (the image comes from promoter.yaml)")
        service = config.service(request.service)
        tags = client.list_tags(service.image)
        tag = select_latest(
            tags,
            constraint=query.constraint,
            pattern=query.pattern,
            extract=query.extract,
            order=query.order,
        )
        if tag is None:
            what = query.constraint or query.pattern or "a release version"
            raise InputError(
                f"none of the {len(tags)} tags of {service.image} matches {what}",
                hint="check the constraint, or list the tags the registry has",
            )
        digest = request.digest
    else:
        service, tag, digest = resolve_service(
            config, request.service, request.tag, request.digest, request.image
        )
    if query.resolve_digest:
        digest = client.resolve_digest(ImageRef(service.image, tag))
    return service, tag, digest


def _bump_by_pull_request(
    ws: Workspace,
    forge: Forge,
    env: Environment,
    service: Service,
    tag: str | None,
    digest: str | None,
) -> BumpResult:
    """`mode: pull-request`: the bump becomes (or updates) the environment's
    PR for the service, the same branch a promotion would use, so a bump and
    a promotion of one service never compete."""
    branch = ws.branch_of(env)
    if branch != ws.repo.current_branch():
        ws.repo.fetch_reset(branch)
    ws.repo.checkout_only([*CONFIG_FILENAMES, ws.config.path_for(service, env.name)])
    deployed = read_deployed(ws.root, ws.config, env.name, service)
    new = ImageRef(service.image, tag, digest)
    result = BumpResult(service.name, env.name, branch, attempts=1)
    if same_version(deployed.image, new):
        return result
    # The lines the PR's commit changes: the branch starts from this same tip.
    edits = plan_set_image(ws.root, ws.config, env.name, service, tag, digest)
    item = PlanItem(service.name, env.name, env.name, new, deployed.image, deployed.files)
    result.proposal = propose(ws, forge, env, [item], kind="bump")
    result.branch = result.proposal.branch
    result.commit = result.proposal.commit
    result.changes = [c for e in edits for c in e.changes]
    return result


def _tell_pushed(
    notifier: Notifier, config: Config, result: BumpResult, old: ImageRef | None, new: ImageRef
) -> None:
    commit = result.commit or ""
    notifier.tell(config, lambda o: [bump_pushed(o, result.service, result.env, old, new, commit)])


def _paths(edits: list[FileEdit]) -> list[str]:
    return [e.path for e in edits]


def _backoff(attempt: int) -> float:
    # Full jitter (AWS architecture blog): spreads racing pipelines apart.
    return random.uniform(0, min(2.0, 0.05 * 2 ** min(attempt, 8)))
