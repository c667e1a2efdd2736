"""Scan reports: report.csv and report.html, derived from items.jsonl and summary.json."""

from vigil.report.csvreport import write_report_csv
from vigil.report.html import write_report_html

__all__ = ["write_report_csv", "write_report_html"]
