"""What both API adapters share: request counting, and turning the forge
library's and the network's failures into ForgeError with our wording."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

import requests

from promoter.adapters.forges.failures import Wording, network_error
from promoter.adapters.forges.session import ForgeSession
from promoter.errors import ForgeError

T = TypeVar("T")


class ApiForge:
    _session: ForgeSession
    wording: ClassVar[Wording]
    library_error: ClassVar[type[Exception]]

    @property
    def request_count(self) -> int:
        """HTTP requests sent so far (retries included)."""
        return self._session.request_count

    def _error(
        self, err: Any, doing: str, *, subject: str | None = None, needs: str | None = None
    ) -> ForgeError:
        raise NotImplementedError

    def _call(
        self,
        doing: str,
        action: Callable[[], T],
        *,
        subject: str | None = None,
        needs: str | None = None,
    ) -> T:
        try:
            return action()
        except self.library_error as err:
            raise self._error(err, doing, subject=subject, needs=needs) from err
        except requests.RequestException as err:
            raise network_error(self.wording, err, doing=doing) from err
