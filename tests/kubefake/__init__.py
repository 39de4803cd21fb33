"""A stateful fake Kubernetes API server for tests (see docs/kubefake.md)."""

from __future__ import annotations

from .catalog import ResourceType
from .errors import ApiError
from .server import FakeKube, Fault, RequestRecord

__all__ = ["ApiError", "FakeKube", "Fault", "RequestRecord", "ResourceType"]
