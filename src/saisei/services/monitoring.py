"""Models of normal operation per product and stage, and scoring of batches against them.

A model is a :class:`saisei.analytics.mvda.BatchEvolutionModel` fitted on the time series of
reference lots, stored as a versioned, audited artefact with its SHA-256. Scoring a lot (a
finished one, or a running one with the data so far) returns every time point with T2, SPE,
their limits and the variables that contribute most; alarms are stored and audited once.

Building needs the permission ``monitoring.build`` (process scientists, administrators),
scoring ``monitoring.score`` (process scientists, operators, QA; and the unattended
``system`` actor of live acquisition), acknowledging an alarm with a comment
``monitoring.acknowledge`` (operators, QA, process scientists); reading models and alarms is
open to every user.
"""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

import pandas as pd

from saisei.analytics.mvda import BatchEvolutionModel
from saisei.domain.audit import jsonable
from saisei.domain.enums import ProductType
from saisei.errors import Conflict, IntegrityViolation, NotFound, ValidationFailed
from saisei.quality.access import authorize, authorize_or_system
from saisei.services.overview import AlarmView, list_alarms
from saisei.storage.models import MonitoringAlarm, MonitoringModel
from saisei.storage.repositories import monitoring as repo
from saisei.storage.repositories.batches import get_batch
from saisei.storage.store import Store
from saisei.storage.types import Session

__all__ = [
    "ModelSummary",
    "ScoreResult",
    "acknowledge_alarm",
    "build_model",
    "list_models",
    "load_model",
    "long_series",
    "model_summary",
    "score_lot",
    "store_model",
    "stored_artefact",
]

_MIN_LOTS = 5


@dataclass(frozen=True)
class ModelSummary:
    """A stored monitoring model."""

    name: str
    version: int
    kind: str
    product_type: str
    stage: str
    variables: tuple[str, ...]
    lots: tuple[str, ...]
    n_components: int
    sha256: str

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary for JSON output."""
        return {k: jsonable(v) for k, v in vars(self).items()}


@dataclass(frozen=True)
class ScoreResult:
    """A lot scored against a model: one row per time point, and the alarms among them."""

    lot: str
    model: str
    version: int
    points: pd.DataFrame
    alarms: pd.DataFrame
    new_alarms: int = 0
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary for JSON output (alarms in full, points summarised)."""
        alarms = [
            {k: jsonable(v) for k, v in row.items()} for row in self.alarms.to_dict("records")
        ]
        return {
            "lot": self.lot,
            "model": self.model,
            "version": self.version,
            "points": len(self.points),
            "alarms": alarms,
            "new_alarms": self.new_alarms,
            "notes": list(self.notes),
        }


def model_summary(row: MonitoringModel) -> ModelSummary:
    """The summary of a stored model row (monitoring or quality model)."""
    return ModelSummary(
        row.name,
        row.version,
        row.kind,
        row.product_type.value,
        row.stage,
        tuple(row.variables),
        tuple(row.lots),
        int(row.settings.get("n_components", 0)),
        row.sha256,
    )


