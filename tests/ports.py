"""Ports for the test servers without a race: a socket is bound first, on port 0, the port
the kernel chose is read back from it, and the server then serves on that very socket
(Python servers take it as it is, child processes inherit its file descriptor).

Picking a free port, closing it and binding it again later leaves a gap in which another
process on the machine (other tests run beside these) can take it.
"""

from __future__ import annotations

import socket

from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

HOST = "127.0.0.1"


def refusing_socket(port: int = 0) -> socket.socket:
    """A socket bound but not listening: connections to its port are refused at once, and
    nothing else can take the port while it is held. For a server that is "down".

    SO_REUSEPORT and not SO_REUSEADDR: another server (which sets SO_REUSEADDR, as they
    all do) cannot bind beside it, while our own next socket on the port can.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((HOST, port))
    return sock


def listening_socket(port: int = 0) -> socket.socket:
    """A socket listening on 127.0.0.1, which can take the port over from a placeholder."""
    sock = refusing_socket(port)
    sock.listen(128)
    return sock


def port_of(sock: socket.socket) -> int:
    port: int = sock.getsockname()[1]
    return port


class HeldPort:
    """A port held from the moment it is chosen: refusing connections until ``listen``.

    A service's URL (an OIDC redirect URI, an issuer, a public URL) can name it before
    the server exists; ``socket`` is what the server then serves on.
    """

    def __init__(self) -> None:
        self.socket = refusing_socket()
        self.number = port_of(self.socket)
        _HELD[self.number] = self

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.number}"

    def listen(self) -> socket.socket:
        self.socket.listen(128)
        return self.socket

    def down(self) -> None:
        """Back to refusing connections, once the server on it has stopped: a fresh bound
        socket takes the port over (SO_REUSEPORT) before the listening one is closed."""
        placeholder = refusing_socket(self.number)
        self.socket.close()
        self.socket = placeholder

    def close(self) -> None:
        _HELD.pop(self.number, None)
        self.socket.close()


_HELD: dict[int, HeldPort] = {}


def held(number: int) -> HeldPort:
    """The held port of that number; a port that was not reserved here is a test's bug."""
    try:
        return _HELD[number]
    except KeyError:
        raise AssertionError(f"port {number} was not reserved with HeldPort()") from None


def reserve_port() -> int:
    """A held port's number, for code that passes ports around; ``held`` finds it again."""
    return HeldPort().number


def wsgi_server(app: Flask, port: int) -> BaseWSGIServer:
    """werkzeug's threaded server on the held port's socket (it serves a duplicate, so the
    port stays held after the server closes)."""
    return make_server(HOST, port, app, threaded=True, fd=held(port).listen().fileno())
