"""vigil: known-abuse-image hash database, evidence triage and exchange."""

__version__ = "0.1.0"
