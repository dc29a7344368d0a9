"""Pure analytics: statistics and models with no I/O and no frameworks.

Each subpackage (``spc``, ``mvda``, ``comparability``, ``dose_response``, ...) keeps its
implementation in private modules and exports its public names through ``__all__``.
"""
