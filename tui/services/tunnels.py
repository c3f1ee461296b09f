"""Reaching the apps of a Docker engine on another machine (THESIS_DOCKER_HOST=ssh://…).

An app publishes its ports on its engine's machine's loopback only (containers.py): a
generated app is untrusted and never offered to the lab's network. So the apps of a remote
engine are out of this machine's reach, unless through the SSH connection the Docker client
already holds: for each port an analysis needs, a listener here on 127.0.0.1 (a free port)
whose every connection is a `direct-tcpip` channel to 127.0.0.1:<port> there — what
`ssh -L` does. Analyses, probes and load tests talk to the local end: loopback, as always.

A tunnel lives as long as the process's container service (a worker's run, a TUI); its
threads are daemons. Nothing here imports paramiko: the channels come from the transport
the Docker SDK opened (`transport_of`).
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading
from collections.abc import Callable
from typing import Any

from tui.errors import ContainerError

CHUNK = 64 * 1024
OPEN_TIMEOUT = 10.0
"""Seconds to wait for the far end to accept a channel."""


class Tunnels:
    """Local ends of forwards to the remote engine's loopback, one per remote port."""

    def __init__(self, transport_of: Callable[[], Any], where: str) -> None:
        self._transport_of = transport_of
        """The live paramiko Transport to the engine's machine (reconnected if need be)."""
        self.where = where
        """The engine's address, for messages."""
        self._forwards: dict[int, _Forward] = {}
        self._lock = threading.Lock()

    def local_port(self, port: int) -> int:
        """The port on this machine's 127.0.0.1 that reaches 127.0.0.1:`port` there."""
        with self._lock:
            forward = self._forwards.get(port)
            if forward is None or forward.closed:
                forward = _Forward(self, port)
                self._forwards[port] = forward
            return forward.local_port

    def open_channel(self, port: int, peer: tuple[str, int]) -> Any:
        transport = self._transport_of()
        try:
            return transport.open_channel(
                "direct-tcpip", ("127.0.0.1", port), peer, timeout=OPEN_TIMEOUT
            )
        except Exception as exc:  # paramiko's ChannelException, SSHException, EOFError
            raise ContainerError(
                f"Could not reach 127.0.0.1:{port} on the engine's machine through "
                f"{self.where}: {exc or type(exc).__name__}"
            ) from None

    def close(self) -> None:
        with self._lock:
            forwards, self._forwards = list(self._forwards.values()), {}
        for forward in forwards:
            forward.close()


class _Forward:
    """A listener on 127.0.0.1 here; each connection pumped to a channel there."""

    def __init__(self, tunnels: Tunnels, port: int) -> None:
        self.tunnels = tunnels
        self.port = port
        self.closed = False
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self.local_port = int(self._listener.getsockname()[1])
        threading.Thread(
            target=self._accept, name=f"tunnel-{port}", daemon=True
        ).start()  # fmt: skip

    def _accept(self) -> None:
        while not self.closed:
            try:
                connection, peer = self._listener.accept()
            except OSError:  # closed
                return
            threading.Thread(
                target=self._serve, args=(connection, peer), name=f"tunnel-{self.port}-conn",
                daemon=True,
            ).start()  # fmt: skip

    def _serve(self, connection: socket.socket, peer: tuple[str, int]) -> None:
        with contextlib.closing(connection):
            try:
                channel = self.tunnels.open_channel(self.port, peer)
            except ContainerError:
                return  # the client sees its connection closed: refused, as a port not open
            with contextlib.closing(channel), contextlib.suppress(Exception):
                # Either end gone (the app stopped, the SSH connection dropped: paramiko's
                # own errors): this connection ends, as a reset one would, and no more.
                _pump(connection, channel)

    def close(self) -> None:
        self.closed = True
        with contextlib.suppress(OSError):
            self._listener.close()


def _pump(connection: socket.socket, channel: Any) -> None:
    """Copy both ways until either side closes."""
    while True:
        readable, _, _ = select.select([connection, channel], [], [], 60)
        if connection in readable:
            data = connection.recv(CHUNK)
            if not data:
                return
            channel.sendall(data)
        if channel in readable:
            data = channel.recv(CHUNK)
            if not data:
                return
            connection.sendall(data)
