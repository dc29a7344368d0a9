"""Control charts and capability."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from saisei.api.deps import CurrentUser, StoreDep
from saisei.services import spc

router = APIRouter(prefix="/spc", tags=["spc"])


@router.get("/chart")
def chart(
    store: StoreDep,
    _actor: CurrentUser,
    name: Annotated[str, Query(min_length=1, description="Attribute or parameter.")],
    chart: str = "imr",
    rules: str = "nelson",
    kind: str = "auto",
    product: str | None = None,
    stage: str | None = None,
    subgroup_size: Annotated[int, Query(ge=2, le=25)] = 5,
    exclude_out_of_control: bool = False,
) -> dict[str, Any]:
    """Phase I control chart of a stored attribute or parameter across lots, with every
    rule violation."""
    return spc.spc_chart(
        store,
        name,
        chart=chart,
        rules=rules,
        kind=kind,
        product=product,
        stage=stage,
        subgroup_size=subgroup_size,
        exclude_out_of_control=exclude_out_of_control,
    ).to_dict()


@router.get("/capability")
def capability(
    store: StoreDep,
    _actor: CurrentUser,
    name: Annotated[str, Query(min_length=1)],
    lsl: float | None = None,
    usl: float | None = None,
    kind: str = "auto",
    product: str | None = None,
    stage: str | None = None,
) -> dict[str, Any]:
    """Cp, Cpk, Pp, Ppk with intervals against the stored or given specification."""
    return spc.spc_capability(
        store, name, lsl=lsl, usl=usl, kind=kind, product=product, stage=stage
    ).to_dict()
