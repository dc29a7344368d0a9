"""Time series of a lot for plotting: LTTB-downsampled trajectories, and the lot against its
monitoring model (T2/SPE along maturity, the reference envelope, variable contributions).

Reading is all this module does: scoring that stores alarms is
:func:`saisei.services.monitoring.score_lot`. Results derive from immutable inputs (segments,
model versions), so callers may pass a :class:`~saisei.services.caching.ResultCache`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import pandas as pd

from saisei.analytics.downsample import lttb_indices
from saisei.analytics.mvda import BatchEvolutionModel
from saisei.domain.enums import SubjectType
from saisei.errors import NotFound, ValidationFailed
from saisei.services.caching import ResultCache
from saisei.services.monitoring import load_model
from saisei.storage.models import MonitoringModel
from saisei.storage.repositories import monitoring as monitoring_repo
from saisei.storage.repositories import overview as repo
from saisei.storage.repositories.batches import get_batch
from saisei.storage.store import Store
from saisei.storage.types import Session

__all__ = [
    "LotMonitoring",
    "LotTrajectories",
    "SeriesView",
    "lot_monitoring",
    "lot_trajectories",
    "series_fingerprint",
]

#: Envelope of normal operation: reference mean +/- this many standard deviations.
ENVELOPE_SD = 3.0


@dataclass(frozen=True)
class SeriesView:
    """One variable of one stage, downsampled (``n_points`` is the stored count)."""

    stage: str | None
    variable: str
    unit: str | None
    n_points: int
    t: tuple[float, ...]
    value: tuple[float, ...]

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary for JSON output."""
        return {
            "stage": self.stage,
            "variable": self.variable,
            "unit": self.unit,
            "n_points": self.n_points,
            "t": list(self.t),
            "value": list(self.value),
        }


@dataclass(frozen=True)
class LotTrajectories:
    """Every requested series of a lot, each with at most ``max_points`` points."""

    lot: str
    max_points: int
    series: tuple[SeriesView, ...]

    @property
    def stored_points(self) -> int:
        """Points stored across the series (before downsampling)."""
        return sum(s.n_points for s in self.series)

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary for JSON output."""
        return {
            "lot": self.lot,
            "max_points": self.max_points,
            "stored_points": self.stored_points,
            "series": [s.to_dict() for s in self.series],
        }


@dataclass(frozen=True)
class LotMonitoring:
    """A lot against a monitoring model (``model`` None when no model applies)."""

    lot: str
    model: str | None = None
    version: int | None = None
    stage: str | None = None
    variables: tuple[str, ...] = ()
    points: dict[str, list[Any]] = field(default_factory=dict)
    envelope: tuple[dict[str, Any], ...] = ()
    contributions: dict[str, Any] | None = None
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary for JSON output."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__} | {
            "variables": list(self.variables),
            "envelope": list(self.envelope),
        }


def _check_points(max_points: int) -> None:
    if not 10 <= max_points <= 20_000:
        raise ValidationFailed(f"'max_points' must be 10-20000. Got {max_points}.")


def series_fingerprint(store: Store, lot: str) -> tuple[str, ...]:
    """Segment ids of a lot's time series (changes when data are added or corrected)."""
    with store.reader() as session:
        return repo.segment_ids(session, lot, SubjectType.BATCH)


def _downsample(frame: pd.DataFrame, max_points: int) -> tuple[SeriesView, ...]:
    out = []
    frame = frame[np.isfinite(frame["value"].to_numpy(dtype=float))]
    for (stage, variable), part in frame.groupby(["stage", "variable"], sort=True, dropna=False):
        t = part["t"].to_numpy(dtype=float)
        v = part["value"].to_numpy(dtype=float)
        index = lttb_indices(t, v, max_points)
        units = part["unit"].dropna()
        out.append(
            SeriesView(
                stage=None if stage is None or stage != stage else str(stage),
                variable=str(variable),
                unit=str(units.iloc[0]) if len(units) else None,
                n_points=len(part),
                t=tuple(t[index].tolist()),
                value=tuple(v[index].tolist()),
            )
        )
    return tuple(out)


def lot_trajectories(
    store: Store,
    lot: str,
    *,
    stage: str | None = None,
    variables: list[str] | None = None,
    max_points: int = 1000,
    cache: ResultCache | None = None,
) -> LotTrajectories:
    """A lot's series, each downsampled with LTTB to at most ``max_points`` points.

    Raises
    ------
    NotFound
        Unknown lot, or no series stored for it (at ``stage``).
    """
    _check_points(max_points)

    def compute() -> LotTrajectories:
        with store.reader() as session:
            get_batch(session, lot)
            frame = cast(
                pd.DataFrame,
                store.timeseries.read(session, lot=lot, stage=stage, variables=variables),
            )
        return LotTrajectories(lot, max_points, _downsample(frame, max_points))

    if cache is None:
        return compute()
    key = ("trajectories", lot, stage, tuple(variables or ()), max_points)
    return cache.get((*key, series_fingerprint(store, lot)), compute)


# monitoring ---------------------------------------------------------------------------------


