"""Dose-response assays: fit a curve from a file, and store a lot's relative potency.

Files are CSV (lines starting with ``#`` are comments) or XLSX (first sheet). A dose-response
table has a dose column and a response column; a plate is a reader file (long ``well,
response`` or a grid of row letters by column numbers) plus a plate map (``well, sample,
dose``, extra columns kept), joined by :func:`saisei.analytics.dose_response.read_plate`.
Wells with no dose (blanks) are left out of fits.

Relative potency is stored as a QC result of the lot: attribute ``relative_potency``, value
``100 * C_ref / C_test`` in ``%`` of the reference standard, ``value_text`` holding the
confidence interval. Only a reportable result (constrained fit converged, system and sample
suitability passed, parallelism shown by equivalence) is stored; otherwise nothing is written
and the report lists why.
"""

from __future__ import annotations

import hashlib
import io
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from saisei.analytics.dose_response import (
    AssayCheck,
    DoseResponseConvergenceWarning,
    DoseResponseModel,
    ParallelismLimits,
    RelativePotencyResult,
    SuitabilityCriteria,
    flag_outliers,
    read_plate,
    relative_potency,
)
from saisei.errors import FieldError, NotFound, ValidationFailed
from saisei.storage.base import utcnow
from saisei.storage.models import QCResult
from saisei.storage.repositories.batches import get_batch
from saisei.storage.store import Store

__all__ = [
    "POTENCY_ATTRIBUTE",
    "POTENCY_UNIT",
    "DoseResponseReport",
    "PotencyReport",
    "fit_dose_response",
    "read_table",
    "record_relative_potency",
]

#: QC attribute and unit under which relative potency is stored.
POTENCY_ATTRIBUTE = "relative_potency"
POTENCY_UNIT = "%"
_METHOD = "USP <1032>/<1034> constrained parallel {model}, Wald CI on log RP"

T = TypeVar("T")


def _finite(value: Any) -> float | None:
    number = float(value)
    return number if np.isfinite(number) else None


def read_table(path: Path) -> pd.DataFrame:
    """A CSV (``#`` comment lines skipped) or XLSX (first sheet) file as a DataFrame.

    Raises
    ------
    NotFound
        If the file does not exist.
    ValidationFailed
        If it is neither CSV nor XLSX, or cannot be parsed.
    """
    if not path.is_file():
        raise NotFound(f"No file {str(path)!r}. Check the path.")
    suffix = path.suffix.lower()
    try:
        if suffix in (".xlsx", ".xlsm"):
            return pd.read_excel(path, sheet_name=0)
        if suffix in (".csv", ".txt"):
            text = path.read_text("utf-8-sig")
            kept = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
            return pd.read_csv(io.StringIO(kept))
    except ImportError:  # pandas reads .xlsx through openpyxl
        raise ValidationFailed(
            f"Reading {path.name!r} needs the openpyxl package; install it or save the sheet "
            "as CSV."
        ) from None
    except (ValueError, UnicodeDecodeError, zipfile.BadZipFile) as exc:
        raise ValidationFailed(f"The file {path.name!r} cannot be read: {exc}") from None
    raise ValidationFailed(
        f"The file {path.name!r} must be a .csv or .xlsx file. Got {suffix or 'no suffix'!r}."
    )


def _column(frame: pd.DataFrame, name: str, file: str, option: str) -> str:
    by_name = {str(c).strip().lower(): c for c in frame.columns}
    if name.strip().lower() not in by_name:
        raise ValidationFailed(
            f"The file {file!r} must have a {name!r} column. Got columns "
            f"{[str(c) for c in frame.columns]}. Name the column with {option}."
        )
    return str(by_name[name.strip().lower()])


def _numeric(frame: pd.DataFrame, columns: list[str], file: str) -> pd.DataFrame:
    frame = frame.dropna(how="all", subset=columns)
    errors = []
    out = pd.DataFrame(index=frame.index)
    for column in columns:
        out[column] = pd.to_numeric(frame[column], errors="coerce")
        for position, (raw, number) in enumerate(zip(frame[column], out[column], strict=True)):
            if pd.isna(number):
                errors.append(
                    FieldError("must be a number", file, position + 1, column, _cell(raw))
                )
    if errors:
        raise ValidationFailed(f"The file {file!r} has values that are not numbers.", errors)
    return out


