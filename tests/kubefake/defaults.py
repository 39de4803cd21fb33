"""What the API server does to an object on every write, besides storing it.

Defaulting (a subset of the real defaulters), normalisation (quantities,
Secret stringData), validation (names, labels, selectors, containers) and
immutable fields. These are the places where a live object differs from the
manifest that produced it without anyone drifting, which is why an applier
must compare through a dry-run apply rather than desired-vs-live.
"""

from __future__ import annotations

import base64
import binascii
import copy
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import quantity
from .catalog import ResourceType
from .errors import ApiError, bad_request, cause, invalid

_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_LABEL_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
DNS_LABEL_KINDS = {"Namespace", "Service"}
PATH_SEGMENT_KINDS = {"Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding"}
WORKLOADS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"}


@dataclass
class Allocator:
    """Cluster IPs and node ports handed out to Services."""

    next_ip: int = 10
    next_node_port: int = 30000

    def cluster_ip(self) -> str:
        self.next_ip += 1
        return f"10.96.{self.next_ip // 256}.{self.next_ip % 256}"

    def node_port(self) -> int:
        self.next_node_port += 1
        return self.next_node_port


def _dict(parent: dict[str, Any], key: str) -> dict[str, Any]:
    value = parent.get(key)
    if not isinstance(value, dict):
        value = {}
        parent[key] = value
    return value


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def pull_policy(image: str) -> str:
    if "@" in image:
        return "IfNotPresent"
    last = image.rsplit("/", 1)[-1]
    tag = last.split(":", 1)[1] if ":" in last else ""
    return "Always" if tag in ("", "latest") else "IfNotPresent"


def _quantities(mapping: Any, field: str) -> None:
    if not isinstance(mapping, dict):
        return
    for name, raw in list(mapping.items()):
        try:
            mapping[name] = quantity.canonical(raw)
        except quantity.QuantityError as err:
            raise bad_request(f"{field}.{name}: {err}") from err


def _resources(resources: Any, field: str) -> None:
    if isinstance(resources, dict):
        for part in ("limits", "requests"):
            _quantities(resources.get(part), f"{field}.{part}")


def _probe(probe: Any) -> None:
    if not isinstance(probe, dict):
        return
    for key, value in (
        ("timeoutSeconds", 1),
        ("periodSeconds", 10),
        ("successThreshold", 1),
        ("failureThreshold", 3),
    ):
        probe.setdefault(key, value)
    if isinstance(probe.get("httpGet"), dict):
        probe["httpGet"].setdefault("scheme", "HTTP")


def _container(container: dict[str, Any], field: str) -> None:
    image = container.get("image")
    if isinstance(image, str):
        container.setdefault("imagePullPolicy", pull_policy(image))
    container.setdefault("terminationMessagePath", "/dev/termination-log")
    container.setdefault("terminationMessagePolicy", "File")
    container.setdefault("resources", {})
    _resources(container["resources"], f"{field}.resources")
    for port in _dicts(container.get("ports")):
        port.setdefault("protocol", "TCP")
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        _probe(container.get(probe))
    for env in _dicts(container.get("env")):
        ref = (env.get("valueFrom") or {}).get("fieldRef")
        if isinstance(ref, dict):
            ref.setdefault("apiVersion", "v1")


def pod_spec(spec: dict[str, Any], field: str) -> None:
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")
    for list_name in ("initContainers", "containers"):
        for index, container in enumerate(_dicts(spec.get(list_name))):
            _container(container, f"{field}.{list_name}[{index}]")
    for volume in _dicts(spec.get("volumes")):
        for source in ("configMap", "secret", "downwardAPI", "projected"):
            if isinstance(volume.get(source), dict):
                volume[source].setdefault("defaultMode", 420)


def _template(spec: dict[str, Any], field: str) -> None:
    template = _dict(spec, "template")
    pod_spec(_dict(template, "spec"), f"{field}.template.spec")


