"""uvicorn's HTTP protocol with TCP_NODELAY on every connection.

With `--workers N`, uvicorn binds the listening socket itself (`socket.socket(family, type)`, protocol 0)
and hands it to the worker processes; asyncio sets TCP_NODELAY only on sockets whose protocol is TCP, so
the accepted connections kept Nagle's algorithm on. uvicorn writes a response's head and body separately:
the body then waited for the client's delayed ACK, 40 ms a request (22 requests/s on one keep-alive
connection, measured). One worker is unaffected (asyncio binds the socket). This protocol sets the option
itself, whichever way the socket was made.
"""

from __future__ import annotations

import asyncio
import socket

try:  # httptools (uvicorn[standard]) parses faster than h11; either works
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as _Base
except ImportError:  # pragma: no cover - depends on the installed extras
    from uvicorn.protocols.http.h11_impl import H11Protocol as _Base  # type: ignore[assignment]


class NoDelayProtocol(_Base):  # type: ignore[misc,valid-type]
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)
