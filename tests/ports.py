"""Ports for the test servers without a race: the socket is bound first, on port 0, and the
port the kernel chose is read back from it; the server then serves on that very socket.

Picking a free port, closing it and binding it again later leaves a gap in which another
process on the machine (other tests run beside these) can take it.
"""

from __future__ import annotations

import socket

HOST = "127.0.0.1"


def listening_socket(port: int = 0, *, share: bool = False) -> socket.socket:
    """A socket listening on 127.0.0.1; ``share`` lets a placeholder hold the port meanwhile
    (SO_REUSEPORT, see ``refusing_socket``)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if share:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((HOST, port))
    sock.listen(128)
    return sock


def refusing_socket(port: int = 0) -> socket.socket:
    """A socket bound but not listening: connections to its port are refused at once, and
    nothing else can take the port while it is held. For a server that is "down"."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((HOST, port))
    return sock


def port_of(sock: socket.socket) -> int:
    port: int = sock.getsockname()[1]
    return port
