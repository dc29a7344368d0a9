"""Reports: Plotly figures built from analytics result objects, and HTML pages rendered from them.

A layer at the level of ``storage`` (see ``docs/architecture.md``): it may import
``saisei.domain``, ``saisei.analytics``, ``saisei.errors``, plotly and jinja2, never storage,
services or any interface. Services gather the data and call these builders; the web pages
reuse the same figure functions, so a chart looks the same everywhere.

Modules
-------
figures
    Plotly figure builders (``comparability_figures`` and one function per chart).
render
    Self-contained HTML reports (plotly.js inline, or served from a local file; never a CDN).
"""
