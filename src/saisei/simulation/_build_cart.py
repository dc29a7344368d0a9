"""Autologous CAR-T programme: leukapheresis at a hospital -> manufacturer -> product back to
the hospital in a liquid-nitrogen dry shipper."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from saisei.simulation import _cart as cart_model
from saisei.simulation import _plant as plant
from saisei.simulation._build_msc import _shipment_outliers
from saisei.simulation._chain import Custody, custody_frame, ship, shipment_frames
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
from saisei.simulation._donors import sample_patients
from saisei.simulation._kinetics import DT_H
from saisei.simulation._process import process_definition, sample_setpoints
from saisei.simulation._qc import CART_ATTRIBUTES, measure
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

PROCESS = "CART-19"


def processes(with_change: bool) -> list[dict[str, Any]]:
    """Process definitions: 1.0 and, after the vector-process change, 2.0."""
    out = [
        process_definition(
            PROCESS,
            "1.0",
            "CAR-T",
            "Autologous anti-CD19 CAR-T, lentiviral, rocking-motion bioreactor, 9-day expansion",
            cart_model.SETPOINTS,
            CART_ATTRIBUTES,
        )
    ]
    if with_change:
        out.append(
            process_definition(
                PROCESS,
                "2.0",
                "CAR-T",
                "As 1.0 with vector made by the new vector process",
                cart_model.SETPOINTS,
                CART_ATTRIBUTES,
            )
        )
    return out


def build_cart(cfg: RunConfig) -> SimulationResult:
    """Simulate ``cfg.n_batches`` CAR-T batches, one patient each."""
    (r_pat, r_time, r_ship, r_sp, r_plant, r_proc, r_qc, r_ts) = cfg.streams(8)
    n = cfg.n_batches
    lots = np.array([f"CART-{cfg.start.year % 100:02d}{i + 1:04d}" for i in range(n)])
    pts = sample_patients(r_pat, n)
    hospital = r_pat.choice(np.array(plant.HOSPITALS), n)
    start_ns = cfg.start_ns() + hours_ns(np.arange(n) * 96.0 + r_time.uniform(0, 6, n))
    leg_h = r_time.uniform(8, 30, n)
    ship_ns = start_ns - hours_ns(leg_h + r_time.uniform(1, 4, n))
    collected = ship_ns - hours_ns(r_time.uniform(1, 3, n))
    years = utc(collected).year.to_numpy() % 100
    din = np.array(
        [
            make_din(plant.FACILITY[h], int(y), 500000 + i)
            for i, (h, y) in enumerate(zip(hospital, years, strict=True))
        ]
    )
    coi = np.array(
        [
            make_coi(plant.FACILITY[h], int(y), 90000 + i)
            for i, (h, y) in enumerate(zip(hospital, years, strict=True))
        ]
    )
    codes = np.array([f"PT{i + 1:05d}" for i in range(n)])
    faults = fault_arrays(cfg.faults, n)
    inbound = ship(
        r_ship,
        np.array([f"SHP-{lot}-IN" for lot in lots]),
        "collection",
        din,
        hospital,
        np.full(n, plant.MANUFACTURER),
        np.full(n, "2-8C"),
        ship_ns,
        leg_h,
        True,
        faults["dock"] | (r_ship.random(n) < 0.02),
        np.zeros(n, bool),
    )
    receipt_viability = pts.viability * inbound.outcome.viability_factor
    changed = cfg.changed()
    reactors = plant.equipment(r_plant, "RB", "bioreactor", "Rocking bioreactor", 3, n, 0.15)
    freezers = plant.equipment(
        r_plant, "CRF", "controlled_rate_freezer", "Controlled-rate freezer", 2, n, 0.03, base=1.0
    )
    vector = plant.material_lots(
        r_plant,
        "LV-CD19",
        "Lentiviral vector anti-CD19 CAR",
        "vector",
        "Vector CDMO",
        0.12,
        np.ones(n, bool),
        5,
        "LV",
    )
    medium = plant.material_lots(
        r_plant, "MED-T", "T-cell medium", "medium", "Supplier T", 0.04, np.ones(n, bool), 8, "T"
    )
    beads = plant.material_lots(
        r_plant,
        "BEADS",
        "Anti-CD3/CD28 beads",
        "reagent",
        "Bead Co",
        0.0,
        np.ones(n, bool),
        10,
        "BD",
    )
    inp = {
        **sample_setpoints(cart_model.SETPOINTS, r_sp, n),
        "patient_age": pts.age_years.astype(float),
        "prior_lines": pts.prior_lines.astype(float),
        "fitness_effect": pts.fitness_effect,
        "weight_kg": pts.weight_kg,
        "receipt_viability": receipt_viability,
        "cd3_fraction": pts.cd3_fraction,
        "vector_lot_effect": plant.lot_effect(vector),
        "medium_lot_effect": plant.lot_effect(medium),
        "temperature_offset": reactors.offsets[reactors.assigned],
        "crf_rate_factor": freezers.offsets[freezers.assigned],
        "process_change": changed,
        **{k: v for k, v in faults.items() if k != "dock"},
    }
    run = cart_model.run_cart(inp, r_proc)
    measured = measure(CART_ATTRIBUTES, run.true, r_qc)
    true_ok, ok = disposition(CART_ATTRIBUTES, run.true, measured)
    end_ns = start_ns + hours_ns(cart_model.CULTURE_DAYS * 24.0)
    fill_ns = end_ns + hours_ns(2.0)
    freeze_ns = fill_ns + hours_ns(run.fill.dmso_min / 60.0)
    tested_ns = freeze_ns + hours_ns(r_time.uniform(4, 7, n) * 24)
    decided_ns = tested_ns + hours_ns(r_time.uniform(1, 3, n) * 24)
    status = np.where(ok, "released", "rejected")
    out_idx = np.flatnonzero(ok)
    back_h = r_time.uniform(20, 48, out_idx.size)
    outbound = ship(
        r_ship,
        np.array([f"SHP-{lot}-OUT" for lot in lots[out_idx]]),
        "batch",
        lots[out_idx],
        np.full(out_idx.size, plant.MANUFACTURER),
        hospital[out_idx],
        np.full(out_idx.size, "LN2_dry_shipper"),
        decided_ns[out_idx] + hours_ns(r_time.uniform(4, 24, out_idx.size)),
        back_h,
        False,
        np.zeros(out_idx.size, bool),
        r_ship.random(out_idx.size) < 0.05,
    )
    tables: dict[str, pd.DataFrame] = {
        "parties": plant.PARTIES.copy(),
        "donors": frame(
            "donors",
            {"code": codes, "donor_type": "autologous", "age_years": pts.age_years, "sex": pts.sex},
        ),
        "collections": frame(
            "collections",
            {
                "din": din,
                "donor": codes,
                "coi": coi,
                "party": hospital,
                "tissue_source": "leukapheresis",
                "method": "apheresis, continuous flow",
                "collected_at": utc(collected),
                "volume": np.round(pts.volume_ml, 1),
                "total_nucleated_cells": pts.tnc,
                "viability": np.round(pts.viability, 1),
            },
        ),
        "materials": plant.materials_frame([vector, medium, beads], cfg.start),
        "equipment": plant.equipment_frame([reactors, freezers], cfg.start),
        "batches": frame(
            "batches",
            {
                "lot": lots,
                "product_type": "CAR-T",
                "process": PROCESS,
                "process_version": np.where(changed > 0.5, "2.0", "1.0"),
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
    legs = [inbound, outbound] if out_idx.size else [inbound]
    tables["shipments"], tables["shipment_logs"] = shipment_frames(legs)
    rows = [
        (sp.stage, sp.name, sp.unit, np.round(inp[sp.name], 3), start_ns)
        for sp in cart_model.SETPOINTS
    ]
    rows += [
        (
            "receipt",
            "collection_to_processing_time",
            "h",
            np.round((start_ns - collected) / NS_PER_H, 2),
            start_ns,
        ),
        ("receipt", "receipt_viability", "percent", np.round(receipt_viability, 1), start_ns),
        ("expansion", "bioreactor", "", np.array(reactors.asset_ids)[reactors.assigned], start_ns),
        (
            "expansion",
            "harvest_viable_cells",
            "1e6 cell",
            np.round(run.harvest_cells / 1e6, 1),
            end_ns,
        ),
        ("fill", "dmso_exposure_time_actual", "min", np.round(run.fill.dmso_min, 1), freeze_ns),
        (
            "freeze",
            "cooling_rate_measured",
            "K/min",
            np.round(run.freeze.measured_rate_c_per_min, 3),
            freeze_ns,
        ),
        ("freeze", "freezer", "", np.array(freezers.asset_ids)[freezers.assigned], freeze_ns),
    ]
    tables["parameters"] = parameters(lots, rows, "op.hayashi")
    tables["material_use"] = (
        pd.concat(
            [
                pd.DataFrame(
                    {
                        "lot": lots,
                        "stage": stage,
                        "material": m.code,
                        "material_lot": np.array(m.lot_numbers)[m.batch_lot],
                        "quantity": qty,
                        "unit": unit,
                    }
                )
                for m, stage, qty, unit in [
                    (vector, "transduction", 5.0, "mL"),
                    (medium, "expansion", 2500.0, "mL"),
                    (beads, "activation", 1.0, "mL"),
                ]
            ],
            ignore_index=True,
        )
        .sort_values(["lot", "stage"], kind="stable")
        .reset_index(drop=True)
    )
    t_on = np.arange(cart_model.N_STEPS) * DT_H
    units = {"temperature": "degC", "pH": "dimensionless", "DO": "percent"}
    blocks = [
        Block("expansion", k, units[k], t_on, np.round(v, 3), start_ns)
        for k, v in run.signals.items()
    ]
    t_off = np.append(np.arange(cart_model.CULTURE_DAYS) * 24.0, cart_model.CULTURE_DAYS * 24.0)
    vcd = np.column_stack([run.trace.samples["vcd"], run.trace.final["vcd"]])
    via = np.column_stack([run.trace.samples["viability"], run.trace.final["viability"]])
    blocks += [
        Block(
            "expansion",
            "viable_cell_density",
            "cell/mL",
            t_off,
            np.round(vcd * np.exp(r_ts.normal(0, 0.06, vcd.shape)), 0),
            start_ns,
        ),
        Block(
            "expansion",
            "viability",
            "percent",
            t_off,
            np.round(np.clip(via + r_ts.normal(0, 1.0, via.shape), 0, 100), 1),
            start_ns,
        ),
        Block(
            "freeze",
            "product_temperature",
            "degC",
            run.freeze.minutes / 60.0,
            np.round(run.freeze.product_c, 2),
            freeze_ns,
        ),
    ]
    tables["timeseries"] = timeseries(lots, blocks)
    tables["qc_results"] = qc_results(
        lots,
        CART_ATTRIBUTES,
        measured,
        tested_ns,
        r_qc.choice(np.array(["qc.tanaka", "qc.kato"]), n),
    )
    barcode = np.array([din_barcode(d) for d in din])
    minute = NS_PER_H // 60
    # Labelled 10 min after collection, or half-way to packing when the courier comes sooner:
    # a container is labelled before it is packed.
    labelled = np.minimum(collected + 10 * minute, collected + (inbound.packed_ns - collected) // 2)
    events = [
        Custody("collection", "collection", din, hospital, "nurse.sato", collected, barcode),
        Custody("labelling", "collection", din, hospital, "nurse.sato", labelled, barcode),
        Custody("packing", "collection", din, hospital, "nurse.sato", inbound.packed_ns, barcode),
        Custody(
            "hand_over",
            "collection",
            din,
            plant.COURIER,
            "courier.ito",
            inbound.shipped_ns,
            barcode,
        ),
        Custody(
            "receipt",
            "collection",
            din,
            plant.MANUFACTURER,
            "wh.kobayashi",
            inbound.received_ns,
            barcode,
        ),
        Custody(
            "accessioning",
            "collection",
            din,
            plant.MANUFACTURER,
            "wh.kobayashi",
            inbound.received_ns + 30 * minute,
            barcode,
        ),
        Custody(
            "processing_start", "batch", lots, plant.MANUFACTURER, "op.hayashi", start_ns, barcode
        ),
        Custody("fill", "batch", lots, plant.MANUFACTURER, "op.hayashi", fill_ns, barcode),
        Custody("freeze", "batch", lots, plant.MANUFACTURER, "op.hayashi", freeze_ns, barcode),
        Custody(
            "storage",
            "batch",
            lots,
            plant.MANUFACTURER,
            "op.hayashi",
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
            np.full(n, ""),  # a record decision: nothing is scanned
            np.where(ok, "approved", "rejected"),
        ),
    ]
    custody = [custody_frame(coi, events)]
    if out_idx.size:
        custody.append(
            custody_frame(
                coi[out_idx],
                [
                    Custody(
                        "release",
                        "batch",
                        lots[out_idx],
                        plant.MANUFACTURER,
                        "qa.suzuki",
                        decided_ns[out_idx] + 60 * minute,
                        np.full(out_idx.size, ""),
                    ),
                    Custody(
                        "shipment_to_clinic",
                        "batch",
                        lots[out_idx],
                        plant.MANUFACTURER,
                        "wh.kobayashi",
                        outbound.shipped_ns,
                        barcode[out_idx],
                    ),
                    Custody(
                        "receipt_at_clinic",
                        "batch",
                        lots[out_idx],
                        hospital[out_idx],
                        "pharm.ueda",
                        outbound.received_ns,
                        barcode[out_idx],
                    ),
                ],
            )
        )
    all_events = pd.concat(custody, ignore_index=True)
    order = np.lexsort(
        (pd.to_datetime(all_events["occurred_at"]).to_numpy(), all_events["coi"].to_numpy())
    )
    tables["custody_events"] = all_events.iloc[order].reset_index(drop=True)
    excursions = [
        (int(i), str(inbound.codes[i]), int(inbound.received_ns[i]))
        for i in np.flatnonzero(inbound.outcome.hours_out > 0.5)
    ]
    fault_ns = {
        f.batch - 1: int(start_ns[f.batch - 1] + hours_ns(f.onset_h or 0.0)) for f in cfg.faults
    }
    tables["deviations"] = deviations(
        "DEV-CART",
        lots,
        cfg.faults,
        fault_ns,
        excursions,
        oos_list(CART_ATTRIBUTES, measured, ok, tested_ns),
    )
    truth = {
        "batches": batch_truth(
            lots,
            {
                "patient": codes,
                "din": din,
                "hospital": hospital,
                "patient_age": pts.age_years,
                "prior_lines": pts.prior_lines,
                "fitness_effect": pts.fitness_effect,
                "receipt_viability": receipt_viability,
                "process_change": changed > 0.5,
                "integrations_per_cell": run.integrations_per_cell,
                "vector_lot_effect": inp["vector_lot_effect"],
                **{f"true_{k}": v for k, v in run.true.items()},
                "in_spec_true": true_ok,
                "released": ok,
            },
        ),
        "outliers": {
            "donors": [
                {
                    "donor": str(codes[i]),
                    "lot": str(lots[i]),
                    "fitness_effect_sd": float(pts.fitness_effect[i] / 0.10),
                }
                for i in np.flatnonzero(np.abs(pts.fitness_effect) > 0.25)
            ],
            "material_lots": plant.outlier_lots([vector, medium]),
            "shipments": _shipment_outliers(legs),
            "equipment": [],
        },
    }
    return SimulationResult(
        tables=tables, processes=processes(cfg.change_at is not None), truth=truth
    )
