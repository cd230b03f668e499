"""Links: request/reply connections between the shards of one fit, over TCP sockets (TLS on a TLS cluster).

Why not Dask actor calls: an actor call from one worker to another passes through both workers'
event loops and the callee's actor thread, ~2 ms per round trip on a 2-core machine, against
~0.03 ms for a socket between the same processes; a fit makes one or two per tree level.

- ``Server``: listens on a free port of the given host, accepts a fixed number of connections that
  open with its random ``token`` (handed to callers through Dask, so only the fit's own shards get
  to send it pickles) and serves each in a daemon thread, one request at a time: (method, args) ->
  ``getattr(target, method)(*args)`` -> ("ok", result) or ("error", exception, traceback text).
  Once every connection has closed it calls ``on_close()``.
- ``Link``: the caller's end of one connection, one call in flight at a time. ``call`` returns a
  ``Reply`` whose ``result(timeout)`` raises ``TimeoutError`` when the reply has not fully arrived
  in time (what arrived is kept for the next try), re-raises the callee's exception, and raises
  RuntimeError naming the peer at once when the connection closes.

Security follows the Dask cluster's (``tls_contexts``): on a TLS cluster both ends wrap their sockets
with the contexts of the workers' ``distributed.security.Security`` (the same certificates; each end
must present one the cluster's CA signed), then the caller sends the token inside TLS; on plain TCP
the token alone admits a caller. Either way the server reads no frame, so unpickles nothing, before
the peer has passed both checks.

Frame: ``<u64 n_parts> <u64 length> * n_parts`` then the parts: a protocol-5 pickle (Dask's
``pickle``, which falls back to cloudpickle for functions defined in ``__main__``) and its
out-of-band buffers, so numpy arrays are sent from and received into their own memory, not copied
into the pickle. Threads run in a copy of the starting thread's context (a Dask worker's context,
so ``get_worker``/``get_client`` keep working in served calls).
"""
import contextvars
import hmac
import secrets
import selectors
import socket
import ssl
import struct
import threading
import time
import traceback

import numpy as np
from distributed.protocol import pickle

_U64 = struct.Struct("<Q")
_MAX_SLICES = 512  # buffers per sendmsg call, below every platform's IOV_MAX
TOKEN_BYTES = 16
_TOKEN_TIMEOUT_S = 10.0
_TLS_SEND_BYTES = 1 << 20  # an SSL socket has no sendmsg: one slice per send, at most this long
# a non-blocking socket that cannot go on now: plain TCP raises BlockingIOError; TLS raises these
# (a TLS record may need to read before it can write, or the reverse)
_WOULD_BLOCK = (BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError)


def tls_contexts(security, address):
    """(server SSL context, client SSL context) for links between the workers of a cluster with
    ``security`` (a ``distributed.security.Security``), one of whose workers listens at ``address``;
    (None, None) when that address is not TLS (links then rely on their token alone)."""
    if not str(address).startswith("tls://"):
        return None, None
    return (security.get_listen_args("worker")["ssl_context"],
            security.get_connection_args("worker")["ssl_context"])


class RemoteTraceback(Exception):
    """The callee's traceback, attached as the cause of a re-raised remote exception."""


def start_thread(function, *args, name):
    """Run ``function(*args)`` in a daemon thread within a copy of the current context."""
    thread = threading.Thread(target=contextvars.copy_context().run, args=(function, *args), name=name,
                              daemon=True)
    thread.start()
    return thread


def _connected(sock):
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # small frames leave at once
    return sock


class _FrameWriter:
    """The byte slices of one frame still to be sent."""

    def __init__(self, message):
        buffers = []
        head = pickle.dumps(message, buffer_callback=buffers.append)
        parts = [memoryview(head)] + [b.raw() for b in buffers]
        prefix = struct.pack(f"<{len(parts) + 1}Q", len(parts), *(p.nbytes for p in parts))
        self._views = [v for v in [memoryview(prefix)] + parts if v.nbytes]

    def send(self, sock):
        """Send what ``sock`` takes (all of it when blocking); True once the frame is sent."""
        tls = isinstance(sock, ssl.SSLSocket)
        while self._views:
            # a would-block error when full; a TLS send is retried with the same slice, as OpenSSL needs
            sent = sock.send(self._views[0][:_TLS_SEND_BYTES]) if tls else sock.sendmsg(self._views[:_MAX_SLICES])
            while sent:
                first = self._views[0].nbytes
                if sent < first:
                    self._views[0], sent = self._views[0][sent:], 0
                else:
                    self._views.pop(0)
                    sent -= first
        return True


