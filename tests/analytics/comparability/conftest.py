"""Fixtures for the comparability tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

REFERENCE = Path(__file__).resolve().parents[2] / "reference" / "comparability"


@pytest.fixture(scope="session")
def clinic() -> pd.DataFrame:
    """The `clinic` data of R package equivalence (see tests/reference/comparability/README)."""
    return pd.read_csv(REFERENCE / "clinic.csv")


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20240607)