def long_series(
    store: Store,
    session: Session,
    lots: list[str],
    stage: str,
    variables: list[str] | None,
    resample_h: float,
) -> pd.DataFrame:
    """Series of ``lots`` at ``stage`` on a regular grid of ``resample_h`` hours.

    Parameters
    ----------
    lots : list of str
        Lot numbers whose series are read.
    variables : list of str, optional
        Variables read (all when None).
    resample_h : float
        Width (h) of the time bins; the value of a bin is the mean of its measurements,
        leaving out those of OPC UA quality Bad.

    Returns
    -------
    pandas.DataFrame
        Long table with columns ``lot``, ``variable``, ``t`` (bin start, h) and ``value``.
    """
    data = cast(
        pd.DataFrame, store.timeseries.read(session, lot=lots, stage=stage, variables=variables)
    )
    if "quality" in data:  # OPC UA Part 4, 7.7.1: a Bad value is not a measurement (missing)
        data = data[~data["quality"].fillna("").astype(str).str.startswith("bad")]
    data = data[["lot", "t", "variable", "value"]].copy()
    data["t"] = (data["t"] // resample_h) * resample_h
    binned = data.groupby(["lot", "variable", "t"], sort=True)["value"].mean()
    return binned.reset_index()


def _online(data: pd.DataFrame) -> list[str]:
    """Variables sampled on at least half of the grid points (online signals, not the
    occasional offline sample, which belongs in a batch-level model)."""
    per_lot = data.groupby(["variable", "lot"]).size().groupby("variable").mean()
    return sorted(per_lot[per_lot >= 0.5 * per_lot.max()].index.tolist())


def build_model(
    store: Store,
    *,
    name: str,
    product: str,
    stage: str,
    actor: str,
    lots: list[str] | None = None,
    variables: list[str] | None = None,
    n_components: int | None = None,
    alpha: float = 0.01,
    resample_h: float = 1.0,
    trainer: Callable[..., BatchEvolutionModel] | None = None,
) -> ModelSummary:
    """Fit a batch evolution model on reference lots and store it as a new version.

    Parameters
    ----------
    lots : list of str, optional
        Reference lots (normal operation). Default: every lot of the product with time series
        at the stage.
    variables : list of str, optional
        Variables to model. Default: the online variables (sampled on at least half of the
        time grid).
    resample_h : float
        Width (h) of the time bins the series are averaged on before modelling.
    trainer : callable, optional
        ``trainer(rows, n_components=..., alpha=...)`` returning the fitted model, to train
        elsewhere (e.g. ``saisei.scale.batch_evolution_trainer(client)`` on a Dask cluster;
        same model). Default: ``BatchEvolutionModel(...).fit(rows)`` in this process.

    Raises
    ------
    AuthenticationFailed, PermissionDenied
        Unless ``actor`` is an active user allowed ``monitoring.build_model``.
    """
    try:
        product_type = ProductType(product)
    except ValueError:
        raise ValidationFailed(
            f"The product must be one of "
            f"{', '.join(p.value for p in ProductType)}. Got {product!r}."
        ) from None
    with store.unit_of_work(
        actor=actor, source="monitoring", reason=f"monitoring model {name} built"
    ) as uow:
        session = uow.session
        authorize(session, actor, "monitoring.build_model")
        chosen = lots or repo.lots_with_series(session, product_type, stage)
        if len(chosen) < _MIN_LOTS:
            raise ValidationFailed(
                f"A monitoring model needs at least {_MIN_LOTS} reference lots with time "
                f"series at stage {stage!r}; found {len(chosen)} for product {product}."
            )
        data = long_series(store, session, chosen, stage, variables, resample_h)
        if variables is None:
            data = data[data["variable"].isin(_online(data))]
        if trainer is None:
            model = BatchEvolutionModel(n_components=n_components, alpha=alpha).fit(data)
        else:
            model = trainer(data, n_components=n_components, alpha=alpha)
        row = store_model(
            session,
            model,
            name=name,
            kind="batch_evolution",
            product_type=product_type,
            stage=stage,
            data=data,
            lots=chosen,
            settings={
                "n_components": int(model.n_components_),
                "alpha": alpha,
                "resample_h": resample_h,
            },
            actor=actor,
        )
        uow.flush()
        return model_summary(row)


def store_model(
    session: Session,
    model: object,
    *,
    name: str,
    kind: str,
    product_type: ProductType,
    stage: str,
    data: pd.DataFrame,
    lots: Sequence[str],
    settings: dict[str, Any],
    actor: str,
) -> MonitoringModel:
    """Add a fitted model as the next version of ``name``: pickled, with its SHA-256.

    ``data`` is the long frame it was fitted on (its variables are recorded); the caller's
    unit of work audits the new row.
    """
    artefact = pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)
    row = MonitoringModel(
        name=name,
        version=repo.next_version(session, name),
        kind=kind,
        product_type=product_type,
        stage=stage,
        variables=sorted(data["variable"].unique().tolist()),
        lots=list(lots),
        settings=settings,
        artefact=artefact,
        sha256=hashlib.sha256(artefact).hexdigest(),
        created_by=actor,
    )
    session.add(row)
    return row