class _FrameReader:
    """Receives one frame into buffers sized from its prefix; ``message`` once complete."""

    def __init__(self):
        self._buffers = self._frame_buffers()
        self._view, self._filled = memoryview(next(self._buffers)), 0

    def _frame_buffers(self):
        """The buffers one frame fills, in arrival order; unpickles after the last."""
        count = bytearray(_U64.size)
        yield count
        lengths = bytearray(_U64.size * _U64.unpack(count)[0])
        yield lengths
        # one allocation per part keeps every array's memory aligned; numpy's is not zero-filled first
        # (a bytearray is: ~0.2 ms of a 2-worker level's 4 MB histogram reply)
        parts = [np.empty(n, dtype=np.uint8) for n in struct.unpack(f"<{len(lengths) // _U64.size}Q", lengths)]
        yield from (p for p in parts if p.size)
        self.message = pickle.loads(parts[0], buffers=parts[1:])

    def receive(self, sock):
        """Read what ``sock`` has (until complete when blocking); True once the frame is in
        (also when it completed in an earlier call)."""
        while self._view is not None:
            got = sock.recv_into(self._view[self._filled:])  # a would-block error when empty
            if not got:
                raise ConnectionResetError("connection closed by the peer")
            self._filled += got
            if self._filled == self._view.nbytes:
                following = next(self._buffers, None)
                self._view, self._filled = None if following is None else memoryview(following), 0
        return True


class Server:
    """Serves requests on ``target`` from ``n_connections`` connections to a free port of ``host``.

    Parameters
    ----------
    target : object whose methods are called; host : interface to listen on (a worker's host);
    n_connections : connections (with the right token) to accept, after which the listening
    socket closes; on_close : called once every accepted connection has closed (or fewer
    connected within ``accept_timeout`` seconds and those closed); name : prefix of the threads'
    names; ssl_context : server-side context (``tls_contexts``) or None for plain TCP. The long
    default timeout covers set-up calls queued behind other fits' long ones.
    """

    def __init__(self, target, host, n_connections, on_close=None, accept_timeout=600.0, name="link",
                 ssl_context=None):
        self._target, self._on_close, self._name, self._ssl = target, on_close, name, ssl_context
        self._listener = socket.create_server((host, 0), family=socket.AF_INET6 if ":" in host else socket.AF_INET)
        self._listener.settimeout(accept_timeout)
        self.address = self._listener.getsockname()[:2]
        self.token = secrets.token_bytes(TOKEN_BYTES)
        start_thread(self._accept, n_connections, name=f"{name}-accept")

    def _accept(self, n_connections):
        served = []
        try:
            while len(served) < n_connections:
                conn, _ = self._listener.accept()
                conn.settimeout(_TOKEN_TIMEOUT_S)  # a silent caller must not hold up the others
                try:  # the TLS handshake (a certificate of the cluster's CA) comes before the token
                    conn = conn if self._ssl is None else self._ssl.wrap_socket(conn, server_side=True)
                    token = _receive_exactly(conn, TOKEN_BYTES)
                except OSError:  # ssl.SSLError included: no valid certificate
                    token = b""
                if not hmac.compare_digest(token, self.token):
                    conn.close()
                    continue
                conn.settimeout(None)
                served.append(start_thread(self._serve, _connected(conn), name=f"{self._name}-serve-{len(served)}"))
        except OSError:  # accept timed out: the callers gave up before connecting
            pass
        finally:
            self._listener.close()
        for thread in served:
            thread.join()
        on_close, self._on_close, self._target = self._on_close, None, None
        if on_close is not None:
            on_close()

    def _serve(self, conn):
        with conn:
            while True:
                try:
                    reader = _FrameReader()
                    reader.receive(conn)
                except OSError:  # the caller closed the link (or died)
                    return
                method, args = reader.message
                try:
                    reply = _FrameWriter(("ok", getattr(self._target, method)(*args)))
                except BaseException as exc:  # handed to the caller
                    reply = _error_frame(exc)
                try:
                    reply.send(conn)
                except OSError:
                    return


