"""Scan reports: report.csv and report.html, derived from items.jsonl and summary.json in a scan's --out."""

from vigil.report.csvreport import write_report_csv
from vigil.report.html import write_report_html
from vigil.report.thumbs import make_thumbnail
from vigil.report.write import write_reports

__all__ = ["make_thumbnail", "write_report_csv", "write_report_html", "write_reports"]