def _binned(
    store: Store, session: Session, lots: list[str], stage: str, variables: list[str], width: float
) -> pd.DataFrame:
    """Series on the model's grid: mean per bin of ``width`` hours (as the model was built)."""
    data = cast(
        pd.DataFrame, store.timeseries.read(session, lot=lots, stage=stage, variables=variables)
    )
    data = data[["lot", "t", "variable", "value"]].copy()
    data["t"] = (data["t"] // width) * width
    return data.groupby(["lot", "variable", "t"], sort=True)["value"].mean().reset_index()


def _choose_model(
    store: Store, session: Session, lot: str, name: str | None
) -> MonitoringModel | None:
    if name is not None:
        found = monitoring_repo.find_model(session, name)
        if found is None:
            raise NotFound(
                f"No monitoring model called {name!r}. List them with 'saisei monitor list'."
            )
        return found
    batch = get_batch(session, lot)
    stages = {s.stage for s in store.timeseries.segments(session, subject_ref=lot)}
    # quality (batch-level) models share the table but do not monitor a trajectory
    fitting = [
        m
        for m in monitoring_repo.models(session)
        if m.product_type == batch.product_type
        and m.stage in stages
        and m.kind == "batch_evolution"
    ]
    return max(fitting, key=lambda m: (m.created_at, m.version), default=None)


def _envelope(
    store: Store, session: Session, row: MonitoringModel, width: float
) -> tuple[dict[str, Any], ...]:
    """Reference mean +/- ENVELOPE_SD sd per variable along the grid, over the model's lots."""
    data = _binned(store, session, list(row.lots), row.stage, list(row.variables), width)
    stats = data.groupby(["variable", "t"], sort=True)["value"].agg(["mean", "std"]).reset_index()
    stats["std"] = stats["std"].fillna(0.0)
    out = []
    for variable, part in stats.groupby("variable", sort=True):
        mean = part["mean"].to_numpy(dtype=float)
        sd = part["std"].to_numpy(dtype=float)
        out.append(
            {
                "variable": str(variable),
                "t": part["t"].astype(float).tolist(),
                "mean": mean.tolist(),
                "low": (mean - ENVELOPE_SD * sd).tolist(),
                "high": (mean + ENVELOPE_SD * sd).tolist(),
            }
        )
    return tuple(out)


def _contributions(
    contributions: pd.DataFrame, points: pd.DataFrame, variables: list[str], at_h: float | None
) -> dict[str, Any] | None:
    """Per-variable SPE and T2 contributions of the lot at ``at_h`` (default: the point
    furthest above its limits); T2 contributions are measured from the reference mean at the
    same maturity (:meth:`BatchEvolutionModel.contributions`)."""
    if points.empty:
        return None
    ratio = np.maximum(
        (points["t2"] / points["t2_limit"]).to_numpy(dtype=float),
        (points["spe"] / points["spe_limit"]).to_numpy(dtype=float),
    )
    times = points["t"].to_numpy(dtype=float)
    index = int(np.nanargmax(ratio) if at_h is None else np.argmin(np.abs(times - at_h)))
    chosen = float(times[index])
    point = points.iloc[index]
    # monitor() and contributions() score the same rows of the same data
    at = contributions[contributions["t"].to_numpy(dtype=float) == chosen]
    by_statistic = {str(r["statistic"]): r for _, r in at.iterrows()}
    return {
        "t": chosen,
        "statistic": "spe"
        if point["spe"] / point["spe_limit"] >= point["t2"] / point["t2_limit"]
        else "t2",
        "variables": variables,
        "spe": [float(by_statistic["spe"][v]) for v in variables],
        "t2": [float(by_statistic["t2"][v]) for v in variables],
        "alarm": bool(point["alarm"]),
    }


def _points_dict(points: pd.DataFrame) -> dict[str, list[Any]]:
    columns = ["t", "t2", "t2_limit", "spe", "spe_limit", "alarm"]
    out: dict[str, list[Any]] = {
        c: [None if isinstance(v, float) and not np.isfinite(v) else v for v in points[c].tolist()]
        for c in columns
    }
    out["top_variables"] = [list(v or ()) for v in points["top_variables"]]
    return out


def lot_monitoring(
    store: Store,
    lot: str,
    *,
    model: str | None = None,
    at_h: float | None = None,
    cache: ResultCache | None = None,
) -> LotMonitoring:
    """The lot scored against a model (read only: nothing is stored).

    The model is ``model`` (newest version) or, by default, the newest model of the lot's
    product at a stage the lot has series for. Returns an empty view with a note when no
    model applies.

    Raises
    ------
    NotFound
        Unknown lot or model.
    """
    with store.reader() as session:
        row = _choose_model(store, session, lot, model)
        if row is None:
            get_batch(session, lot)
            return LotMonitoring(
                lot,
                note="No monitoring model covers this lot's product and stages; build one "
                "with 'saisei monitor build'.",
            )
        name, version, stage = row.name, row.version, row.stage
        variables = list(row.variables)
        width = float(row.settings.get("resample_h", 1.0))

        def envelope() -> tuple[dict[str, Any], ...]:
            return _envelope(store, session, row, width)

        def scored() -> tuple[BatchEvolutionModel, pd.DataFrame, pd.DataFrame]:
            estimator = load_model(row)
            data = _binned(store, session, [lot], stage, variables, width)
            if not len(data):
                return estimator, data, data
            return estimator, estimator.monitor(data), estimator.contributions(data)

        if cache is None:
            bands = envelope()
            estimator, points, contributions = scored()
        else:
            bands = cache.get(("envelope", name, version), envelope)
            fingerprint = repo.segment_ids(session, lot, SubjectType.BATCH)
            estimator, points, contributions = cache.get(
                ("monitor", lot, name, version, fingerprint), scored
            )
    if points.empty:
        return LotMonitoring(
            lot,
            name,
            version,
            stage,
            tuple(variables),
            envelope=bands,
            note=f"Lot {lot} has no data at stage {stage!r} for model {name}.",
        )
    return LotMonitoring(
        lot=lot,
        model=name,
        version=version,
        stage=stage,
        variables=tuple(variables),
        points=_points_dict(points),
        envelope=bands,
        contributions=_contributions(contributions, points, list(estimator.variables_), at_h),
    )
