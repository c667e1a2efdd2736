"""The scan pipeline: sources -> items -> hashing -> matching -> journal -> reports."""

from vigil.scan.runner import ScanOptions, run_scan

__all__ = ["ScanOptions", "run_scan"]
