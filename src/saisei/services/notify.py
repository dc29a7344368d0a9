"""Notifiers: how people hear of a new monitoring alarm. A webhook is the built-in one."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import httpx

from saisei.domain.audit import jsonable
from saisei.errors import ConfigurationError

__all__ = ["AlarmNotice", "Notifier", "WebhookNotifier"]

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AlarmNotice:
    """A new alarm of a running lot, as it is told to people.

    Attributes
    ----------
    t_h : float
        Time of the alarm in hours since the start of the model's stage.
    statistic : str
        ``t2`` or ``spe``.
    top_variables : tuple of str
        Variables that contribute most, largest first.
    data_until : datetime or None
        Source timestamp of the newest value scored.
    detected_at : datetime
        Wall time (UTC) the alarm was stored.
    """

    lot: str
    model: str
    version: int
    stage: str
    t_h: float
    statistic: str
    value: float
    limit: float
    top_variables: tuple[str, ...]
    data_until: datetime | None
    detected_at: datetime
    deviation: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary for JSON."""
        return {k: jsonable(v) for k, v in vars(self).items()}


class Notifier(Protocol):
    """Something that tells people of new alarms; it must not raise for a delivery failure."""

    def notify(self, alarms: Sequence[AlarmNotice]) -> bool:
        """Deliver the new alarms of one scoring of a lot; True when they were accepted."""
        ...


class WebhookNotifier:
    """POST the new alarms of each scoring as one JSON document to a URL (chat, paging or
    ticketing hooks)::

        {"event": "monitoring_alarms", "lot": "...", "alarms": [{...}, ...]}

    Parameters
    ----------
    url : str
        ``http://`` or ``https://`` URL.
    timeout_s : float
        Per request.
    headers : dict, optional
        Extra headers (e.g. an authorisation token).
    """

    def __init__(
        self, url: str, *, timeout_s: float = 5.0, headers: dict[str, str] | None = None
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise ConfigurationError(
                f"The webhook URL must start with http:// or https://. Got {url!r}."
            )
        self.url = url
        self.timeout_s = timeout_s
        self.headers = dict(headers or {})
        self._client = httpx.Client(timeout=timeout_s, headers=self.headers)

    def notify(self, alarms: Sequence[AlarmNotice]) -> bool:
        """POST the alarms; a failure is logged, not raised (acquisition goes on)."""
        if not alarms:
            return True
        document = {
            "event": "monitoring_alarms",
            "lot": alarms[0].lot,
            "alarms": [a.to_dict() for a in alarms],
        }
        try:
            response = self._client.post(self.url, json=document)
            response.raise_for_status()
        except httpx.HTTPError as exc:
            _log.warning("webhook %s refused alarms of lot %s: %s", self.url, alarms[0].lot, exc)
            return False
        return True

    def close(self) -> None:
        """Release the HTTP connection."""
        self._client.close()
