"""Entry points: simulate one product, or the default demonstration programme."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from saisei.errors import ValidationFailed
from saisei.simulation._awaiting import hold_newest_lots
from saisei.simulation._build_aav import build_aav
from saisei.simulation._build_cart import build_cart
from saisei.simulation._build_msc import build_msc
from saisei.simulation._common import DEFAULT_START, RunConfig
from saisei.simulation._faults import parse_faults
from saisei.simulation._result import SimulationResult, combine
from saisei.simulation._truth import (
    design_space_grid,
    factor_effects,
    process_change_shift,
    specifications,
)

PRODUCTS = ("msc", "cart", "aav")
MAX_BATCHES = 5000
_BUILDERS = {"msc": build_msc, "cart": build_cart, "aav": build_aav}
_CHANGES = {
    "msc": "expansion medium from supplier A to supplier B (process 2.0)",
    "cart": "lentiviral vector made by the new vector process (process 2.0)",
    "aav": "new affinity resin (process 2.0)",
}
_NOT_FOR_AAV = ("shipment_room_temperature", "freezer_failure")

Progress = Callable[[str, float], None]


def _validate(product: str, n_batches: int, process_change_at: int | None) -> None:
    if product not in PRODUCTS:
        raise ValidationFailed(
            f"The product must be one of {', '.join(PRODUCTS)}. Got {product!r}."
        )
    if (
        isinstance(n_batches, bool)
        or not isinstance(n_batches, int)
        or not (1 <= n_batches <= MAX_BATCHES)
    ):
        raise ValidationFailed(
            f"The number of batches must be an integer in 1..{MAX_BATCHES}. Got {n_batches!r}."
        )
    if process_change_at is not None and not 2 <= process_change_at <= n_batches:
        raise ValidationFailed(
            f"--process-change-at must be a batch in 2..{n_batches} (batch 1 sets the "
            f"baseline). Got {process_change_at}."
        )


def simulate(
    product: str,
    n_batches: int,
    seed: int,
    *,
    process_change_at: int | None = None,
    faults: str | None = None,
    start: datetime = DEFAULT_START,
    design_space_points: int = 4,
    progress: Progress | None = None,
) -> SimulationResult:
    """Simulate ``n_batches`` batches of ``product`` with their chain and ground truth.

    Parameters
    ----------
    product : {'msc', 'cart', 'aav'}
    n_batches : int
        Batches, 1..5000.
    seed : int
        Same seed, same output.
    process_change_at : int, optional
        1-based batch from which the product's process change applies.
    faults : str, optional
        Fault specification, e.g. ``"contamination@12:96,freezer_failure@30"`` (see
        :func:`saisei.simulation.parse_faults`).
    start : datetime
        Timezone-aware start of the first batch.
    design_space_points : int
        Grid points per axis of the design-space table in the truth (0 to leave it out).
    progress : callable, optional
        Called as ``progress(phase, fraction_done)``.

    Returns
    -------
    SimulationResult
    """
    _validate(product, n_batches, process_change_at)
    if start.tzinfo is None:
        raise ValidationFailed(
            f"The start must be timezone-aware (UTC). Got {start!r}; attach tzinfo=UTC."
        )
    parsed = parse_faults(faults, n_batches)
    if product == "aav":
        bad = [f.kind for f in parsed if f.kind in _NOT_FOR_AAV]
        if bad:
            raise ValidationFailed(
                f"The AAV process has no inbound shipment and no controlled-rate freezer, so "
                f"faults {', '.join(bad)} cannot be injected. Use temperature_drift, ph_drift, "
                "do_loss or contamination."
            )
    report = progress or (lambda phase, done: None)
    report("simulating batches", 0.0)
    cfg = RunConfig(product, n_batches, seed, start, process_change_at, parsed)
    result = _BUILDERS[product](cfg)
    report("computing ground truth", 0.7)
    truth = _product_truth(product, cfg, result, design_space_points)
    report("done", 1.0)
    return SimulationResult(tables=result.tables, processes=result.processes, truth=truth)


def _product_truth(
    product: str, cfg: RunConfig, result: SimulationResult, design_space_points: int
) -> dict[str, Any]:
    change = None
    if cfg.change_at is not None:
        change = {
            "product": product,
            "from_batch": cfg.change_at,
            "description": _CHANGES[product],
            "shifts": process_change_shift(product),
        }
    truth: dict[str, Any] = {
        "products": [product],
        "seed": cfg.seed,
        "n_batches": {product: cfg.n_batches},
        "specifications": {product: specifications(product)},
        "factor_effects": {product: factor_effects(product)},
        "design_space": (
            {product: design_space_grid(product, points=design_space_points, seed=cfg.seed)}
            if design_space_points > 0
            else {}
        ),
        "process_changes": [change] if change else [],
        "faults": [
            {**f.to_dict(), "product": product, "lot": result.truth["batches"][f.batch - 1]["lot"]}
            for f in cfg.faults
        ],
        "outliers": {product: result.truth["outliers"]},
        "batches": {product: result.truth["batches"]},
        "notes": (
            "Effects are finite differences of the noise-free mechanism at the targets "
            "with typical covariates; probabilities use true values (no assay error)."
        ),
    }
    return truth


#: The demonstration programmes: product, batches, process change at, faults.
#: ``full`` is the demonstration plant; ``small`` keeps its shape (every product, a process
#: change, faults, lots awaiting disposition, one broken chain, a held lot out of
#: specification) at a size that builds in seconds, for tests and quick looks.
PROGRAMMES: dict[str, list[tuple[str, int, int | None, str]]] = {
    "full": [
        (
            "msc",
            150,
            100,
            "shipment_room_temperature@23,temperature_drift@57:120,"
            "contamination@88:200,freezer_failure@131",
        ),
        ("cart", 40, None, "do_loss@12:72,freezer_failure@27"),
        ("aav", 20, None, "ph_drift@8:24"),
    ],
    "small": [
        ("msc", 8, 4, "shipment_room_temperature@2,temperature_drift@3:120"),
        # the DO loss hits a lot that is held back, so one awaiting lot is out of specification
        ("cart", 5, None, "freezer_failure@2,do_loss@4:72"),
        ("aav", 4, None, "ph_drift@2:24"),
    ],
}


def default_programme(
    seed: int = 0, *, size: str = "full", progress: Progress | None = None
) -> SimulationResult:
    """The demonstration programme: 3 hospitals, 1 intermediary, 1 manufacturer; 150 MSC
    batches with a medium change at batch 100, 40 CAR-T and 20 AAV batches, a few faults and
    transport excursions (``size="full"``). One combined result.

    The newest three lots of each product await disposition: in quarantine, tested by QC,
    with their chain of custody up to storage; the newest MSC lot's chain misses a hand-over
    (:func:`saisei.simulation._awaiting.hold_newest_lots`; ground truth keys
    ``awaiting_disposition`` and ``custody_faults``).

    Parameters
    ----------
    seed : int
        Random seed; the same seed gives the same programme.
    size : {"full", "small"}
        ``full``: the programme above. ``small``: 8 MSC batches (medium change at batch 4),
        5 CAR-T and 4 AAV batches with the same kinds of faults, the same lots awaiting
        disposition and the same broken chain, and a held CAR-T lot out of specification.
    progress : callable, optional
        Called as ``progress(phase, fraction_done)``.
    """
    if size not in PROGRAMMES:
        raise ValidationFailed(
            f"The programme size must be one of {', '.join(PROGRAMMES)}. Got {size!r}."
        )
    report = progress or (lambda phase, done: None)
    plan = PROGRAMMES[size]
    results = []
    for k, (product, n, change, faults) in enumerate(plan):
        report(f"simulating {product}", k / len(plan))
        results.append(simulate(product, n, seed, process_change_at=change, faults=faults))
    truth: dict[str, Any] = {
        "products": [],
        "seed": seed,
        "n_batches": {},
        "specifications": {},
        "factor_effects": {},
        "design_space": {},
        "process_changes": [],
        "faults": [],
        "outliers": {},
        "batches": {},
        "notes": results[0].truth["notes"],
    }
    for r in results:
        for key in (
            "n_batches",
            "specifications",
            "factor_effects",
            "design_space",
            "outliers",
            "batches",
        ):
            truth[key].update(r.truth[key])
        truth["products"] += r.truth["products"]
        truth["process_changes"] += r.truth["process_changes"]
        truth["faults"] += r.truth["faults"]
    report("done", 1.0)
    return hold_newest_lots(combine(results, truth))
