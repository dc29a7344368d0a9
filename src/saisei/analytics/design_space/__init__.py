"""Bayesian design space (Peterson 2008): response-surface models of several CQAs fitted
jointly, the posterior predictive probability that all meet their specifications, the design
space at a reliability over a grid, the largest operable box inside it, and proven acceptable
ranges. Pure: numpy, scipy, pandas.
"""

from saisei.analytics.design_space._bayes import METHODS, BayesianDesignSpace
from saisei.analytics.design_space._region import DesignSpaceRegion, largest_box
from saisei.analytics.design_space._terms import TERMS, term_names

__all__ = [
    "METHODS",
    "TERMS",
    "BayesianDesignSpace",
    "DesignSpaceRegion",
    "largest_box",
    "term_names",
]
