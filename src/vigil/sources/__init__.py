"""Evidence containers: archives, disk images. See `vigil.sources.base` for the interface."""

from vigil.sources.base import Container, ContainerError, Entry, LimitExceeded, Limits, Member, Problem

__all__ = ["Container", "ContainerError", "Entry", "LimitExceeded", "Limits", "Member", "Problem"]
