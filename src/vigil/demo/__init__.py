"""`vigil demo`: a benign store, an evidence folder with known ground truth, a scan and its recall."""

from vigil.demo.run import run_demo

__all__ = ["run_demo"]
