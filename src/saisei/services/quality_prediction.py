"""End-of-batch quality predicted from a running batch's trajectory so far.

A quality model is a :class:`saisei.analytics.mvda.BatchLevelModel` (PLS on the batch-wise
unfolded trajectories, Nomikos & MacGregor 1995) fitted on reference lots' series with one
QC attribute as ``y``; it is stored beside the monitoring models (kind ``batch_level``),
versioned, with its SHA-256. Predicting a running lot fills the unseen future by trimmed
score regression (the model's ``impute``), so the prediction is updated as data arrive and,
at the end of the batch, equals the prediction on the complete batch. Every prediction is an
audit event (``quality_prediction:update``, entity = the lot), which is also where the
latest prediction is read from.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from saisei.analytics.mvda import BatchLevelModel
from saisei.domain.audit import jsonable
from saisei.domain.enums import ProductType
from saisei.errors import NotFound, ValidationFailed
from saisei.quality.access import authorize, authorize_or_system
from saisei.services.audit import show_audit
from saisei.services.monitoring import (
    ModelSummary,
    long_series,
    model_summary,
    store_model,
    stored_artefact,
)
from saisei.storage.models import MonitoringModel
from saisei.storage.repositories import monitoring as repo
from saisei.storage.store import Store
from saisei.storage.types import Session

__all__ = [
    "QualityPrediction",
    "build_quality_model",
    "latest_predictions",
    "predict_quality",
]

KIND = "batch_level"
_MIN_LOTS = 5


@dataclass(frozen=True)
class QualityPrediction:
    """One prediction of a lot's end-of-batch quality attribute."""

    lot: str
    model: str
    version: int
    attribute: str
    value: float
    data_until_h: float
    predicted_at: datetime

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary for JSON output."""
        return {k: jsonable(v) for k, v in vars(self).items()}


def _quality(session: Session, lots: list[str], attribute: str) -> pd.Series:
    """Mean valid QC result of ``attribute`` per lot (lots without one are left out)."""
    frame = pd.DataFrame(repo.quality_results(session, lots, attribute), columns=["lot", "value"])
    return frame.groupby("lot")["value"].mean()


def build_quality_model(
    store: Store,
    *,
    name: str,
    product: str,
    stage: str,
    attribute: str,
    actor: str,
    lots: list[str] | None = None,
    variables: list[str] | None = None,
    n_components: int | None = None,
    alpha: float = 0.01,
    resample_h: float = 1.0,
) -> ModelSummary:
    """Fit a batch-level PLS model of QC ``attribute`` on reference lots; store a version.

    Parameters
    ----------
    attribute : str
        QC attribute predicted (its valid results, averaged per lot, are ``y``).
    lots : list of str, optional
        Reference lots. Default: every lot of the product with series at the stage and a
        result of ``attribute``.
    variables : list of str, optional
        Process variables (default: all those of the reference series).

    Raises
    ------
    ValidationFailed
        With fewer than 5 reference lots that have both series and a result.
    AuthenticationFailed, PermissionDenied
        Unless ``actor`` may build monitoring models.
    """
    try:
        product_type = ProductType(product)
    except ValueError:
        raise ValidationFailed(
            f"The product must be one of "
            f"{', '.join(p.value for p in ProductType)}. Got {product!r}."
        ) from None
    with store.unit_of_work(
        actor=actor, source="monitoring", reason=f"quality model {name} built"
    ) as uow:
        session = uow.session
        authorize(session, actor, "monitoring.build_model")
        candidates = lots or repo.lots_with_series(session, product_type, stage)
        y = _quality(session, candidates, attribute)
        chosen = [lot for lot in candidates if lot in y.index]
        if len(chosen) < _MIN_LOTS:
            raise ValidationFailed(
                f"A quality model needs at least {_MIN_LOTS} reference lots with time series "
                f"at stage {stage!r} and a valid {attribute!r} result; found {len(chosen)}."
            )
        data = long_series(store, session, chosen, stage, variables, resample_h)
        model = BatchLevelModel(n_components=n_components, alpha=alpha).fit(data, y[chosen])
        row = store_model(
            session,
            model,
            name=name,
            kind=KIND,
            product_type=product_type,
            stage=stage,
            data=data,
            lots=chosen,
            settings={
                "n_components": int(model.n_components_),
                "alpha": alpha,
                "resample_h": resample_h,
                "attribute": attribute,
            },
            actor=actor,
        )
        uow.flush()
        return model_summary(row)


def _load(row: MonitoringModel) -> BatchLevelModel:
    model = stored_artefact(row, rebuild="'saisei monitor quality-model build'")
    if not isinstance(model, BatchLevelModel):
        raise ValidationFailed(
            f"Model {row.name} v{row.version} is a {row.kind} model, not a quality "
            f"({KIND}) model: it cannot predict end-of-batch quality."
        )
    return model


def predict_quality(
    store: Store, lot: str, *, model: str, actor: str, version: int | None = None
) -> QualityPrediction:
    """Predict ``lot``'s end-of-batch quality from its series so far; audit the prediction.

    Raises
    ------
    NotFound
        If the model does not exist.
    ValidationFailed
        If it is not a quality model, or the lot has no series at its stage yet.
    AuthenticationFailed, PermissionDenied
        Unless ``actor`` may score lots (or is ``system``).
    """
    with store.unit_of_work(
        actor=actor, source="monitoring", reason=f"quality of lot {lot} predicted"
    ) as uow:
        session = uow.session
        authorize_or_system(session, actor, "monitoring.score_lot")
        row = repo.find_model(session, model, version)
        if row is None:
            raise NotFound(f"No quality model called {model!r}. Build one first.")
        estimator = _load(row)
        data = long_series(
            store,
            session,
            [lot],
            row.stage,
            list(row.variables),
            float(row.settings.get("resample_h", 1.0)),
        )
        if data.empty:
            raise ValidationFailed(
                f"Lot {lot} has no series at stage {row.stage!r} yet: nothing to predict from."
            )
        predicted = estimator.predict(data)
        result = QualityPrediction(
            lot=lot,
            model=row.name,
            version=row.version,
            attribute=str(row.settings.get("attribute", predicted.columns[0])),
            value=float(predicted.to_numpy(dtype=float)[0, 0]),
            data_until_h=float(data["t"].max()),
            predicted_at=datetime.now(UTC),
        )
        uow.record("quality_prediction", "update", entity_id=lot, new=result.to_dict())
        return result


def latest_predictions(store: Store, lot: str) -> list[QualityPrediction]:
    """The latest prediction of ``lot`` per quality model (from the audit trail)."""
    latest: dict[tuple[str, int], QualityPrediction] = {}
    for event in show_audit(store, entity_type="quality_prediction", entity_id=lot):
        new = json.loads(event.new_values or "{}")
        if "model" not in new:
            continue
        latest[new["model"], int(new["version"])] = QualityPrediction(
            lot=lot,
            model=str(new["model"]),
            version=int(new["version"]),
            attribute=str(new["attribute"]),
            value=float(new["value"]),
            data_until_h=float(new["data_until_h"]),
            predicted_at=datetime.fromisoformat(str(new["predicted_at"])),
        )
    return list(latest.values())