def _receive_exactly(sock, n):
    data = bytearray()
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionResetError("connection closed by the peer")
        data += chunk
    return bytes(data)


def _error_frame(exc):
    """("error", exc, traceback text); a RuntimeError carrying exc's text when exc cannot be pickled."""
    text = "".join(traceback.format_exception(exc))
    try:
        return _FrameWriter(("error", exc, text))
    except Exception:
        return _FrameWriter(("error", RuntimeError(f"{type(exc).__name__}: {exc}"), text))


class Link:
    """The calling end of a connection to a ``Server`` at ``address`` (host, port) that expects
    ``token``; ``peer`` names the other end in errors (a worker address); ssl_context : the
    client-side context (``tls_contexts``) when the server's has one, else None."""

    def __init__(self, address, token, peer, connect_timeout=30.0, ssl_context=None):
        self.peer = peer
        sock = _connected(socket.create_connection(tuple(address), timeout=connect_timeout))
        # certificates are checked against the cluster's CA, not host names (as Dask's own TLS comms do)
        self._sock = sock if ssl_context is None else ssl_context.wrap_socket(sock)
        self._sock.sendall(token)
        self._sock.setblocking(False)  # waits happen in the selector, with the caller's deadline
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._sock, selectors.EVENT_READ)
        self._method, self._writer, self._reader, self._want_write = None, None, None, False

    def call(self, method, *args):
        """Send ``method(*args)`` (as much as the socket takes now; the rest while waiting) and
        return its ``Reply``."""
        if self._reader is not None:
            raise RuntimeError(f"link to worker {self.peer}: {self._method!r} is still in flight")
        self._method, self._writer, self._reader = method, _FrameWriter((method, args)), _FrameReader()
        self._advance()
        return Reply(self)

    def _advance(self):
        """Send and receive what the socket allows without waiting; True once the reply is in."""
        if self._sock is None:
            self.close()  # forgets the call
            raise RuntimeError(f"link to worker {self.peer} is closed")
        try:
            if self._writer is not None and self._writer.send(self._sock):
                self._writer = None
            return self._writer is None and self._reader.receive(self._sock)
        except _WOULD_BLOCK as exc:
            self._want_write = isinstance(exc, ssl.SSLWantWriteError)  # TLS: even a read may have to write
            return False
        except OSError as exc:
            method = self._method
            self.close()
            raise RuntimeError(f"the connection to worker {self.peer} closed during {method!r}") from exc

    def wait(self, timeout=None):
        """The reply's ("ok", result) or ("error", exc, text); TimeoutError after ``timeout`` s."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._advance():
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise TimeoutError(f"no reply from worker {self.peer} to {self._method!r} within {timeout} s")
            events = selectors.EVENT_READ | (selectors.EVENT_WRITE if self._writer is not None or self._want_write
                                             else 0)
            self._selector.modify(self._sock, events)
            self._selector.select(left)
        reply, self._method, self._reader = self._reader.message, None, None
        return reply

    def close(self):
        """Close the connection; the server's thread for it ends."""
        if self._sock is not None:
            self._selector.close()
            self._sock.close()
        self._sock, self._method, self._writer, self._reader = None, None, None, None


class Reply:
    """The pending result of one ``Link.call``."""

    def __init__(self, link):
        self._link = link

    def result(self, timeout=None):
        """The callee's return value; re-raises its exception (with its traceback as the cause)."""
        reply = self._link.wait(timeout)
        if reply[0] == "error":
            raise reply[1] from RemoteTraceback(f"on worker {self._link.peer}:\n{reply[2]}")
        return reply[1]
