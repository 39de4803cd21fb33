"""The `services:` list of promoter.yaml: each service's image, where its
files live in each environment, and the Helm keys of odd charts."""

from __future__ import annotations

import re

from promoter.core.config.carry_entries import CarryEntries
from promoter.core.config.fields import image_policy_problem, key_path_problem, suggest
from promoter.core.config.model import HelmKeys, Service
from promoter.core.config.reader import Entries, entry_label, kind_of
from promoter.core.config.render_entries import RenderEntries
from promoter.core.config.templates import path_problem
from promoter.core.images import parse_repository
from promoter.core.yamlnodes import Node, SequenceNode, line_of
from promoter.errors import ImageRefError

_CHART = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_SERVICE_KEYS = (
    "name", "image", "chart", "path", "paths", "keys", "imagePolicy", "render", "promote",
)  # fmt: skip
_HELM_KEYS = ("repository", "registry", "tag", "digest")


def _chart_problem(text: str) -> str | None:
    if _CHART.fullmatch(text):
        return None
    return f"{text!r} is not a Helm chart name (lower case letters, digits and '-')"


class ServiceEntries(RenderEntries, CarryEntries):
    """Reads the `services:` section; `declared` (the environment names the
    file writes) must be set first, by the environments section."""

    declared: list[str] | None = None

    def services(
        self,
        top: Entries,
        root: Node,
        default_path: str | None,
        default_path_ok: bool,
    ) -> list[Service] | None:
        if "services" not in top:
            self.problem(root, "missing required key 'services' (`services: []` for none yet)")
            return None
        key_node, node = top["services"]
        if not isinstance(node, SequenceNode):
            self.problem(key_node, f"services must be a list, got {kind_of(node)}")
            return None
        env_names = self.declared
        services: list[Service] = []
        name_lines: dict[str, int] = {}
        policy_owner: dict[str, str] = {}
        ok = True
        for index, item in enumerate(node.value):
            label = entry_label(item, "service", index)
            entries = self.mapping(item, label, _SERVICE_KEYS, at=item)
            if entries is None:
                ok = False
                continue
            count = len(self.problems)
            name = self.name(entries, label, item)
            if name is not None:
                if name in name_lines:
                    self.problem(
                        entries["name"][1],
                        f"duplicate service name {name!r} (first at line {name_lines[name]})",
                    )
                else:
                    name_lines[name] = line_of(item)
            chart = self.chart(entries, label)
            image = chart if "chart" in entries else self.image(entries, label, item)
            path = self.checked(entries, "path", label, path_problem)
            paths = self.paths(entries, label, env_names)
            keys = self.helm_keys(entries, label)
            policy = self.checked(entries, "imagePolicy", label, image_policy_problem)
            render_ok, render = self.render_spec(entries, label)
            carry = self.carry_spec(entries, label)
            if policy is not None and name is not None:
                if policy in policy_owner:
                    self.problem(
                        entries["imagePolicy"][1],
                        f"{label}: imagePolicy {policy!r} is already used by service "
                        f"{policy_owner[policy]!r}",
                    )
                else:
                    policy_owner[policy] = name
            if default_path is None and default_path_ok and "path" not in entries:
                missing = [e for e in env_names or () if paths is not None and e not in paths]
                if missing:
                    self.problem(
                        item,
                        f"{label} has no path for environment(s) {', '.join(missing)}: "
                        "set `path` or `paths` on the service, or `defaults.path`",
                    )
            if (
                len(self.problems) > count
                or not render_ok
                or name is None
                or image is None
                or paths is None
            ):
                ok = False
                continue
            services.append(
                Service(
                    name=name,
                    image=image,
                    path=path,
                    paths=paths,
                    keys=keys,
                    image_policy=policy,
                    line=line_of(item),
                    render=render,
                    carry=carry,
                    chart=chart,
                )
            )
        return services if ok else None

    def chart(self, entries: Entries, label: str) -> str | None:
        """`chart: NAME` (instead of `image:`): the Helm chart whose version this service is."""
        if "chart" not in entries:
            return None
        if "image" in entries:
            self.problem(
                entries["chart"][0],
                f"{label}: give `image` or `chart`, not both (a service's version is one of them)",
            )
            return None
        return self.checked(entries, "chart", label, _chart_problem)

    def image(self, entries: Entries, label: str, at: Node) -> str | None:
        if "image" not in entries:
            self.problem(
                at,
                f"{label}: missing required key 'image' (a repository, no tag), "
                "or 'chart' (a Helm chart)",
            )
            return None
        text = self.string(entries, "image", label)
        if text is None:
            return None
        try:
            return parse_repository(text)
        except ImageRefError as err:
            self.problem(entries["image"][1], f"{label}: image: {err.message}")
            return None

    def paths(
        self, entries: Entries, label: str, env_names: list[str] | None
    ) -> dict[str, str] | None:
        """Per-environment paths ({} when absent), None when (reported) invalid."""
        if "paths" not in entries:
            return {}
        key_node, node = entries["paths"]
        sub = self.mapping(node, f"{label}: paths", None, at=key_node)
        if sub is None:
            return None
        result: dict[str, str] = {}
        ok = True
        for env, (env_key, _) in sub.items():
            if env_names is not None and env not in env_names:
                self.problem(
                    env_key,
                    f"{label}: paths: unknown environment {env!r}{suggest(env, env_names)} "
                    f"(known: {', '.join(env_names)})",
                )
                ok = False
                continue
            text = self.checked(sub, env, f"{label}: paths", path_problem)
            if text is None:
                ok = False
                continue
            result[env] = text
        return result if ok else None

    def helm_keys(self, entries: Entries, label: str) -> HelmKeys | None:
        if "keys" not in entries:
            return None
        key_node, node = entries["keys"]
        sub_label = f"{label}: keys"
        sub = self.mapping(node, sub_label, _HELM_KEYS, at=key_node)
        if sub is None:
            return None
        found = {k: self.checked(sub, k, sub_label, key_path_problem) for k in _HELM_KEYS}
        if "tag" not in sub:
            self.problem(key_node, f"{sub_label}: missing required key 'tag'")
        tag = found["tag"]
        if tag is None:
            return None
        return HelmKeys(
            tag=tag,
            repository=found["repository"],
            registry=found["registry"],
            digest=found["digest"],
        )
