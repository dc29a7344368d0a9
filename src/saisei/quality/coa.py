"""Certificate of analysis of a lot, as a self-contained HTML page (PDF later).

Built with a plain string template and :func:`html.escape` on every value (no template engine
needed). It shows each release result against its specification, whether the result changed
since original entry, open or closed deviations, and the disposition signatures with printed
name, UTC time, meaning and whether each is still valid. A lot that is not released carries a
"not released" banner.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from html import escape
from string import Template

from saisei.domain.enums import BatchStatus
from saisei.quality.access import utc_now
from saisei.quality.deviations import list_deviations
from saisei.quality.disposition import disposition_of
from saisei.quality.specs import list_qc_results
from saisei.storage.repositories import batches as batch_repo
from saisei.storage.store import Store

__all__ = ["CertificateOfAnalysis", "certificate_of_analysis"]

_PAGE = Template("""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Certificate of analysis - lot $lot</title>
<style>
body { font-family: sans-serif; margin: 2em; }
table { border-collapse: collapse; margin-bottom: 1.5em; }
th, td { border: 1px solid #888; padding: 0.3em 0.6em; text-align: left; }
.banner { background: #c00; color: #fff; padding: 0.5em; font-weight: bold; }
.invalid { color: #c00; font-weight: bold; }
</style>
</head>
<body>
<h1>Certificate of analysis</h1>
$banner
<table>
<tr><th>Lot</th><td>$lot</td></tr>
<tr><th>Product</th><td>$product</td></tr>
<tr><th>Process</th><td>$process</td></tr>
<tr><th>Status</th><td>$status</td></tr>
<tr><th>Generated (UTC)</th><td>$generated</td></tr>
</table>
<h2>Results</h2>
<table>
<tr><th>Test</th><th>Specification</th><th>Result</th><th>Unit</th><th>Outcome</th>
<th>Status</th><th>Changed since entry</th></tr>
$results
</table>
<h2>Deviations</h2>
$deviations
<h2>Disposition</h2>
$signatures
</body>
</html>
""")


@dataclass(frozen=True)
class CertificateOfAnalysis:
    """The rendered certificate and what it says about the lot."""

    lot: str
    released: bool
    html: str


def _cell(value: object) -> str:
    return f"<td>{escape('' if value is None else str(value))}</td>"


def certificate_of_analysis(
    store: Store, lot: str, *, now: datetime | None = None
) -> CertificateOfAnalysis:
    """The certificate of analysis of ``lot`` as HTML (release results only)."""
    with store.reader() as session:
        batch = batch_repo.get_batch(session, lot)
        process = f"{batch.process.name} {batch.process.version}" if batch.process else "-"
        product, status = batch.product_type.value, batch.status
    results = [r for r in list_qc_results(store, lot) if r.purpose == "release"]
    rows = "\n".join(
        "<tr>"
        + "".join(
            _cell(v)
            for v in (
                r.attribute,
                r.specification or "no specification",
                r.value_text if r.value is None else f"{r.value:g}",
                r.unit,
                r.outcome,
                r.status + (f" ({r.invalidation_reason})" if r.invalidation_reason else ""),
                "yes" if r.changed_since_entry else "no",
            )
        )
        + "</tr>"
        for r in results
    )
    deviations = list_deviations(store, lot=lot)
    deviation_html = (
        "<ul>"
        + "".join(
            f"<li>{escape(d.number)} ({escape(d.category)}, {escape(d.severity)}): "
            f"{escape(d.status)} - {escape(d.description)}</li>"
            for d in deviations
        )
        + "</ul>"
        if deviations
        else "<p>None recorded.</p>"
    )
    signatures = disposition_of(store, lot).signatures
    signature_html = (
        "<ul>"
        + "".join(
            ("<li>" if s.valid else '<li class="invalid">') + f"{escape(s.line())}</li>"
            for s in signatures
        )
        + "</ul>"
        if signatures
        else "<p>Not signed.</p>"
    )
    released = status == BatchStatus.RELEASED and all(s.valid for s in signatures)
    banner = (
        ""
        if released
        else '<p class="banner">NOT RELEASED - for information only; not valid for shipment.</p>'
    )
    page = _PAGE.substitute(
        lot=escape(lot),
        product=escape(product),
        process=escape(process),
        status=escape(status.value),
        generated=escape(utc_now(now).strftime("%Y-%m-%d %H:%M:%S")),
        banner=banner,
        results=rows or '<tr><td colspan="7">No release results.</td></tr>',
        deviations=deviation_html,
        signatures=signature_html,
    )
    return CertificateOfAnalysis(lot=lot, released=released, html=page)
