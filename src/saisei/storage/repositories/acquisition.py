"""What live acquisition needs from the store: where the stored series of a lot end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import duckdb
from sqlalchemy.orm import Session

from saisei.storage.timeseries import TimeSeriesStore

__all__ = ["last_samples"]


def last_samples(
    timeseries: TimeSeriesStore, session: Session, lot: str, stage: str
) -> tuple[dict[str, datetime], datetime | None]:
    """The source timestamp of the last stored value of each variable of ``lot`` at ``stage``,
    and the start of the stage (``timestamp - t``) those values imply.

    Rows without a timestamp are ignored. Superseded segments are skipped.

    Returns
    -------
    last : dict
        Variable -> UTC timestamp of its last stored value.
    stage_start : datetime or None
        None when nothing with a timestamp is stored.
    """
    segments = timeseries.segments(session, subject_ref=lot, stage=stage)
    if not segments:
        return {}, None
    paths = [str(timeseries.root / s.path) for s in segments]
    sql = (
        "SELECT variable, max(timestamp) AS last, arg_max(t, timestamp) AS t "
        "FROM read_parquet(?) WHERE timestamp IS NOT NULL GROUP BY variable ORDER BY variable"
    )
    with duckdb.connect() as con:
        rows = con.execute(sql, [paths]).fetchall()
    last: dict[str, datetime] = {}
    start: datetime | None = None
    for variable, when, t_h in rows:
        when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
        last[str(variable)] = when
        start = start or when - timedelta(hours=float(t_h))
    return last, start
