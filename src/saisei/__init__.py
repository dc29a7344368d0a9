"""saisei: manufacturing data platform for cell and gene therapy products.

The library is organised in layers (see ``docs/architecture.md``): pure ``domain``,
``analytics`` and ``simulation`` code at the bottom, ``storage`` and ``ingestion`` above, use
cases in ``services``, and the ``cli``, ``api`` and ``web`` edges on top.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("saisei")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"

__all__ = ["__version__"]
