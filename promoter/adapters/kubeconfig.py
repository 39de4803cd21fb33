"""Where the agent's cluster is: a kubeconfig file (or $KUBECONFIG /
~/.kube/config) and its context, or the pod's own service account when it
runs in-cluster; and the default namespace that goes with it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from kubernetes import client as _client
from kubernetes import config as _config

from promoter.errors import InputError

SERVICE_ACCOUNT_NAMESPACE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
# The client's functions carry no annotations: typed as Any here, once.
k8s_client: Any = _client
k8s_config: Any = _config


def load_configuration(
    kubeconfig: str | os.PathLike[str] | None, context: str | None
) -> tuple[Any, str]:
    """(client Configuration, default namespace); in-cluster when no
    kubeconfig is given and the pod's service account is there."""
    configuration = k8s_client.Configuration()
    in_cluster = kubeconfig is None and "KUBERNETES_SERVICE_HOST" in os.environ
    try:
        if in_cluster:
            k8s_config.load_incluster_config(client_configuration=configuration)
            return configuration, _pod_namespace()
        path = None if kubeconfig is None else str(kubeconfig)
        k8s_config.load_kube_config(
            config_file=path,
            context=context,
            client_configuration=configuration,
            persist_config=False,
        )
        return configuration, _context_namespace(path, context)
    except (k8s_config.ConfigException, OSError, TypeError, ValueError) as err:
        # Which cluster is a matter of the command line, not of the cluster.
        raise InputError(
            f"cannot load the cluster configuration: {err}",
            hint="pass --kubeconfig FILE (and --context NAME), or run in-cluster",
        ) from err


def _pod_namespace() -> str:
    try:
        return SERVICE_ACCOUNT_NAMESPACE.read_text(encoding="utf-8").strip() or "default"
    except OSError:
        return "default"


def _context_namespace(path: str | None, context: str | None) -> str:
    contexts, active = k8s_config.list_kube_config_contexts(config_file=path)
    chosen = next((c for c in contexts if c.get("name") == context), None) if context else active
    namespace = ((chosen or {}).get("context") or {}).get("namespace")
    return str(namespace or "default")
