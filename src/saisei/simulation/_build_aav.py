"""AAV programme: HEK293 triple transfection, harvest, purification and fill."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from saisei.simulation import _aav as aav_model
from saisei.simulation import _plant as plant
from saisei.simulation._common import (
    RunConfig,
    batch_truth,
    deviations,
    disposition,
    fault_arrays,
    hours_ns,
    oos_list,
)
from saisei.simulation._kinetics import DT_H
from saisei.simulation._process import process_definition, sample_setpoints
from saisei.simulation._qc import AAV_ATTRIBUTES, measure
from saisei.simulation._result import SimulationResult
from saisei.simulation._tables import Block, frame, parameters, qc_results, timeseries, utc

PROCESS = "AAV9-TT"


def processes(with_change: bool) -> list[dict[str, Any]]:
    """Process definitions: 1.0 and, after the affinity-resin change, 2.0."""
    out = [
        process_definition(
            PROCESS,
            "1.0",
            "AAV",
            "AAV9, suspension HEK293 triple transfection, affinity + AEX",
            aav_model.SETPOINTS,
            AAV_ATTRIBUTES,
        )
    ]
    if with_change:
        out.append(
            process_definition(
                PROCESS,
                "2.0",
                "AAV",
                "As 1.0 with the new affinity resin",
                aav_model.SETPOINTS,
                AAV_ATTRIBUTES,
            )
        )
    return out


def build_aav(cfg: RunConfig) -> SimulationResult:
    """Simulate ``cfg.n_batches`` AAV batches."""
    (r_time, r_sp, r_plant, r_proc, r_qc, r_ts) = cfg.streams(6)
    n = cfg.n_batches
    lots = np.array([f"AAV-{cfg.start.year % 100:02d}{i + 1:04d}" for i in range(n)])
    start_ns = cfg.start_ns() + hours_ns(np.arange(n) * 168.0 + r_time.uniform(0, 6, n))
    faults = fault_arrays(cfg.faults, n)
    changed = cfg.changed()
    reactors = plant.equipment(r_plant, "STR", "bioreactor", "Stirred bioreactor 50 L", 2, n, 0.15)
    plasmid = plant.material_lots(
        r_plant,
        "PL-RC9",
        "Rep/Cap9 plasmid",
        "plasmid",
        "Plasmid Co",
        0.06,
        np.ones(n, bool),
        4,
        "RC",
    )
    pei = plant.material_lots(
        r_plant,
        "PEI",
        "PEI transfection reagent",
        "reagent",
        "PEI Co",
        0.05,
        np.ones(n, bool),
        5,
        "PE",
    )
    resin = plant.material_lots(
        r_plant, "AFF9", "AAV9 affinity resin", "other", "Resin Co", 0.03, np.ones(n, bool), 6, "RS"
    )
    inp = {
        **sample_setpoints(aav_model.SETPOINTS, r_sp, n),
        "plasmid_lot_effect": plant.lot_effect(plasmid),
        "pei_lot_effect": plant.lot_effect(pei),
        "resin_lot_effect": plant.lot_effect(resin),
        "temperature_offset": reactors.offsets[reactors.assigned],
        "process_change": changed,
        **{k: v for k, v in faults.items() if k not in ("dock", "freezer_failure")},
    }
    run = aav_model.run_aav(inp, r_proc)
    measured = measure(AAV_ATTRIBUTES, run.true, r_qc)
    true_ok, ok = disposition(AAV_ATTRIBUTES, run.true, measured)
    harvest_ns = start_ns + hours_ns(float(aav_model.PRODUCTION_HOURS))
    fill_ns = harvest_ns + hours_ns(72.0)
    tested_ns = fill_ns + hours_ns(r_time.uniform(5, 10, n) * 24)
    decided_ns = tested_ns + hours_ns(r_time.uniform(1, 4, n) * 24)
    status = np.where(ok, "released", "rejected")
    tables: dict[str, pd.DataFrame] = {
        "parties": plant.PARTIES.copy(),
        "materials": plant.materials_frame([plasmid, pei, resin], cfg.start),
        "equipment": plant.equipment_frame([reactors], cfg.start),
        "batches": frame(
            "batches",
            {
                "lot": lots,
                "product_type": "AAV",
                "process": PROCESS,
                "process_version": np.where(changed > 0.5, "2.0", "1.0"),
                "coi": None,
                "din": None,
                "site": plant.MANUFACTURER,
                "status": status,
                "started_at": utc(start_ns),
                "ended_at": utc(decided_ns),
                "parent_lots": None,
            },
        ),
    }
    rows = [
        (sp.stage, sp.name, sp.unit, np.round(inp[sp.name], 4), start_ns)
        for sp in aav_model.SETPOINTS
    ]
    rows += [
        ("production", "bioreactor", "", np.array(reactors.asset_ids)[reactors.assigned], start_ns),
        ("harvest", "crude_titer", "vg/mL", run.crude_titer_vg_per_ml, harvest_ns),
        (
            "clarification",
            "step_yield",
            "percent",
            np.round(100 * run.step_yields["clarification"], 1),
            harvest_ns,
        ),
        (
            "affinity",
            "step_yield",
            "percent",
            np.round(100 * run.step_yields["affinity"], 1),
            harvest_ns,
        ),
        ("aex", "step_yield", "percent", np.round(100 * run.step_yields["aex"], 1), harvest_ns),
    ]
    tables["parameters"] = parameters(lots, rows, "op.ishii")
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
                    (plasmid, "transfection", 50.0, "mg"),
                    (pei, "transfection", 100.0, "mg"),
                    (resin, "affinity", 1.0, "L"),
                ]
            ],
            ignore_index=True,
        )
        .sort_values(["lot", "stage"], kind="stable")
        .reset_index(drop=True)
    )
    t_on = np.arange(aav_model.N_STEPS) * DT_H
    units = {"temperature": "degC", "pH": "dimensionless", "DO": "percent", "agitation": "rpm"}
    blocks = [
        Block("production", k, units[k], t_on, np.round(v, 3), start_ns)
        for k, v in run.signals.items()
    ]
    t_off = np.append(
        np.arange(aav_model.PRODUCTION_HOURS // 24) * 24.0, float(aav_model.PRODUCTION_HOURS)
    )
    vcd = np.column_stack([run.trace.samples["vcd"], run.trace.final["vcd"]])
    via = np.column_stack([run.trace.samples["viability"], run.trace.final["viability"]])
    blocks += [
        Block(
            "production",
            "viable_cell_density",
            "cell/mL",
            t_off,
            np.round(vcd * np.exp(r_ts.normal(0, 0.06, vcd.shape)), 0),
            start_ns,
        ),
        Block(
            "production",
            "viability",
            "percent",
            t_off,
            np.round(np.clip(via + r_ts.normal(0, 1.0, via.shape), 0, 100), 1),
            start_ns,
        ),
    ]
    tables["timeseries"] = timeseries(lots, blocks)
    tables["qc_results"] = qc_results(
        lots,
        AAV_ATTRIBUTES,
        measured,
        tested_ns,
        r_qc.choice(np.array(["qc.tanaka", "qc.kato"]), n),
    )
    fault_ns = {
        f.batch - 1: int(start_ns[f.batch - 1] + hours_ns(f.onset_h or 0.0)) for f in cfg.faults
    }
    tables["deviations"] = deviations(
        "DEV-AAV", lots, cfg.faults, fault_ns, [], oos_list(AAV_ATTRIBUTES, measured, ok, tested_ns)
    )
    truth = {
        "batches": batch_truth(
            lots,
            {
                "process_change": changed > 0.5,
                "crude_titer_vg_per_ml": run.crude_titer_vg_per_ml,
                "crude_full_fraction": run.crude_full_fraction,
                **{f"true_{k}": v for k, v in run.true.items()},
                "in_spec_true": true_ok,
                "released": ok,
            },
        ),
        "outliers": {
            "donors": [],
            "material_lots": plant.outlier_lots([plasmid, pei, resin]),
            "shipments": [],
            "equipment": [],
        },
    }
    return SimulationResult(
        tables=tables, processes=processes(cfg.change_at is not None), truth=truth
    )
