"""Monthly and annual reports for environment staff: per sensor and for the network, as HTML
with inline charts, CSV and PDF (docs/staff.md, "Reports")."""

from noiselab.reports.content import Report, build_report
from noiselab.reports.csv_rows import render_csv
from noiselab.reports.html import render_html
from noiselab.reports.pdf import PdfUnavailable, html_to_pdf
from noiselab.reports.period import ReportPeriod, parse_period

__all__ = [
    "PdfUnavailable",
    "Report",
    "ReportPeriod",
    "build_report",
    "html_to_pdf",
    "parse_period",
    "render_csv",
    "render_html",
]