def _deployment(obj: dict[str, Any], ctx: _Context) -> None:
    spec = _dict(obj, "spec")
    spec.setdefault("replicas", 1)
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("progressDeadlineSeconds", 600)
    strategy = _dict(spec, "strategy")
    strategy.setdefault("type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        rolling = _dict(strategy, "rollingUpdate")
        rolling.setdefault("maxUnavailable", "25%")
        rolling.setdefault("maxSurge", "25%")
    _template(spec, "spec")


def _statefulset(obj: dict[str, Any], ctx: _Context) -> None:
    spec = _dict(obj, "spec")
    spec.setdefault("replicas", 1)
    spec.setdefault("podManagementPolicy", "OrderedReady")
    spec.setdefault("revisionHistoryLimit", 10)
    strategy = _dict(spec, "updateStrategy")
    strategy.setdefault("type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        _dict(strategy, "rollingUpdate").setdefault("partition", 0)
    retention = _dict(spec, "persistentVolumeClaimRetentionPolicy")
    retention.setdefault("whenDeleted", "Retain")
    retention.setdefault("whenScaled", "Retain")
    for index, claim in enumerate(_dicts(spec.get("volumeClaimTemplates"))):
        claim.setdefault("apiVersion", "v1")
        claim.setdefault("kind", "PersistentVolumeClaim")
        claim_spec = _dict(claim, "spec")
        claim_spec.setdefault("volumeMode", "Filesystem")
        _resources(
            claim_spec.get("resources"), f"spec.volumeClaimTemplates[{index}].spec.resources"
        )
        claim.setdefault("status", {"phase": "Pending"})
    _template(spec, "spec")


def _daemonset(obj: dict[str, Any], ctx: _Context) -> None:
    spec = _dict(obj, "spec")
    spec.setdefault("revisionHistoryLimit", 10)
    strategy = _dict(spec, "updateStrategy")
    strategy.setdefault("type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        rolling = _dict(strategy, "rollingUpdate")
        rolling.setdefault("maxUnavailable", 1)
        rolling.setdefault("maxSurge", 0)
    _template(spec, "spec")


def _replicaset(obj: dict[str, Any], ctx: _Context) -> None:
    spec = _dict(obj, "spec")
    spec.setdefault("replicas", 1)
    _template(spec, "spec")


def _job_spec(spec: dict[str, Any], field: str) -> None:
    if "completions" not in spec and "parallelism" not in spec:
        spec["completions"] = 1
    spec.setdefault("parallelism", 1)
    spec.setdefault("backoffLimit", 6)
    spec.setdefault("completionMode", "NonIndexed")
    spec.setdefault("suspend", False)
    spec.setdefault("podReplacementPolicy", "TerminatingOrFailed")
    pod_spec(_dict(_dict(spec, "template"), "spec"), f"{field}.template.spec")


def _job(obj: dict[str, Any], ctx: _Context) -> None:
    spec = _dict(obj, "spec")
    _job_spec(spec, "spec")
    meta = obj["metadata"]
    if ctx.old is None and not spec.get("manualSelector"):
        # The Job controller's generated selector and pod labels: never in Git.
        uid = meta["uid"]
        generated = {"batch.kubernetes.io/controller-uid": uid}
        spec.setdefault("selector", {"matchLabels": dict(generated)})
        labels = _dict(_dict(spec["template"], "metadata"), "labels")
        labels.update(generated)
        labels["controller-uid"] = uid
        labels["batch.kubernetes.io/job-name"] = meta["name"]
        labels["job-name"] = meta["name"]
    elif ctx.old is not None:
        old_spec = ctx.old.get("spec") or {}
        if "selector" not in spec and "selector" in old_spec:
            spec["selector"] = copy.deepcopy(old_spec["selector"])


def _cronjob(obj: dict[str, Any], ctx: _Context) -> None:
    spec = _dict(obj, "spec")
    spec.setdefault("concurrencyPolicy", "Allow")
    spec.setdefault("suspend", False)
    spec.setdefault("successfulJobsHistoryLimit", 3)
    spec.setdefault("failedJobsHistoryLimit", 1)
    job_template = _dict(spec, "jobTemplate")
    _job_spec(_dict(job_template, "spec"), "spec.jobTemplate.spec")


def _service(obj: dict[str, Any], ctx: _Context) -> None:
    spec = _dict(obj, "spec")
    old_spec = (ctx.old or {}).get("spec") or {}
    kind = spec.setdefault("type", "ClusterIP")
    spec.setdefault("sessionAffinity", "None")
    old_ports = {
        (p.get("port"), p.get("protocol", "TCP")): p for p in _dicts(old_spec.get("ports"))
    }
    for port in _dicts(spec.get("ports")):
        port.setdefault("protocol", "TCP")
        port.setdefault("targetPort", port.get("port"))
        if kind in ("NodePort", "LoadBalancer") and "nodePort" not in port:
            previous = old_ports.get((port.get("port"), port["protocol"]), {})
            port["nodePort"] = previous.get("nodePort") or ctx.allocator.node_port()
    if kind == "ExternalName":
        return
    for key in ("clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"):
        if key not in spec and key in old_spec:  # allocated values survive a PUT without them
            spec[key] = copy.deepcopy(old_spec[key])
    if "clusterIP" not in spec:
        spec["clusterIP"] = ctx.allocator.cluster_ip()
    spec.setdefault("clusterIPs", [spec["clusterIP"]])
    spec.setdefault("ipFamilies", ["IPv4"])
    spec.setdefault("ipFamilyPolicy", "SingleStack")
    spec.setdefault("internalTrafficPolicy", "Cluster")
    if kind in ("NodePort", "LoadBalancer"):
        spec.setdefault("externalTrafficPolicy", "Cluster")
    if kind == "LoadBalancer":
        spec.setdefault("allocateLoadBalancerNodePorts", True)


def _pvc(obj: dict[str, Any], ctx: _Context) -> None:
    spec = _dict(obj, "spec")
    spec.setdefault("volumeMode", "Filesystem")
    _resources(spec.get("resources"), "spec.resources")


def _pod(obj: dict[str, Any], ctx: _Context) -> None:
    spec = _dict(obj, "spec")
    pod_spec(spec, "spec")
    spec.setdefault("enableServiceLinks", True)
    spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
    spec.setdefault("priority", 0)


def _namespace(obj: dict[str, Any], ctx: _Context) -> None:
    name = obj["metadata"]["name"]
    _dict(obj["metadata"], "labels")["kubernetes.io/metadata.name"] = name
    _dict(obj, "spec").setdefault("finalizers", ["kubernetes"])
    status = _dict(obj, "status")
    status.setdefault("phase", "Active")


def _secret(obj: dict[str, Any], ctx: _Context) -> None:
    obj.setdefault("type", "Opaque")
    data = obj.get("data")
    if data is not None and not isinstance(data, dict):
        raise bad_request("Secret.data: expected an object")
    for key, value in (data or {}).items():
        if not isinstance(value, str):
            raise bad_request(f"Secret.data.{key}: expected a base64 string")
        try:
            base64.b64decode(value, validate=True)
        except binascii.Error as err:
            raise bad_request(f"Secret.data.{key}: illegal base64 data: {err}") from err
    string_data = obj.pop("stringData", None)
    if isinstance(string_data, dict):
        folded = _dict(obj, "data")
        for key, value in string_data.items():
            folded[key] = base64.b64encode(str(value).encode()).decode()


def _configmap(obj: dict[str, Any], ctx: _Context) -> None:
    for part in ("data", "binaryData"):
        for key, value in (obj.get(part) or {}).items():
            if not isinstance(value, str):
                raise bad_request(
                    f"json: cannot unmarshal {type(value).__name__} into Go struct field "
                    f"ConfigMap.{part} of type string (key {key!r})"
                )


def _quotas(obj: dict[str, Any], ctx: _Context) -> None:
    _quantities((obj.get("spec") or {}).get("hard"), "spec.hard")


def _limitrange(obj: dict[str, Any], ctx: _Context) -> None:
    for index, limit in enumerate(_dicts((obj.get("spec") or {}).get("limits"))):
        for part in ("default", "defaultRequest", "max", "min", "maxLimitRequestRatio"):
            _quantities(limit.get(part), f"spec.limits[{index}].{part}")


def _webhooks(obj: dict[str, Any], ctx: _Context) -> None:
    mutating = obj.get("kind") == "MutatingWebhookConfiguration"
    for hook in _dicts(obj.get("webhooks")):
        hook.setdefault("failurePolicy", "Fail")
        hook.setdefault("matchPolicy", "Equivalent")
        hook.setdefault("namespaceSelector", {})
        hook.setdefault("objectSelector", {})
        hook.setdefault("timeoutSeconds", 10)
        if mutating:
            hook.setdefault("reinvocationPolicy", "Never")
        for rule in _dicts(hook.get("rules")):
            rule.setdefault("scope", "*")
        service = (hook.get("clientConfig") or {}).get("service")
        if isinstance(service, dict):
            service.setdefault("port", 443)


def _crd(obj: dict[str, Any], ctx: _Context) -> None:
    spec = _dict(obj, "spec")
    _dict(spec, "conversion").setdefault("strategy", "None")
    names = _dict(spec, "names")
    if "kind" in names:
        names.setdefault("listKind", f"{names['kind']}List")
    if "kind" in names and "singular" not in names:
        names["singular"] = str(names["kind"]).lower()


@dataclass
class _Context:
    old: dict[str, Any] | None
    allocator: Allocator


DEFAULTERS: dict[str, Callable[[dict[str, Any], _Context], None]] = {
    "Deployment": _deployment,
    "StatefulSet": _statefulset,
    "DaemonSet": _daemonset,
    "ReplicaSet": _replicaset,
    "Job": _job,
    "CronJob": _cronjob,
    "Service": _service,
    "PersistentVolumeClaim": _pvc,
    "Pod": _pod,
    "Namespace": _namespace,
    "Secret": _secret,
    "ConfigMap": _configmap,
    "ResourceQuota": _quotas,
    "LimitRange": _limitrange,
    "MutatingWebhookConfiguration": _webhooks,
    "ValidatingWebhookConfiguration": _webhooks,
    "CustomResourceDefinition": _crd,
}


def default(
    rt: ResourceType, obj: dict[str, Any], old: dict[str, Any] | None, alloc: Allocator
) -> None:
    """Default and normalise `obj` in place (built-in kinds only)."""
    if rt.custom:
        return
    defaulter = DEFAULTERS.get(rt.kind)
    if defaulter is not None:
        defaulter(obj, _Context(old, alloc))


def _string_map(meta: dict[str, Any], key: str) -> dict[str, Any]:
    value = meta.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise bad_request(f"metadata.{key}: values must be strings")
    return value


def _name_problem(kind: str, name: str) -> str | None:
    if kind in PATH_SEGMENT_KINDS:
        bad = name in (".", "..") or "/" in name or "%" in name
        return 'may not contain "/" or "%"' if bad else None
    if kind in DNS_LABEL_KINDS:
        ok = len(name) <= 63 and _LABEL.match(name)
        return (
            None
            if ok
            else "a lowercase RFC 1123 label must consist of lower case alphanumeric "
            "characters or '-', and must start and end with an alphanumeric character"
        )
    ok = len(name) <= 253 and _SUBDOMAIN.match(name)
    return (
        None
        if ok
        else "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
        "characters, '-' or '.', and must start and end with an alphanumeric character"
    )


def _label_problems(labels: dict[str, Any]) -> list[dict[str, str]]:
    causes = []
    for key, value in labels.items():
        prefix, _, name = key.rpartition("/")
        key_ok = (
            bool(name)
            and len(name) <= 63
            and _LABEL_NAME.match(name)
            and (not prefix or (len(prefix) <= 253 and _SUBDOMAIN.match(prefix)))
        )
        if not key_ok:
            causes.append(
                cause("metadata.labels", f"Invalid value: {key!r}: name part must be valid")
            )
        if value and (len(value) > 63 or not _LABEL_NAME.match(value)):
            causes.append(
                cause(f"metadata.labels[{key}]", f"Invalid value: {value!r}: a valid label value")
            )
    return causes


def _selector_matches(selector: dict[str, Any], labels: dict[str, Any]) -> bool:
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in _dicts(selector.get("matchExpressions")):
        key, op, values = str(expr.get("key")), expr.get("operator"), expr.get("values") or []
        present = key in labels
        if (
            (op == "In" and labels.get(key) not in values)
            or (op == "NotIn" and present and labels.get(key) in values)
            or (op == "Exists" and not present)
            or (op == "DoesNotExist" and present)
        ):
            return False
    return True


def _pod_spec_problems(spec: Any, field: str) -> list[dict[str, str]]:
    containers = spec.get("containers") if isinstance(spec, dict) else None
    if not containers:
        return [cause(f"{field}.containers", "Required value", "FieldValueRequired")]
    causes = []
    for index, container in enumerate(containers):
        where = f"{field}.containers[{index}]"
        if not isinstance(container, dict):
            causes.append(cause(where, "Invalid value: expected an object"))
            continue
        for required in ("name", "image"):
            if not container.get(required):
                causes.append(cause(f"{where}.{required}", "Required value", "FieldValueRequired"))
    return causes


def validate(rt: ResourceType, obj: dict[str, Any]) -> None:
    meta = obj.get("metadata") or {}
    name = meta.get("name", "")
    causes = []
    problem = _name_problem(rt.kind, name)
    if problem:
        causes.append(cause("metadata.name", f"Invalid value: {name!r}: {problem}"))
    causes.extend(_label_problems(_string_map(meta, "labels")))
    _string_map(meta, "annotations")
    raw_spec = obj.get("spec")
    spec: dict[str, Any] = raw_spec if isinstance(raw_spec, dict) else {}
    if not rt.custom and rt.kind in WORKLOADS | {"Job"}:
        selector = spec.get("selector")
        template = spec.get("template") or {}
        labels = (template.get("metadata") or {}).get("labels") or {}
        if rt.kind != "Job" and not isinstance(selector, dict):
            causes.append(cause("spec.selector", "Required value", "FieldValueRequired"))
        elif isinstance(selector, dict) and not _selector_matches(selector, labels):
            causes.append(
                cause(
                    "spec.template.metadata.labels",
                    f"Invalid value: {labels!r}: `selector` does not match template `labels`",
                )
            )
        causes.extend(_pod_spec_problems(template.get("spec"), "spec.template.spec"))
        restart = (template.get("spec") or {}).get("restartPolicy")
        if rt.kind == "Job" and restart not in ("OnFailure", "Never"):
            causes.append(
                cause(
                    "spec.template.spec.restartPolicy",
                    f'Unsupported value: "{restart}": supported values: "OnFailure", "Never"',
                    "FieldValueNotSupported",
                )
            )
    if not rt.custom and rt.kind == "Pod":
        causes.extend(_pod_spec_problems(spec, "spec"))
    if not rt.custom and rt.kind == "Service" and spec.get("type") != "ExternalName":
        for index, port in enumerate(_dicts(spec.get("ports"))):
            if not isinstance(port.get("port"), int):
                causes.append(
                    cause(f"spec.ports[{index}].port", "Required value", "FieldValueRequired")
                )
    if causes:
        raise invalid(rt.group, rt.kind, name, causes)


_STS_MUTABLE = {
    "replicas",
    "ordinals",
    "template",
    "updateStrategy",
    "persistentVolumeClaimRetentionPolicy",
    "minReadySeconds",
}


def immutable(rt: ResourceType, old: dict[str, Any], new: dict[str, Any]) -> None:
    """422 for changes the real API refuses on update."""
    if rt.custom:
        return
    name = new["metadata"]["name"]
    old_spec, new_spec = old.get("spec") or {}, new.get("spec") or {}
    causes = []

    def frozen(field: str, before: Any, after: Any, text: str = "field is immutable") -> None:
        if before != after:
            causes.append(cause(field, f"Invalid value: {after!r}: {text}"))

    if rt.kind in WORKLOADS | {"Job"}:
        frozen("spec.selector", old_spec.get("selector"), new_spec.get("selector"))
    if rt.kind == "Job":
        frozen("spec.template", old_spec.get("template"), new_spec.get("template"))
    if rt.kind == "StatefulSet":
        before = {k: v for k, v in old_spec.items() if k not in _STS_MUTABLE}
        after = {k: v for k, v in new_spec.items() if k not in _STS_MUTABLE}
        frozen(
            "spec",
            before,
            after,
            "updates to statefulset spec for fields other than 'replicas', 'ordinals', "
            "'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and "
            "'minReadySeconds' are forbidden",
        )
    if (
        rt.kind == "Service"
        and old_spec.get("clusterIP")
        and new_spec.get("type") != "ExternalName"
    ):
        frozen("spec.clusterIPs[0]", old_spec.get("clusterIP"), new_spec.get("clusterIP"))
    if rt.kind in ("ConfigMap", "Secret") and old.get("immutable"):
        for part in ("data", "binaryData", "immutable"):
            frozen(part, old.get(part), new.get(part), "field is immutable when `immutable` is set")
    if rt.kind == "Secret":
        frozen("type", old.get("type"), new.get("type"))
    if rt.kind in ("RoleBinding", "ClusterRoleBinding"):
        frozen("roleRef", old.get("roleRef"), new.get("roleRef"), "cannot change roleRef")
    if rt.kind == "PersistentVolumeClaim":

        def claim(spec: dict[str, Any]) -> dict[str, Any]:
            rest = copy.deepcopy(spec)
            (rest.get("resources") or {}).pop("requests", None)
            rest.pop("volumeName", None)
            return rest

        frozen(
            "spec",
            claim(old_spec),
            claim(new_spec),
            "spec is immutable after creation except resources.requests and "
            "volumeAttributesClassName for bound claims",
        )
    if causes:
        raise invalid(rt.group, rt.kind, name, causes)


__all__ = ["Allocator", "ApiError", "default", "immutable", "pull_policy", "validate"]