def _cell(value: Any) -> Any:
    """A cell value as shown in an error (NaN as None)."""
    return None if pd.isna(value) else value


def _plate(plate_path: Path, map_path: Path, n_wells: int) -> pd.DataFrame:
    readings = read_table(plate_path)
    if "well" in {str(c).strip().lower() for c in readings.columns}:
        readings.columns = [str(c).strip().lower() for c in readings.columns]
    else:  # the reader's grid: first column holds the row letters
        readings = readings.set_index(readings.columns[0])
        readings.columns = [str(c).strip() for c in readings.columns]
    plate_map = read_table(map_path)
    plate_map.columns = [str(c).strip().lower() for c in plate_map.columns]
    plate = read_plate(readings, plate_map, n_wells=n_wells)
    plate["sample"] = plate["sample"].astype(str)
    return flag_outliers(plate)


def _sample_curve(
    plate: pd.DataFrame, sample: str, exclude_outliers: bool
) -> tuple[np.ndarray, np.ndarray]:
    rows = plate[(plate["sample"] == sample) & plate["dose"].notna()]
    if exclude_outliers:
        rows = rows[~rows["outlier"]]
    return rows["dose"].to_numpy(dtype=float), rows["response"].to_numpy(dtype=float)


def _samples(plate: pd.DataFrame) -> list[str]:
    return sorted(plate.loc[plate["dose"].notna(), "sample"].unique())


def _check_sample(plate: pd.DataFrame, sample: str, option: str) -> str:
    samples = _samples(plate)
    if sample not in samples:
        raise ValidationFailed(
            f"The plate map has no sample {sample!r} with doses; it has {samples}. "
            f"Name the sample with {option}."
        )
    return sample


def _captured(category: type[Warning], call: Callable[[], T]) -> tuple[T, list[str]]:
    """Run ``call``, turning warnings of ``category`` into messages (others pass on)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", category)
        value = call()
    notes = []
    for w in caught:
        if issubclass(w.category, category):
            notes.append(str(w.message))
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return value, notes


@dataclass(frozen=True)
class DoseResponseReport:
    """A fitted 4PL/5PL curve from a file.

    Attributes
    ----------
    source : str
        File fitted (the plate file for plates).
    sample : str or None
        Plate-map sample fitted (None for a dose-response table).
    model : str
    n_obs, dof : int
    params, standard_errors : dict of str to float or None
        ``A`` (zero-dose response), ``B`` (slope), ``C`` (inflection dose), ``D`` (infinite-dose
        response)[, ``E``] (see ``docs/dose-response.md``).
    ec50, ec50_se, ec50_ci_low, ec50_ci_high : float or None
        Dose of half-maximal effect, in dose units, with its interval.
    ci_level : float
    ci_method : str
        ``delta`` (as R drc) or ``profile``.
    residual_se, r_squared : float or None
    converged : bool
    message : str
        Why the fit did not converge, when it did not.
    outlier_wells : tuple of str
        Wells flagged by the modified z-score (plates only).
    excluded_wells : tuple of str
        Flagged wells left out of the fit (with ``exclude_outliers``).
    """

    source: str
    sample: str | None
    model: str
    n_obs: int
    dof: int
    params: dict[str, float | None]
    standard_errors: dict[str, float | None]
    ec50: float | None
    ec50_se: float | None
    ec50_ci_low: float | None
    ec50_ci_high: float | None
    ci_level: float
    ci_method: str
    residual_se: float | None
    r_squared: float | None
    converged: bool
    message: str
    outlier_wells: tuple[str, ...] = ()
    excluded_wells: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary for JSON output."""
        out = dict(self.__dict__)
        out["outlier_wells"] = list(self.outlier_wells)
        out["excluded_wells"] = list(self.excluded_wells)
        return out


