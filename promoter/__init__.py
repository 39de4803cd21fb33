"""promoter: a GitOps promotion engine."""

from __future__ import annotations

__version__ = "0.1.0"
USER_AGENT = f"promoter/{__version__}"
