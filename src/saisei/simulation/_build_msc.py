"""Allogeneic MSC programme: donors at three hospitals -> intermediary -> manufacturer."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from saisei.simulation import _culture_msc as msc_model
from saisei.simulation import _plant as plant
from saisei.simulation._chain import Custody, Leg, custody_frame, ship, shipment_frames
from saisei.simulation._common import (
    RunConfig,
    batch_truth,
    deviations,
    disposition,
    fault_arrays,
    hours_ns,
    oos_list,
)
from saisei.simulation._din import din_barcode, make_coi, make_din
from saisei.simulation._donors import OUTLIER_SD, sample_msc_donors
from saisei.simulation._kinetics import DT_H
from saisei.simulation._params import DONORS
from saisei.simulation._process import process_definition, sample_setpoints
from saisei.simulation._qc import MSC_ATTRIBUTES, measure
from saisei.simulation._result import SimulationResult
from saisei.simulation._tables import (
    NS_PER_H,
    Block,
    frame,
    parameters,
    qc_results,
    timeseries,
    utc,
)

PROCESS = "MSC-STR"


def _versions(changed: np.ndarray) -> np.ndarray:
    return np.where(changed > 0.5, "2.0", "1.0")


def processes(with_change: bool) -> list[dict[str, Any]]:
    """Process definitions: 1.0 (medium from supplier A) and, after a change, 2.0 (B)."""
    out = [
        process_definition(
            PROCESS,
            "1.0",
            "MSC",
            "Allogeneic MSC, microcarrier stirred "
            "bioreactor, 3 x 7-day passages, medium from supplier A",
            msc_model.SETPOINTS,
            MSC_ATTRIBUTES,
        )
    ]
    if with_change:
        out.append(
            process_definition(
                PROCESS,
                "2.0",
                "MSC",
                "As 1.0 with the medium from supplier B",
                msc_model.SETPOINTS,
                MSC_ATTRIBUTES,
            )
        )
    return out


def build_msc(cfg: RunConfig) -> SimulationResult:
    """Simulate ``cfg.n_batches`` MSC batches with their whole chain."""
    (r_donor, r_time, r_ship, r_sp, r_plant, r_proc, r_qc, r_ts) = cfg.streams(8)
    n = cfg.n_batches
    lots = np.array([f"MSC-{cfg.start.year % 100:02d}{i + 1:04d}" for i in range(n)])
    donors = sample_msc_donors(r_donor, n)
    hospital = r_donor.choice(np.array(plant.HOSPITALS), n)
    start_ns = cfg.start_ns() + hours_ns(np.arange(n) * 36.0 + r_time.uniform(0, 6, n))
    receipt_to_start = r_time.uniform(2, 6, n)
    leg1_h, hold_h, leg2_h = (
        r_time.uniform(3, 8, n),
        r_time.uniform(4, 16, n),
        r_time.uniform(12, 30, n),
    )
    leg2_ship = start_ns - hours_ns(receipt_to_start + leg2_h)
    leg1_ship = leg2_ship - hours_ns(hold_h + 1.0 + leg1_h)
    collected = leg1_ship - hours_ns(r_time.uniform(1, 3, n))
    years = utc(collected).year.to_numpy() % 100
    seq = {h: 0 for h in plant.HOSPITALS}
    dins, cois = [], []
    for i in range(n):
        seq[hospital[i]] += 1
        fin = plant.FACILITY[hospital[i]]
        dins.append(make_din(fin, int(years[i]), 100000 + seq[hospital[i]]))
        cois.append(make_coi(fin, int(years[i]), 5000 + i))
    din, coi = np.array(dins), np.array(cois)
    donor_codes = np.array([f"MD{i + 1:05d}" for i in range(n)])
    faults = fault_arrays(cfg.faults, n)
    umbilical = donors.tissue == "umbilical_cord"
    condition = np.where(umbilical, "2-8C", "15-25C")
    spontaneous_dock = r_ship.random(n) < 0.02
    leg1 = ship(
        r_ship,
        np.array([f"SHP-{lot}-1" for lot in lots]),
        "collection",
        din,
        hospital,
        np.full(n, plant.INTERMEDIARY),
        condition,
        leg1_ship,
        leg1_h,
        True,
        spontaneous_dock,
        np.zeros(n, bool),
    )
    active = umbilical & (r_ship.random(n) < 0.5)
    leg2 = ship(
        r_ship,
        np.array([f"SHP-{lot}-2" for lot in lots]),
        "collection",
        din,
        np.full(n, plant.INTERMEDIARY),
        np.full(n, plant.MANUFACTURER),
        np.where(active, "2-8C_active", condition),
        leg2_ship,
        leg2_h,
        True,
        faults["dock"],
        np.zeros(n, bool),
    )
    receipt_viability = (
        donors.viability * leg1.outcome.viability_factor * leg2.outcome.viability_factor
    )
    changed = cfg.changed()
    # Plant: equipment with hidden offsets, material lots with random effects.
    reactors = plant.equipment(
        r_plant, "BR", "bioreactor", "Stirred bioreactor 3 L", 4, n, 0.15, outlier=0.6
    )
    freezers = plant.equipment(
        r_plant, "CRF", "controlled_rate_freezer", "Controlled-rate freezer", 2, n, 0.03, base=1.0
    )
    medium_a = plant.material_lots(
        r_plant,
        "MED-A",
        "alpha-MEM (supplier A)",
        "medium",
        "Supplier A",
        0.04,
        changed < 0.5,
        8,
        "A",
    )
    medium_b = plant.material_lots(
        r_plant,
        "MED-B",
        "alpha-MEM (supplier B)",
        "medium",
        "Supplier B",
        0.04,
        changed > 0.5,
        8,
        "B",
    )
    hpl = plant.material_lots(
        r_plant,
        "HPL",
        "Human platelet lysate",
        "supplement",
        "PL Bio",
        0.05,
        np.ones(n, bool),
        10,
        "PL",
    )
    hpl_potency = r_plant.normal(0.0, 0.04, len(hpl.lot_numbers))
    carriers = plant.material_lots(
        r_plant,
        "MC-C1",
        "Microcarriers, dextran",
        "vessel",
        "Carrier Co",
        0.0,
        np.ones(n, bool),
        25,
        "MC",
    )
    cryo = plant.material_lots(
        r_plant,
        "CS10",
        "Cryopreservation medium, 10 % DMSO",
        "reagent",
        "Cryo Co",
        0.0,
        np.ones(n, bool),
        30,
        "CS",
    )
    setpoints = sample_setpoints(msc_model.SETPOINTS, r_sp, n)
    inp = {
        **setpoints,
        "donor_age": donors.age_years.astype(float),
        "umbilical": umbilical.astype(float),
        "donor_growth_effect": donors.growth_effect,
        "donor_potency_effect": donors.potency_effect,
        "msc_available": donors.msc_available,
        "receipt_viability": receipt_viability,
        "medium_lot_effect": plant.lot_effect(medium_a) + plant.lot_effect(medium_b),
        "supplement_lot_effect": plant.lot_effect(hpl),
        "supplement_potency_effect": hpl_potency[hpl.batch_lot],
        "temperature_offset": reactors.offsets[reactors.assigned],
        "crf_rate_factor": freezers.offsets[freezers.assigned],
        "process_change": changed,
        **{k: v for k, v in faults.items() if k != "dock"},
    }
    run = msc_model.run_msc(inp, r_proc)
    measured = measure(MSC_ATTRIBUTES, run.true, r_qc)
    true_ok, measured_ok = disposition(MSC_ATTRIBUTES, run.true, measured)
    end_ns = start_ns + hours_ns(msc_model.CULTURE_DAYS * 24.0)
    fill_ns = end_ns + hours_ns(2.0)
    freeze_ns = fill_ns + hours_ns(run.fill.dmso_min / 60.0)
    tested_ns = freeze_ns + hours_ns(r_time.uniform(5, 9, n) * 24)
    decided_ns = tested_ns + hours_ns(r_time.uniform(2, 5, n) * 24)
    status = np.where(measured_ok, "released", "rejected")
    tables: dict[str, pd.DataFrame] = {
        "parties": plant.PARTIES.copy(),
        "donors": frame(
            "donors",
            {
                "code": donor_codes,
                "donor_type": "allogeneic",
                "age_years": donors.age_years,
                "sex": donors.sex,
            },
        ),
        "collections": frame(
            "collections",
            {
                "din": din,
                "donor": donor_codes,
                "coi": coi,
                "party": hospital,
                "tissue_source": donors.tissue,
                "method": donors.method,
                "collected_at": utc(collected),
                "volume": np.round(donors.volume_ml, 1),
                "total_nucleated_cells": donors.tnc,
                "viability": np.round(donors.viability, 1),
            },
        ),
        "materials": plant.materials_frame([medium_a, medium_b, hpl, carriers, cryo], cfg.start),
        "equipment": plant.equipment_frame([reactors, freezers], cfg.start),
        "batches": frame(
            "batches",
            {
                "lot": lots,
                "product_type": "MSC",
                "process": PROCESS,
                "process_version": _versions(changed),
                "coi": coi,
                "din": din,
                "site": plant.MANUFACTURER,
                "status": status,
                "started_at": utc(start_ns),
                "ended_at": utc(decided_ns),
                "parent_lots": None,
            },
        ),
    }
    tables["shipments"], tables["shipment_logs"] = shipment_frames([leg1, leg2])
    tables["parameters"] = _parameters(
        lots, inp, run, reactors, freezers, start_ns, end_ns, fill_ns, freeze_ns, collected
    )
    tables["material_use"] = _material_use(
        lots, inp, run, [medium_a, medium_b], hpl, carriers, cryo
    )
    tables["timeseries"] = _timeseries(lots, run, start_ns, freeze_ns, r_ts)
    tables["qc_results"] = qc_results(
        lots,
        MSC_ATTRIBUTES,
        measured,
        tested_ns,
        r_qc.choice(np.array(["qc.tanaka", "qc.kato"]), n),
    )
    tables["custody_events"] = _custody(
        lots,
        din,
        coi,
        hospital,
        collected,
        leg1,
        leg2,
        start_ns,
        fill_ns,
        freeze_ns,
        decided_ns,
        status,
    )
    excursions = [
        (int(i), str(leg.codes[i]), int(leg.received_ns[i]))
        for leg in (leg1, leg2)
        for i in np.flatnonzero(leg.outcome.hours_out > 0.5)
    ]
    fault_ns = {
        f.batch - 1: int(start_ns[f.batch - 1] + hours_ns(f.onset_h or 0.0)) for f in cfg.faults
    }
    tables["deviations"] = deviations(
        "DEV-MSC",
        lots,
        cfg.faults,
        fault_ns,
        excursions,
        oos_list(MSC_ATTRIBUTES, measured, measured_ok, tested_ns),
    )
    truth = {
        "batches": batch_truth(
            lots,
            {
                "donor": donor_codes,
                "din": din,
                "hospital": hospital,
                "tissue": donors.tissue,
                "donor_age": donors.age_years,
                "donor_growth_effect": donors.growth_effect,
                "donor_potency_effect": donors.potency_effect,
                "receipt_viability": receipt_viability,
                "process_change": changed > 0.5,
                "bioreactor": np.array(reactors.asset_ids)[reactors.assigned],
                "temperature_offset": inp["temperature_offset"],
                "actual_cooling_rate": run.actual_cooling_rate,
                **{f"true_{k}": v for k, v in run.true.items()},
                "in_spec_true": true_ok,
                "released": measured_ok,
            },
        ),
        "outliers": {
            "donors": [
                {
                    "donor": str(donor_codes[i]),
                    "lot": str(lots[i]),
                    "growth_effect_sd": float(donors.growth_effect[i] / DONORS.growth_donor_sd),
                }
                for i in np.flatnonzero(
                    np.abs(donors.growth_effect) > OUTLIER_SD * DONORS.growth_donor_sd
                )
            ],
            "material_lots": plant.outlier_lots([medium_a, medium_b, hpl]),
            "shipments": _shipment_outliers([leg1, leg2]),
            "equipment": [
                {"asset_id": a, "temperature_offset_c": float(o)}
                for a, o in zip(reactors.asset_ids, reactors.offsets, strict=True)
                if abs(o) > 0.4
            ],
        },
    }
    return SimulationResult(
        tables=tables, processes=processes(cfg.change_at is not None), truth=truth
    )


def _shipment_outliers(legs: list[Leg]) -> list[dict[str, Any]]:
    out = []
    for leg in legs:
        o = leg.outcome
        for i in np.flatnonzero((o.hours_out > 0.5) | leg.dock | leg.tipped):
            out.append(
                {
                    "shipment": str(leg.codes[i]),
                    "hours_out_of_band": float(o.hours_out[i]),
                    "degree_hours_out": float(o.degree_hours_out[i]),
                    "left_at_room_temperature": bool(leg.dock[i]),
                    "tipped": bool(leg.tipped[i]),
                    "viability_factor": float(o.viability_factor[i]),
                }
            )
    return out


def _parameters(
    lots: np.ndarray,
    inp: dict[str, np.ndarray],
    run: msc_model.MscRun,
    reactors: plant.Equipment,
    freezers: plant.Equipment,
    start_ns: np.ndarray,
    end_ns: np.ndarray,
    fill_ns: np.ndarray,
    freeze_ns: np.ndarray,
    collected_ns: np.ndarray,
) -> pd.DataFrame:
    rows = [
        (
            sp.stage,
            sp.name,
            sp.unit,
            np.round(inp[sp.name], 3),
            {"expansion": start_ns, "fill": fill_ns, "freeze": freeze_ns}[sp.stage],
        )
        for sp in msc_model.SETPOINTS
    ]
    rows += [
        (
            "receipt",
            "collection_to_processing_time",
            "h",
            np.round((start_ns - collected_ns) / NS_PER_H, 2),
            start_ns,
        ),
        (
            "receipt",
            "receipt_viability",
            "percent",
            np.round(inp["receipt_viability"], 1),
            start_ns,
        ),
        ("expansion", "bioreactor", "", np.array(reactors.asset_ids)[reactors.assigned], start_ns),
        (
            "expansion",
            "harvest_viable_cells",
            "1e6 cell",
            np.round(run.harvest_cells / 1e6, 1),
            end_ns,
        ),
        ("expansion", "harvest_viability", "percent", np.round(run.harvest_viability, 1), end_ns),
        ("fill", "units_filled", "dimensionless", run.fill.n_units.astype(float), fill_ns),
        ("fill", "fill_volume", "mL", np.round(run.fill.unit_volume_ml, 2), fill_ns),
        ("fill", "dmso_exposure_time_actual", "min", np.round(run.fill.dmso_min, 1), freeze_ns),
        (
            "freeze",
            "cooling_rate_measured",
            "K/min",
            np.round(run.freeze.measured_rate_c_per_min, 3),
            freeze_ns,
        ),
        (
            "freeze",
            "nucleation_temperature",
            "degC",
            np.round(run.freeze.nucleation_c, 2),
            freeze_ns,
        ),
        ("freeze", "freezer", "", np.array(freezers.asset_ids)[freezers.assigned], freeze_ns),
    ]
    return parameters(lots, rows, "op.mori")


def _material_use(
    lots: np.ndarray,
    inp: dict[str, np.ndarray],
    run: msc_model.MscRun,
    media: list[plant.MaterialLots],
    hpl: plant.MaterialLots,
    carriers: plant.MaterialLots,
    cryo: plant.MaterialLots,
) -> pd.DataFrame:
    medium_ml = inp["working_volume"] * (
        len(msc_model.PASSAGE_DAYS) + 1 + 0.5 * len(msc_model.EXCHANGE_DAYS)
    )
    rows: list[pd.DataFrame] = []
    for m, stage, qty, unit in [
        (media[0], "expansion", medium_ml * 0.9, "mL"),
        (media[1], "expansion", medium_ml * 0.9, "mL"),
        (hpl, "expansion", medium_ml * 0.1, "mL"),
        (carriers, "expansion", inp["working_volume"] * 0.009, "g"),
        (cryo, "fill", run.fill.n_units * 5.0, "mL"),
    ]:
        used = m.batch_lot >= 0
        rows.append(
            pd.DataFrame(
                {
                    "lot": lots[used],
                    "stage": stage,
                    "material": m.code,
                    "material_lot": np.array(m.lot_numbers)[m.batch_lot[used]],
                    "quantity": np.round(np.asarray(qty, dtype=float)[used], 1),
                    "unit": unit,
                }
            )
        )
    out = pd.concat(rows, ignore_index=True)
    return out.sort_values(["lot", "stage", "material"], kind="stable").reset_index(drop=True)


def _timeseries(
    lots: np.ndarray,
    run: msc_model.MscRun,
    start_ns: np.ndarray,
    freeze_ns: np.ndarray,
    rng: np.random.Generator,
) -> pd.DataFrame:
    n = lots.size
    t_online = np.arange(msc_model.N_STEPS) * DT_H
    units = {"temperature": "degC", "pH": "dimensionless", "DO": "percent", "agitation": "rpm"}
    blocks = [
        Block("expansion", name, units[name], t_online, np.round(values, 3), start_ns)
        for name, values in run.signals.items()
    ]
    t_off = np.append(np.arange(msc_model.CULTURE_DAYS) * 24.0, msc_model.CULTURE_DAYS * 24.0)
    final = run.trace.final
    off = {
        name: np.column_stack([run.trace.samples[key], final[key]])
        for name, key in [
            ("viable_cell_density", "vcd"),
            ("viability", "viability"),
            ("glucose", "glucose"),
            ("lactate", "lactate"),
            ("ammonia", "ammonia"),
        ]
    }
    shape = (n, t_off.size)
    noisy = {
        "viable_cell_density": (
            off["viable_cell_density"] * np.exp(rng.normal(0, 0.06, shape)),
            "cell/mL",
            0,
        ),
        "viability": (np.clip(off["viability"] + rng.normal(0, 1.2, shape), 0, 100), "percent", 1),
        "glucose": (np.maximum(off["glucose"] + rng.normal(0, 0.08, shape), 0), "mmol/L", 2),
        "lactate": (np.maximum(off["lactate"] + rng.normal(0, 0.15, shape), 0), "mmol/L", 2),
        "ammonia": (np.maximum(off["ammonia"] + rng.normal(0, 0.04, shape), 0), "mmol/L", 2),
    }
    blocks += [
        Block("expansion", name, unit, t_off, np.round(values, digits), start_ns)
        for name, (values, unit, digits) in noisy.items()
    ]
    t_freeze = run.freeze.minutes / 60.0
    blocks += [
        Block(
            "freeze",
            "product_temperature",
            "degC",
            t_freeze,
            np.round(run.freeze.product_c, 2),
            freeze_ns,
        ),
        Block(
            "freeze",
            "chamber_temperature",
            "degC",
            t_freeze,
            np.round(run.freeze.chamber_c, 2),
            freeze_ns,
        ),
    ]
    return timeseries(lots, blocks)


def _custody(
    lots: np.ndarray,
    din: np.ndarray,
    coi: np.ndarray,
    hospital: np.ndarray,
    collected: np.ndarray,
    leg1: Leg,
    leg2: Leg,
    start_ns: np.ndarray,
    fill_ns: np.ndarray,
    freeze_ns: np.ndarray,
    decided_ns: np.ndarray,
    status: np.ndarray,
) -> pd.DataFrame:
    barcode = np.array([din_barcode(d) for d in din])
    nothing = np.full(lots.size, "")  # the QC disposition and release are record decisions
    decision = np.where(status == "released", "approved", "rejected")
    minute = NS_PER_H // 60
    # Labelled 10 min after collection, or half-way to packing when the courier comes sooner:
    # a container is labelled before it is packed.
    labelled = np.minimum(collected + 10 * minute, collected + (leg1.packed_ns - collected) // 2)
    events = [
        Custody("collection", "collection", din, hospital, "nurse.sato", collected, barcode),
        Custody("labelling", "collection", din, hospital, "nurse.sato", labelled, barcode),
        Custody("packing", "collection", din, hospital, "nurse.sato", leg1.packed_ns, barcode),
        Custody(
            "hand_over", "collection", din, plant.COURIER, "courier.ito", leg1.shipped_ns, barcode
        ),
        Custody(
            "receipt",
            "collection",
            din,
            plant.INTERMEDIARY,
            "bank.yamada",
            leg1.received_ns,
            barcode,
        ),
        Custody(
            "packing", "collection", din, plant.INTERMEDIARY, "bank.yamada", leg2.packed_ns, barcode
        ),
        Custody(
            "hand_over", "collection", din, plant.COURIER, "courier.ito", leg2.shipped_ns, barcode
        ),
        Custody(
            "receipt",
            "collection",
            din,
            plant.MANUFACTURER,
            "wh.kobayashi",
            leg2.received_ns,
            barcode,
        ),
        Custody(
            "accessioning",
            "collection",
            din,
            plant.MANUFACTURER,
            "wh.kobayashi",
            leg2.received_ns + 30 * minute,
            barcode,
        ),
        Custody(
            "processing_start", "batch", lots, plant.MANUFACTURER, "op.mori", start_ns, barcode
        ),
        Custody("fill", "batch", lots, plant.MANUFACTURER, "op.mori", fill_ns, barcode),
        Custody("freeze", "batch", lots, plant.MANUFACTURER, "op.mori", freeze_ns, barcode),
        Custody(
            "storage",
            "batch",
            lots,
            plant.MANUFACTURER,
            "op.mori",
            freeze_ns + 180 * minute,
            barcode,
        ),
        Custody(
            "qc_disposition",
            "batch",
            lots,
            plant.MANUFACTURER,
            "qa.suzuki",
            decided_ns,
            nothing,
            decision,
        ),
    ]
    released = status == "released"
    frame_all = custody_frame(coi, events)
    rel = Custody(
        "release",
        "batch",
        lots[released],
        plant.MANUFACTURER,
        "qa.suzuki",
        decided_ns[released] + 60 * minute,
        nothing[released],
    )
    if released.any():
        extra = custody_frame(coi[released], [rel])
        frame_all = pd.concat([frame_all, extra], ignore_index=True)
        order = np.lexsort(
            (pd.to_datetime(frame_all["occurred_at"]).to_numpy(), frame_all["coi"].to_numpy())
        )
        frame_all = frame_all.iloc[order].reset_index(drop=True)
    return frame_all