def stored_artefact(row: MonitoringModel, *, rebuild: str) -> object:
    """Unpickle a stored model after checking its SHA-256.

    Raises
    ------
    IntegrityViolation
        When the artefact no longer matches the digest stored with it (``rebuild`` says how
        to make a new one).
    """
    if hashlib.sha256(row.artefact).hexdigest() != row.sha256:
        raise IntegrityViolation(
            f"Model {row.name} v{row.version} was altered after it was stored "
            f"(SHA-256 mismatch); it is not used. Rebuild it with {rebuild}."
        )
    return pickle.loads(row.artefact)  # our own artefact; its digest was checked above


def load_model(row: MonitoringModel) -> BatchEvolutionModel:
    """Unpickle a stored model after checking its SHA-256.

    Raises
    ------
    IntegrityViolation
        When the artefact no longer matches the digest stored with it.
    """
    model = stored_artefact(row, rebuild="'saisei monitor build'")
    if not isinstance(model, BatchEvolutionModel):
        raise IntegrityViolation(
            f"Monitoring model {row.name} v{row.version} holds a {type(model).__name__}, not a "
            "BatchEvolutionModel."
        )
    return model


def list_models(store: Store) -> list[ModelSummary]:
    """Every stored model."""
    with store.reader() as session:
        return [model_summary(row) for row in repo.models(session)]


def score_lot(
    store: Store, lot: str, *, model: str, actor: str, version: int | None = None
) -> ScoreResult:
    """Score ``lot`` (finished or running) and store its new alarms (audited).

    Raises
    ------
    AuthenticationFailed, PermissionDenied
        Unless ``actor`` is an active user allowed ``monitoring.score_lot``, or ``system``.
    """
    with store.unit_of_work(
        actor=actor, source="monitoring", reason=f"lot {lot} scored with model {model}"
    ) as uow:
        session = uow.session
        authorize_or_system(session, actor, "monitoring.score_lot")
        row = repo.find_model(session, model, version)
        if row is None:
            raise NotFound(
                f"No monitoring model called {model!r}"
                f"{f' at version {version}' if version else ''}. Build one with "
                "'saisei monitor build'."
            )
        batch = get_batch(session, lot)
        estimator = load_model(row)
        data = long_series(
            store,
            session,
            [lot],
            row.stage,
            list(row.variables),
            float(row.settings.get("resample_h", 1.0)),
        )
        points = estimator.monitor(data)
        alarms = points[points["alarm"]].copy()
        known = repo.stored_alarms(session, row.id, batch.id)
        new = 0
        for record in alarms.to_dict("records"):
            t_h = float(record["t"])
            if t_h in known:
                continue
            statistic = "t2" if record["t2_alarm"] else "spe"
            session.add(
                MonitoringAlarm(
                    model_id=row.id,
                    batch_id=batch.id,
                    t_h=t_h,
                    statistic=statistic,
                    value=float(record[statistic]),
                    limit=float(record[f"{statistic}_limit"]),
                    top_variables=list(record["top_variables"] or []),
                )
            )
            new += 1
        summary = (row.name, row.version)
    columns = ["t", "t2", "t2_limit", "spe", "spe_limit", "alarm", "top_variables"]
    return ScoreResult(lot, summary[0], summary[1], points[[*columns, "lot"]], alarms[columns], new)


