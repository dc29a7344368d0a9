"""Design of experiments for process characterisation: full and fractional factorial (with
resolution and generators), central composite, Box-Behnken (all from pyDOE3), D-optimal for
constrained regions (pyDOE3's exchange algorithm over a constrained candidate set);
randomised run sheets with blocks and centre points; effects and ANOVA.
"""

from saisei.analytics.doe._analysis import EffectsResult, analyse_effects
from saisei.analytics.doe._designs import (
    CCD_FACES,
    DESIGNS,
    DoeDesign,
    Factor,
    coded_design,
    factors_from,
    make_design,
)

__all__ = [
    "CCD_FACES",
    "DESIGNS",
    "DoeDesign",
    "EffectsResult",
    "Factor",
    "analyse_effects",
    "coded_design",
    "factors_from",
    "make_design",
]