def fit_dose_response(
    path: Path,
    *,
    model: str = "4pl",
    plate_map: Path | None = None,
    sample: str | None = None,
    dose_column: str = "dose",
    response_column: str = "response",
    n_wells: int = 96,
    ci_method: str = "delta",
    exclude_outliers: bool = False,
) -> DoseResponseReport:
    """Fit a 4PL or 5PL curve to a dose-response table or to one sample of a plate.

    Parameters
    ----------
    path : Path
        A table with ``dose_column`` and ``response_column``, or (with ``plate_map``) the plate
        reader file.
    plate_map : Path, optional
        Plate map; then ``sample`` names the plate-map sample to fit (optional when the map
        has only one sample with doses).
    exclude_outliers : bool
        Leave replicate outliers (modified z-score > 3.5) out of the fit.

    Raises
    ------
    NotFound, ValidationFailed
        For missing files, unreadable content or invalid options.
    """
    outliers: tuple[str, ...] = ()
    excluded: tuple[str, ...] = ()
    if plate_map is None:
        table = read_table(path)
        dose_col = _column(table, dose_column, path.name, "--dose-column")
        resp_col = _column(table, response_column, path.name, "--response-column")
        data = _numeric(table, [dose_col, resp_col], path.name)
        dose, response = data[dose_col].to_numpy(), data[resp_col].to_numpy()
    else:
        plate = _plate(path, plate_map, n_wells)
        if sample is None:
            samples = _samples(plate)
            if len(samples) != 1:
                raise ValidationFailed(
                    f"The plate map has samples {samples}; choose the one to fit with --sample."
                )
            sample = samples[0]
        sample = _check_sample(plate, sample, "--sample")
        dose, response = _sample_curve(plate, sample, exclude_outliers)
        mine = plate[plate["sample"] == sample]
        outliers = tuple(mine.loc[mine["outlier"], "well"])
        excluded = outliers if exclude_outliers else ()
    estimator = DoseResponseModel(model, ci_method=ci_method)
    # A flat response makes R^2 0/0 inside the estimator; it is reported as None, not warned.
    with np.errstate(invalid="ignore", divide="ignore"):
        fitted, notes = _captured(
            DoseResponseConvergenceWarning, lambda: estimator.fit(dose, response)
        )
    result = fitted.fit_result_
    return DoseResponseReport(
        source=path.name,
        sample=sample,
        model=result.model,
        n_obs=result.n_obs,
        dof=result.dof,
        params={k: _finite(v) for k, v in result.params.items()},
        standard_errors={k: _finite(v) for k, v in result.standard_errors.items()},
        ec50=_finite(result.ec50.estimate),
        ec50_se=_finite(result.ec50.se),
        ec50_ci_low=_finite(result.ec50.ci_low),
        ec50_ci_high=_finite(result.ec50.ci_high),
        ci_level=result.ec50.level,
        ci_method=result.ec50.method,
        residual_se=_finite(result.residual_se),
        r_squared=_finite(result.r_squared),
        converged=result.converged,
        message=result.message or "; ".join(notes),
        outlier_wells=outliers,
        excluded_wells=excluded,
    )


def _check_dict(group: str, check: AssayCheck) -> dict[str, Any]:
    return {
        "group": group,
        "name": check.name,
        "value": _finite(check.value),
        "ci_low": _finite(check.ci_low),
        "ci_high": _finite(check.ci_high),
        "limit_low": _finite(check.limit_low),
        "limit_high": _finite(check.limit_high),
        "passed": bool(check.passed),
    }


def _checks(result: RelativePotencyResult) -> tuple[dict[str, Any], ...]:
    return tuple(
        _check_dict(group, check)
        for group, checks in (
            ("parallelism", result.parallelism),
            ("system_suitability", result.system_suitability),
            ("sample_suitability", result.sample_suitability),
        )
        for check in checks
    )


def _problems(result: RelativePotencyResult, checks: tuple[dict[str, Any], ...]) -> list[str]:
    problems = [] if result.converged else [f"constrained fit did not converge: {result.message}"]
    for c in checks:
        if c["passed"] or c["name"] == "parallel":  # 'parallel' repeats the checks above
            continue
        interval = "" if c["ci_low"] is None else f" (CI {c['ci_low']:.4g} to {c['ci_high']:.4g})"
        value = "not available" if c["value"] is None else f"{c['value']:.4g}"
        problems.append(
            f"{c['group']}: {c['name']} = {value}{interval} outside "
            f"[{c['limit_low']}, {c['limit_high']}]"
        )
    return problems