def acknowledge_alarm(
    store: Store, alarm_id: int, *, actor: str, comment: str, source: str = "app"
) -> AlarmView:
    """Acknowledge stored alarm ``alarm_id`` with a comment; who, when and the comment are
    stored on the alarm and audited (the comment is also the audit reason).

    Raises
    ------
    ValidationFailed
        If the comment is blank.
    NotFound
        If no alarm has this id.
    Conflict
        If the alarm is already acknowledged.
    AuthenticationFailed, PermissionDenied
        Unless ``actor`` is an active user allowed ``monitoring.acknowledge_alarm``.
    """
    return acknowledge_alarms(store, [alarm_id], actor=actor, comment=comment, source=source)[0]


def acknowledge_alarms(
    store: Store,
    alarm_ids: Sequence[int] = (),
    *,
    lot: str | None = None,
    actor: str,
    comment: str,
    source: str = "app",
) -> list[AlarmView]:
    """Acknowledge several alarms with one comment, all or none (one transaction).

    An excursion raises an alarm at every scoring round while it lasts; whoever looked into
    it acknowledges them together: the alarms ``alarm_ids``, or every alarm of ``lot`` not yet
    acknowledged. Each is stored and audited as by :func:`acknowledge_alarm`.

    Returns
    -------
    list of AlarmView
        The acknowledged alarms, by time in the batch.

    Raises
    ------
    ValidationFailed
        If the comment is blank, or not exactly one of ``alarm_ids`` and ``lot`` is given.
    NotFound
        If some id names no alarm (all are named), or ``lot`` has no alarm to acknowledge.
    Conflict
        If some of the alarms are already acknowledged (all are named; none is changed).
    AuthenticationFailed, PermissionDenied
        Unless ``actor`` is an active user allowed ``monitoring.acknowledge_alarm``.
    """
    ids = list(dict.fromkeys(int(i) for i in alarm_ids))
    text = comment.strip() if isinstance(comment, str) else ""
    what = f"alarm {ids[0]}" if len(ids) == 1 else f"alarms of lot {lot}" if lot else "alarms"
    with store.unit_of_work(
        actor=actor, source=source, reason=text or f"{what} acknowledged"
    ) as uow:
        session = uow.session
        authorize(session, actor, "monitoring.acknowledge_alarm")
        if not text:
            raise ValidationFailed(
                f"Acknowledging {what} needs a comment (what was seen, what was done). "
                "Got an empty comment."
            )
        if bool(ids) == (lot is not None):
            raise ValidationFailed(
                "Name the alarms to acknowledge by their ids, or give a lot to acknowledge "
                f"all its open alarms; not both, not neither. Got ids {ids} and lot {lot!r}."
            )
        if lot is not None:
            alarms = repo.open_alarms_of_lot(session, lot)
            if not alarms:
                raise NotFound(
                    f"Lot {lot!r} has no alarm waiting for acknowledgement. List them with "
                    "'saisei monitor alarms LOT' or GET /api/v1/monitoring/alarms?lot=LOT."
                )
        else:
            found = {a.id: a for a in repo.get_alarms(session, ids)}
            missing = [i for i in ids if i not in found]
            if missing:
                raise NotFound(
                    f"No monitoring alarm with id {', '.join(map(str, missing))}. List them "
                    "with GET /api/v1/monitoring/alarms or on the batch page."
                )
            alarms = [found[i] for i in ids]
        done = [a for a in alarms if a.acknowledged_at is not None]
        if done:
            raise Conflict(
                "; ".join(
                    f"Alarm {a.id} was already acknowledged by {a.acknowledged_by} at "
                    f"{a.acknowledged_at.isoformat()}"  # type: ignore[union-attr]
                    for a in done
                )
                + (". Nothing was acknowledged." if len(alarms) > 1 else ".")
            )
        now = datetime.now(UTC)
        for alarm in alarms:
            alarm.acknowledged_by = actor
            alarm.acknowledged_at = now
            alarm.acknowledgement_comment = text
        acknowledged = {a.id for a in alarms}
    views = list_alarms(store, alarm_ids=sorted(acknowledged), limit=None)
    return sorted(views, key=lambda v: (v.t_h, v.id))
