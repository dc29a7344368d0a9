"""The webhook notifier: one JSON document per scoring, failures reported, not raised."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from opcua_helpers import free_port, webhook_server

from saisei.errors import ConfigurationError
from saisei.services.notify import AlarmNotice, WebhookNotifier

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ALARM = AlarmNotice(
    lot="L1",
    model="msc-exp",
    version=2,
    stage="expansion",
    t_h=131.0,
    statistic="spe",
    value=14.2,
    limit=9.8,
    top_variables=("temperature", "DO"),
    data_until=NOW,
    detected_at=NOW,
)


def test_alarms_are_posted_as_one_json_document() -> None:
    with webhook_server() as (url, received):
        notifier = WebhookNotifier(url)
        assert notifier.notify([ALARM, ALARM]) is True
        notifier.close()
    (post,) = received
    assert post["body"]["event"] == "monitoring_alarms"
    assert post["body"]["lot"] == "L1"
    first = post["body"]["alarms"][0]
    assert first["top_variables"] == ["temperature", "DO"]
    assert first["data_until"] == "2026-03-01T12:00:00+00:00"
    assert (first["t_h"], first["statistic"], first["limit"]) == (131.0, "spe", 9.8)


def test_an_unreachable_webhook_is_reported_not_raised() -> None:
    notifier = WebhookNotifier(f"http://127.0.0.1:{free_port()}/hook", timeout_s=1)
    assert notifier.notify([ALARM]) is False
    notifier.close()
    with pytest.raises(ConfigurationError, match="must start with http:// or https://"):
        WebhookNotifier("ftp://x")
