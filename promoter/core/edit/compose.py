"""Compose files: `services.<name>.image`."""

from __future__ import annotations

import os
import re

from promoter.core.edit.manifests import found_ref, is_flow
from promoter.core.edit.model import Found, Target
from promoter.core.yamlnodes import MappingNode, Node, ScalarNode, get, items

_COMPOSE_NAME = re.compile(r"^(docker-)?compose([.-][\w.-]+)?\.ya?ml$")


def is_compose_file(filename: str, doc: Node) -> bool:
    """A compose file by its name (`compose.yaml`, `docker-compose.prod.yml`)."""
    return isinstance(get(doc, "services"), MappingNode) and bool(
        _COMPOSE_NAME.match(os.path.basename(filename))
    )


def is_compose(filename: str, doc: Node) -> bool:
    """A compose file by its name, or by shape: `services:` of mappings and no
    `apiVersion`/`kind` (which would make it a Kubernetes object)."""
    services = get(doc, "services")
    if not isinstance(services, MappingNode):
        return False
    if is_compose_file(filename, doc):
        return True
    if get(doc, "apiVersion") is not None or get(doc, "kind") is not None:
        return False
    return bool(services.value) and all(isinstance(v, MappingNode) for _, _, v in items(services))


def find(doc: Node, target: Target) -> list[Found]:
    found = []
    for _, _, service in items(get(doc, "services")):
        image = get(service, "image")
        if isinstance(image, ScalarNode):
            f = found_ref(image, target, "compose", is_flow(service))
            if f is not None:
                found.append(f)
    return found
