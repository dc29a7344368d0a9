"""SPC service over stored QC results and parameter values: published limits, lots, rules."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from saisei.domain.enums import ProductType, QCStatus
from saisei.errors import NotFound, ValidationFailed
from saisei.services._data import attribute_series, parameter_series
from saisei.services.spc import spc_capability, spc_chart
from saisei.storage.models import (
    Batch,
    ParameterValue,
    ProcessDefinition,
    QCResult,
    QualityAttribute,
    Specification,
)
from saisei.storage.store import Store

CONSTANTS = Path(__file__).parents[1] / "reference" / "spc" / "chart_constants.csv"

# NIST/SEMATECH e-Handbook 6.3.2.2 (individuals control chart example): flow rate of 10 batches
# (the same data as tests/analytics/spc/test_spc_charts.py).
NIST_FLOW = [49.6, 47.6, 49.9, 51.3, 47.8, 51.2, 52.6, 52.4, 53.6, 52.1]
# Montgomery, Introduction to SQC (6th ed.), Example 7.3 / Table 7.9: nonconformities in 20
# samples of 5 computers.
MONTGOMERY_PC = [10, 12, 8, 14, 10, 16, 11, 7, 10, 15, 9, 5, 7, 11, 12, 6, 8, 10, 7, 5]
T0 = datetime(2024, 1, 1, tzinfo=UTC)


def seed(
    store: Store,
    values: Sequence[float],
    *,
    attribute: str = "flow_rate",
    unit: str | None = "L/min",
    spec: tuple[float | None, float | None] | None = None,
    product: ProductType = ProductType.MSC,
    prefix: str = "L",
    times: Sequence[datetime | None] | None = None,
    process_name: str = "MSC-BM",
) -> list[str]:
    """One lot per value with one valid QC result, inserted newest first (ids against time)."""
    times = times if times is not None else [T0 + timedelta(days=i) for i in range(len(values))]
    lots = [f"{prefix}{i + 1:03d}" for i in range(len(values))]
    with store.unit_of_work(actor="qc.ito", source="test") as uow:
        process = ProcessDefinition(name=process_name, version="1", product_type=product)
        uow.session.add(process)
        uow.flush()
        if spec is not None:
            qa = QualityAttribute(process_id=process.id, name=attribute, unit=unit or "-")
            uow.session.add(qa)
            uow.flush()
            uow.session.add(Specification(attribute_id=qa.id, lower=spec[0], upper=spec[1]))
        for lot, value, started in reversed(list(zip(lots, values, times, strict=True))):
            batch = Batch(
                lot_number=lot, product_type=product, process_id=process.id, started_at=started
            )
            if started is None:  # creation time is the fallback order key
                batch.created_at = T0 + timedelta(days=lots.index(lot))
            uow.session.add(batch)
            uow.flush()
            uow.session.add(
                QCResult(batch_id=batch.id, attribute=attribute, value=value, unit=unit)
            )
    return lots


def add_qc(store: Store, lot: str, attribute: str, value: float | None, **fields: object) -> None:
    with store.unit_of_work(actor="qc.ito", source="test") as uow:
        batch_id = uow.session.query(Batch.id).filter(Batch.lot_number == lot).scalar()
        uow.session.add(QCResult(batch_id=batch_id, attribute=attribute, value=value, **fields))


def test_individuals_chart_reproduces_the_nist_example(store: Store) -> None:
    lots = seed(
        store,
        NIST_FLOW,
        times=[
            *[T0 + timedelta(days=i) for i in range(4)],
            None,
            *[T0 + timedelta(days=i) for i in range(5, 10)],
        ],
    )
    # An invalidated result and a text-only result must not enter the chart.
    add_qc(
        store,
        "L003",
        "flow_rate",
        500.0,
        status=QCStatus.INVALIDATED,
        invalidation_reason="pipetting error",
    )
    add_qc(store, "L004", "flow_rate", None, value_text="see attachment")
    report = spc_chart(store, "flow_rate")
    # NIST 6.3.2.2: mean 50.81, MR-bar 1.8778, UCL 55.80, LCL 45.82, MR UCL 6.13.
    individuals, moving_range = report.limits
    assert individuals.center == pytest.approx(50.81, abs=5e-3)
    assert individuals.ucl == pytest.approx(55.80, abs=5e-3)
    assert individuals.lcl == pytest.approx(45.82, abs=5e-3)
    assert moving_range.center == pytest.approx(1.8778, abs=5e-5)
    assert moving_range.ucl == pytest.approx(6.13, abs=5e-3)
    assert report.in_control and report.violations == ()
    # Start order (L005 has no start time: its creation time places it fifth), not id order.
    points = [p for p in report.points if p.series == "individuals"]
    assert [p.label for p in points] == lots
    assert [p.statistic for p in points] == NIST_FLOW
    assert report.kind == "attribute" and report.unit == "L/min"
    assert report.to_dict()["points"][10]["statistic"] is None  # first moving range


def test_a_lot_beyond_the_limits_is_named_with_the_rule(store: Store) -> None:
    seed(store, [*NIST_FLOW, 70.0])
    report = spc_chart(store, "flow_rate", rules="we")
    beyond = [(v.label, v.series, v.rule, v.name) for v in report.violations]
    # 70 lies far above any 3-sigma limit of the NIST data: the individual is beyond its
    # limit and Nelson/Western Electric rule 1 fires at lot L011; its moving range too.
    assert ("L011", "individuals", None, "beyond_limits") in beyond
    assert ("L011", "individuals", 1, "beyond_3_sigma") in beyond
    assert ("L011", "moving_range", None, "beyond_limits") in beyond
    assert {v.lots for v in report.violations} == {("L011",)}
    assert not report.in_control
    assert report.rules == "we"


def test_xbar_r_groups_consecutive_lots_with_published_factors(store: Store) -> None:
    rng = np.random.default_rng(7)
    values = rng.normal(74.0, 0.01, 22).round(4).tolist()
    seed(store, values, attribute="diameter", unit="mm")
    report = spc_chart(store, "diameter", chart="xbar-r", subgroup_size=5, rules="none")
    groups = np.array(values[:20]).reshape(4, 5)
    xbarbar, rbar = groups.mean(axis=1).mean(), np.ptp(groups, axis=1).mean()
    factors = pd.read_csv(CONSTANTS).set_index("n").loc[5]
    xbar, rng_limits = report.limits
    # Montgomery eq. 6.4-6.5 with Appendix VI factors A2 = 0.577, D4 = 2.114 (3 decimals).
    assert xbar.ucl == pytest.approx(xbarbar + factors.A2 * rbar, abs=1e-3 * rbar)
    assert xbar.lcl == pytest.approx(xbarbar - factors.A2 * rbar, abs=1e-3 * rbar)
    assert rng_limits.ucl == pytest.approx(factors.D4 * rbar, abs=1.5e-3 * rbar)
    assert report.unused_lots == ("L021", "L022")
    first = next(p for p in report.points if p.series == "xbar")
    assert first.label == "L001..L005" and len(first.lots) == 5


def test_u_chart_counts_per_lot_by_month_reproduce_montgomery(store: Store) -> None:
    # Montgomery Example 7.3 as 20 months of 5 lots; each month's count sits on its first lot.
    counts, times = [], []
    for month, total in enumerate(MONTGOMERY_PC):
        counts += [float(total), 0.0, 0.0, 0.0, 0.0]
        start = datetime(2020 + month // 12, month % 12 + 1, 3, tzinfo=UTC)
        times += [start + timedelta(days=d) for d in range(5)]
    seed(store, counts, attribute="nonconformities", unit="count", times=times)
    report = spc_chart(store, "nonconformities", chart="u")
    (u,) = report.limits
    # Montgomery Example 7.3: u-bar = 1.93, UCL = 3.79, LCL = 0.07; process in control.
    assert u.center == pytest.approx(1.93)
    assert u.ucl == pytest.approx(3.79, abs=5e-3)
    assert u.lcl == pytest.approx(0.07, abs=5e-3)
    assert report.in_control
    assert report.points[0].label == "2020-01" and len(report.points[0].lots) == 5


def test_u_chart_refuses_values_that_are_not_counts(store: Store) -> None:
    seed(store, [1.0, 2.5, 0.0])
    with pytest.raises(ValidationFailed, match=r"a count \(a whole number >= 0\); lots L002"):
        spc_chart(store, "flow_rate", chart="u")


def test_p_chart_is_the_monthly_fraction_of_lots_out_of_specification(store: Store) -> None:
    # Months of 4, 5 and 6 lots with 1, 0 and 2 lots outside [90, 110].
    values = [100, 85, 100, 100] + [100] * 5 + [111, 100, 89, 100, 110, 90]
    times = (
        [datetime(2024, 1, d, tzinfo=UTC) for d in range(1, 5)]
        + [datetime(2024, 2, d, tzinfo=UTC) for d in range(1, 6)]
        + [datetime(2024, 3, d, tzinfo=UTC) for d in range(1, 7)]
    )
    seed(store, values, attribute="potency", unit="%", spec=(90.0, 110.0), times=times)
    report = spc_chart(store, "potency", chart="p")
    n = np.array([4, 5, 6])
    pbar = 3 / 15
    # Montgomery eq. 7.8 (variable sample size): p-bar +/- 3 sqrt(p-bar (1 - p-bar) / n_i);
    # on-limit values (110, 90) are in specification.
    points = report.points
    assert [p.statistic for p in points] == pytest.approx([1 / 4, 0.0, 2 / 6])
    assert [p.ucl for p in points] == pytest.approx(pbar + 3 * np.sqrt(pbar * (1 - pbar) / n))
    assert report.limits[0].center == pytest.approx(pbar)
    assert report.limits[0].varying and report.limits[0].ucl is None
    # Explicit limits replace the stored specification: [95, 105] -> 1, 0, 4 lots out.
    tight = spc_chart(store, "potency", chart="p", lsl=95.0, usl=105.0)
    assert [p.statistic for p in tight.points] == pytest.approx([1 / 4, 0.0, 4 / 6])


def test_p_chart_needs_a_specification(store: Store) -> None:
    seed(store, [1.0, 2.0, 3.0])
    with pytest.raises(ValidationFailed, match=r"no release specification is stored for 3 lot"):
        spc_chart(store, "flow_rate", chart="p")
    with pytest.raises(ValidationFailed, match="--lsl and --usl apply to the p chart only"):
        spc_chart(store, "flow_rate", chart="imr", usl=2.0)


def test_capability_uses_the_stored_release_specification(store: Store) -> None:
    # Montgomery, Introduction to SQC (6th ed.), Example 8.5: USL = 62, LSL = 38, n = 20,
    # s = 1.75 -> Cp-hat 2.29 and the 95 % interval 1.57 <= Cp <= 3.01 (here overall: Pp).
    z = stats.norm.ppf((np.arange(1, 21) - 0.375) / 20.25)  # Blom normal scores
    values = 50.0 + 1.75 * (z - z.mean()) / z.std(ddof=1)
    seed(store, values.tolist(), attribute="viability", unit="%", spec=(38.0, 62.0))
    report = spc_capability(store, "viability")
    assert (report.lsl, report.usl, report.limits_source) == (38.0, 62.0, "specification")
    assert report.indices["pp"]["estimate"] == pytest.approx(2.29, abs=5e-3)
    assert report.indices["pp"]["ci_low"] == pytest.approx(1.57, abs=1e-2)
    assert report.indices["pp"]["ci_high"] == pytest.approx(3.01, abs=1e-2)
    assert report.n == 20 and report.warnings == ()
    one_sided = spc_capability(store, "viability", lsl=40.0)
    assert one_sided.limits_source == "options"
    assert one_sided.indices["cp"]["estimate"] is None
    assert one_sided.indices["ppl"]["estimate"] == pytest.approx(10 / (3 * 1.75))


def test_capability_without_or_with_conflicting_specifications(store: Store) -> None:
    seed(store, [1.0, 2.0, 1.5, 1.7])
    with pytest.raises(ValidationFailed, match=r"No release specification is stored for 'flow_"):
        spc_capability(store, "flow_rate")
    seed(store, [3.0, 2.0], attribute="ph", spec=(6.8, 7.6), prefix="A", process_name="P1")
    seed(store, [3.0, 2.0], attribute="ph", spec=(7.0, 7.4), prefix="B", process_name="P2")
    with pytest.raises(ValidationFailed, match=r"different release specifications"):
        spc_capability(store, "ph")


def test_capability_reports_non_normal_data_as_a_warning(store: Store) -> None:
    values = [1.0] * 12 + [1.1, 1.2, 9.0, 15.0]
    seed(store, values, spec=(0.0, 20.0))
    report = spc_capability(store, "flow_rate")
    assert report.warnings and "Normality is rejected" in report.warnings[0]


def test_parameters_by_stage_and_product(store: Store) -> None:
    lots = seed(store, [1.0, 2.0, 3.0], attribute="viability")
    with store.unit_of_work(actor="op.mori", source="test") as uow:
        for i, lot in enumerate(lots):
            batch_id = uow.session.query(Batch.id).filter(Batch.lot_number == lot).scalar()
            assert batch_id is not None
            uow.session.add_all(
                [
                    ParameterValue(
                        batch_id=batch_id,
                        stage="expansion",
                        parameter="temp",
                        value=37.0 + 0.1 * i,
                        unit="degC",
                    ),
                    ParameterValue(
                        batch_id=batch_id,
                        stage="freeze",
                        parameter="temp",
                        value=-80.0 - i,
                        unit="degC",
                    ),
                ]
            )
    with pytest.raises(ValidationFailed, match=r"more than one stage \(expansion, freeze\)"):
        spc_chart(store, "temp")
    frame = parameter_series(store, "temp", stage="freeze")
    assert frame["value"].tolist() == [-80.0, -81.0, -82.0]
    assert frame["lot"].tolist() == lots
    report = spc_chart(store, "temp", stage="expansion")
    assert report.kind == "parameter" and report.stage == "expansion"
    assert [p.statistic for p in report.points[:3]] == pytest.approx([37.0, 37.1, 37.2])
    with pytest.raises(
        NotFound,
        match=r"No valid numeric QC result or parameter value named "
        r"'temp' is stored for product 'CAR-T'",
    ):
        spc_chart(store, "temp", product="CAR-T")
    with pytest.raises(ValidationFailed, match="QC results have no stage"):
        spc_chart(store, "viability", kind="attribute", stage="expansion")


def test_lots_of_several_products_need_a_product(store: Store) -> None:
    msc = seed(store, NIST_FLOW[:5], prefix="M")
    cart = seed(store, NIST_FLOW[5:], prefix="C", product=ProductType.CAR_T, process_name="CAR")
    with pytest.raises(ValidationFailed, match=r"several products \(CAR-T, MSC\).*--product"):
        spc_chart(store, "flow_rate")
    with pytest.raises(ValidationFailed, match=r"several products"):
        spc_capability(store, "flow_rate", lsl=40.0, usl=60.0)
    report = spc_chart(store, "flow_rate", product="CAR-T")
    assert [p.label for p in report.points[: len(cart)]] == cart
    assert [p.statistic for p in report.points[: len(cart)]] == NIST_FLOW[5:]
    assert spc_chart(store, "flow_rate", product="MSC").points[0].label == msc[0]


def test_series_conversion_averages_replicates_and_checks_units(store: Store) -> None:
    seed(store, [10.0, 20.0, 30.0])
    add_qc(store, "L002", "flow_rate", 22.0, unit="L/min")
    frame = attribute_series(store, "flow_rate")
    assert frame["value"].tolist() == [10.0, 21.0, 30.0]
    assert frame["n_results"].tolist() == [1, 2, 1]
    assert str(frame["time"].dt.tz) == "UTC"
    add_qc(store, "L003", "flow_rate", 0.5, unit="mL/s")
    with pytest.raises(ValidationFailed, match=r"different units \(L/min, mL/s\)"):
        spc_chart(store, "flow_rate")


def test_unknown_names_and_options(store: Store) -> None:
    seed(store, [1.0, 2.0, 3.0, 4.0])
    with pytest.raises(
        NotFound,
        match=r"No valid numeric QC result or parameter value named "
        r"'nope' is stored\.",
    ):
        spc_chart(store, "nope")
    with pytest.raises(ValidationFailed, match=r"'chart' option must be one of imr, xbar-r"):
        spc_chart(store, "flow_rate", chart="np")
    with pytest.raises(ValidationFailed, match=r"'product' filter must be one of MSC"):
        spc_chart(store, "flow_rate", product="msc")
    with pytest.raises(ValidationFailed, match=r"needs at least 10 lots; 4 are stored"):
        spc_chart(store, "flow_rate", chart="xbar-s")
    with pytest.raises(ValidationFailed, match="not offered for the ewma chart"):
        spc_chart(store, "flow_rate", chart="ewma", exclude_out_of_control=True)


def test_ewma_and_cusum_over_stored_lots(store: Store) -> None:
    seed(store, NIST_FLOW)
    ewma = spc_chart(store, "flow_rate", chart="ewma", lam=0.3)
    # EWMA recursion z_i = lam x_i + (1 - lam) z_{i-1}, z_0 = mean (NIST 6.3.2.4), by hand.
    z, expected = float(np.mean(NIST_FLOW)), []
    for x in NIST_FLOW:
        z = 0.3 * x + 0.7 * z
        expected.append(z)
    assert [p.statistic for p in ewma.points] == pytest.approx(expected)
    assert ewma.rules is None and ewma.options["lam"] == 0.3
    cusum = spc_chart(store, "flow_rate", chart="cusum")
    assert [lim.series for lim in cusum.limits] == ["cusum_upper", "cusum_lower"]