@dataclass(frozen=True)
class PotencyReport:
    """Relative potency of a lot against a reference standard, and whether it was stored.

    Attributes
    ----------
    lot, reference_id, test_id : str
        The lot and the plate-map samples compared.
    model : str
    relative_potency, ci_low, ci_high : float or None
        ``C_ref / C_test`` (ratio) and its interval at ``level``.
    value_percent, ci_low_percent, ci_high_percent : float or None
        The same in % of the reference (what is stored).
    level : float
    reportable, parallel, system_suitable, sample_suitable, converged : bool
    checks : tuple of dict
        Every parallelism and suitability check (group, name, value, interval, limits, passed).
    problems : tuple of str
        Why the result is not reportable (empty when it is).
    outlier_wells, excluded_wells : tuple of str
    stored : bool
        A QC result was written (never for a non-reportable result or a dry run).
    qc_result_id : int or None
    plate_file, map_file, plate_sha256, map_sha256 : str
        Files read and their SHA-256, as recorded in the audit trail.
    """

    lot: str
    reference_id: str
    test_id: str
    model: str
    relative_potency: float | None
    ci_low: float | None
    ci_high: float | None
    value_percent: float | None
    ci_low_percent: float | None
    ci_high_percent: float | None
    level: float
    reportable: bool
    parallel: bool
    system_suitable: bool
    sample_suitable: bool
    converged: bool
    checks: tuple[dict[str, Any], ...]
    problems: tuple[str, ...]
    plate_file: str
    map_file: str
    plate_sha256: str
    map_sha256: str
    outlier_wells: tuple[str, ...] = ()
    excluded_wells: tuple[str, ...] = ()
    stored: bool = False
    qc_result_id: int | None = None
    dry_run: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary for JSON output."""
        out = dict(self.__dict__)
        for key in ("checks", "problems", "outlier_wells", "excluded_wells"):
            out[key] = list(out[key])
        return out


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _test_sample(plate: pd.DataFrame, lot: str, reference_id: str, test_id: str | None) -> str:
    if test_id is not None:
        return _check_sample(plate, test_id, "--test-id")
    samples = _samples(plate)
    if lot in samples:
        return lot
    others = [s for s in samples if s != reference_id]
    if len(others) != 1:
        raise ValidationFailed(
            f"The plate map has samples {samples}; name the test sample of lot {lot!r} with "
            "--test-id (or name it after the lot in the map)."
        )
    return others[0]


def record_relative_potency(
    store: Store,
    *,
    plate_path: Path,
    map_path: Path,
    lot: str,
    actor: str,
    reference_id: str = "reference",
    test_id: str | None = None,
    model: str = "4pl",
    n_wells: int = 96,
    reason: str | None = None,
    exclude_outliers: bool = False,
    parallelism_limits: ParallelismLimits | None = None,
    suitability: SuitabilityCriteria | None = None,
    dry_run: bool = False,
    source: str = "cli",
) -> PotencyReport:
    """Relative potency of ``lot`` from a plate; stored as a QC result when reportable.

    The QC result (attribute ``relative_potency``, unit ``%``, method naming the model,
    ``value_text`` with the interval, ``sample_id`` the test sample, ``analyst`` the actor) is
    written in one unit of work with ``reason``; besides the row's own audit event, an event
    ``<source>:assay:relative_potency`` records the potency, its interval, every parallelism
    and suitability check, the outliers excluded, and the files with their SHA-256.

    Returns
    -------
    PotencyReport
        ``stored`` is False, and ``problems`` says why, when the result is not reportable;
        nothing is written then (nor on a ``dry_run``).

    Raises
    ------
    NotFound
        If the lot or a file does not exist.
    ValidationFailed
        For unreadable plates, unknown samples or invalid options.
    """
    with store.reader() as session:
        get_batch(session, lot)  # fail before the computation when the lot is unknown
    if not reference_id.strip():
        raise ValidationFailed("The 'reference-id' option must name a plate-map sample.")
    plate = _plate(plate_path, map_path, n_wells)
    reference_id = _check_sample(plate, reference_id, "--reference-id")
    test = _test_sample(plate, lot, reference_id, test_id)
    if test == reference_id:
        raise ValidationFailed(
            f"The test sample must differ from the reference {reference_id!r}. "
            "Name the test sample with --test-id."
        )
    dose_r, resp_r = _sample_curve(plate, reference_id, exclude_outliers)
    dose_t, resp_t = _sample_curve(plate, test, exclude_outliers)
    for sample, response in ((reference_id, resp_r), (test, resp_t)):
        # relative_potency divides by the response variance of each curve.
        if response.size and np.ptp(response) == 0:
            raise ValidationFailed(
                f"Every response of sample {sample!r} is {float(response[0])!r}: a flat curve "
                "has no potency. Check the plate map and the reader file."
            )
    result = relative_potency(
        dose_r,
        resp_r,
        dose_t,
        resp_t,
        model=model,
        parallelism_limits=parallelism_limits,
        suitability=suitability,
    )
    used = plate[plate["sample"].isin([reference_id, test])]
    outliers = tuple(used.loc[used["outlier"], "well"])
    checks = _checks(result)
    rp, low, high = (_finite(v) for v in (result.relative_potency, result.ci_low, result.ci_high))
    report = PotencyReport(
        lot=lot,
        reference_id=reference_id,
        test_id=test,
        model=result.model,
        relative_potency=rp,
        ci_low=low,
        ci_high=high,
        value_percent=None if rp is None else 100.0 * rp,
        ci_low_percent=None if low is None else 100.0 * low,
        ci_high_percent=None if high is None else 100.0 * high,
        level=result.level,
        reportable=result.reportable,
        parallel=result.parallel,
        system_suitable=result.system_suitable,
        sample_suitable=result.sample_suitable,
        converged=result.converged,
        checks=checks,
        problems=tuple(_problems(result, checks)),
        plate_file=plate_path.name,
        map_file=map_path.name,
        plate_sha256=_sha256(plate_path),
        map_sha256=_sha256(map_path),
        outlier_wells=outliers,
        excluded_wells=outliers if exclude_outliers else (),
        dry_run=dry_run,
    )
    if not report.reportable or dry_run:
        return report
    return _store(store, report, actor=actor, source=source, reason=reason)


def _store(
    store: Store, report: PotencyReport, *, actor: str, source: str, reason: str | None
) -> PotencyReport:
    if report.value_percent is None:  # a reportable result is finite; never store NaN
        raise ValidationFailed(f"The relative potency of lot {report.lot} is not a number.")
    why = reason or f"relative potency of lot {report.lot} from plate {report.plate_file}"
    interval = (
        f"{report.level:.0%} CI {report.ci_low_percent:.6g} to {report.ci_high_percent:.6g} %"
    )
    audit = {
        "lot": report.lot,
        "value_percent": report.value_percent,
        "relative_potency": report.relative_potency,
        "ci_low": report.ci_low,
        "ci_high": report.ci_high,
        "level": report.level,
        "model": report.model,
        "reference_id": report.reference_id,
        "test_id": report.test_id,
        "reportable": report.reportable,
        "parallel": report.parallel,
        "system_suitable": report.system_suitable,
        "sample_suitable": report.sample_suitable,
        "checks": list(report.checks),
        "excluded_wells": list(report.excluded_wells),
        "plate_file": report.plate_file,
        "plate_sha256": report.plate_sha256,
        "map_file": report.map_file,
        "map_sha256": report.map_sha256,
    }
    with store.unit_of_work(actor=actor, source=source, reason=why) as uow:
        batch = get_batch(uow.session, report.lot)
        row = QCResult(
            batch_id=batch.id,
            attribute=POTENCY_ATTRIBUTE,
            value=report.value_percent,
            value_text=interval,
            unit=POTENCY_UNIT,
            method=_METHOD.format(model=report.model.upper()),
            sample_id=report.test_id[:64],
            tested_at=utcnow(),
            analyst=actor,
        )
        uow.session.add(row)
        uow.flush()
        audit["qc_result_id"] = row.id
        uow.record("assay", "relative_potency", entity_id=report.lot, new=audit)
        row_id = row.id
    return replace(report, stored=True, qc_result_id=row_id)
