"""Signal registry: every hash type by its stable name.

Plug-ins (e.g. a licensed PhotoDNA implementation) call `register()`; nothing else in vigil needs to change.
"""

from __future__ import annotations

from vigil.signals.base import HashResult, ImageSignal, Signal, StreamSignal
from vigil.signals.crypto import MD5Signal, SHA1Signal, SHA256Signal
from vigil.signals.pdq import PDQSignal
from vigil.signals.vpdq import VPDQSignal

_REGISTRY: dict[str, Signal] = {}


def register(signal: Signal) -> None:
    if signal.name in _REGISTRY and type(_REGISTRY[signal.name]) is not type(signal):
        raise ValueError(f"a different signal is already registered as {signal.name!r}")
    _REGISTRY[signal.name] = signal


def get(name: str) -> Signal:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown signal {name!r} (known: {', '.join(_REGISTRY)})") from None


def names() -> list[str]:
    return list(_REGISTRY)


def all_signals() -> list[Signal]:
    return list(_REGISTRY.values())


def stream_signals() -> list[StreamSignal]:
    return [s for s in _REGISTRY.values() if isinstance(s, StreamSignal)]


def image_signals() -> list[ImageSignal]:
    return [s for s in _REGISTRY.values() if isinstance(s, ImageSignal)]


def video_signals() -> list[VPDQSignal]:
    return [s for s in _REGISTRY.values() if isinstance(s, VPDQSignal)]


for _signal in (MD5Signal(), SHA1Signal(), SHA256Signal(), PDQSignal(), VPDQSignal()):
    register(_signal)

__all__ = [
    "HashResult",
    "ImageSignal",
    "Signal",
    "StreamSignal",
    "all_signals",
    "get",
    "image_signals",
    "names",
    "register",
    "stream_signals",
    "video_signals",
]
