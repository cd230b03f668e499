"""cluster.channel: links carry arrays and nested objects exactly, re-raise the callee's
exceptions, keep a partly received reply across timeouts, fail at once naming the peer when the
connection closes, and leave no threads behind (also after a Dask fit on five workers). On a TLS
cluster the links use TLS with the cluster's certificates and admit no caller without one."""
import socket
import ssl
import threading
import time

import dask.array as da
import numpy as np
import pytest
from distributed import Client, LocalCluster

import cluster
from bindings import Dataset, train
from cluster import channel
from cluster.channel import Link, RemoteTraceback, Server, tls_contexts


class Target:
    def echo(self, value):
        return value

    def slow_echo(self, seconds, value):
        time.sleep(seconds)
        return value

    def fail(self, message):
        raise ValueError(message)


@pytest.fixture
def link():
    closed = threading.Event()
    server = Server(Target(), "127.0.0.1", 1, on_close=closed.set, name="test-link")
    link = Link(server.address, server.token, "test-peer")
    yield link
    link.close()
    assert closed.wait(5), "the server did not notice the closed link"


def assert_same(got, want):
    assert type(got) is type(want)
    if isinstance(want, np.ndarray):
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_array_equal(got, want)
        assert got.flags.writeable and got.flags.aligned
    elif isinstance(want, dict):
        assert list(got) == list(want)
        for key in want:
            assert_same(got[key], want[key])
    elif isinstance(want, (list, tuple)):
        assert len(got) == len(want)
        for g, w in zip(got, want):
            assert_same(g, w)
    else:
        assert got == want


def test_round_trip_of_arrays_and_nested_objects_is_exact(link):
    rng = np.random.default_rng(0)
    hist = rng.standard_normal((4, 28, 256, 2))
    message = {
        "histograms": (np.arange(28, dtype=np.int32), hist),
        "big": rng.standard_normal(3_000_000),  # larger than a socket buffer: sent in pieces
        "fortran": np.asfortranarray(rng.standard_normal((5, 3))),
        "strided": hist[:, ::3, 7, 0],
        "masks": [rng.random(n) < 0.5 for n in (0, 1, 1000)],
        "bins": rng.integers(0, 256, (100, 3), dtype=np.uint8),
        "nested": [("split", ([1, 2], [0.5, -np.inf], None, "text")), 3.25, {"k": []}],
    }
    for _ in range(2):  # the link stays usable after a reply
        assert_same(link.call("echo", message).result(timeout=30), message)


def test_quick_replies_polled_with_short_timeouts(link):
    """A reply may be complete before ``call`` returns (the server thread runs while the request
    is sent); polling must still hand over each reply once, in order."""
    for i in range(300):
        reply = link.call("echo", np.full(i % 4, i))
        while True:
            try:
                got = reply.result(timeout=0.0001)
                break
            except TimeoutError:
                pass
        assert_same(got, np.full(i % 4, i))


def test_remote_exception_is_re_raised_with_its_message_and_traceback(link):
    with pytest.raises(ValueError, match="bin 7 out of range") as info:
        link.call("fail", "bin 7 out of range").result(timeout=10)
    assert isinstance(info.value.__cause__, RemoteTraceback)
    assert "in fail" in str(info.value.__cause__) and "test-peer" in str(info.value.__cause__)
    assert link.call("echo", 5).result(timeout=10) == 5


def test_timeout_keeps_the_pending_reply(link):
    payload = np.arange(10.0)
    reply = link.call("slow_echo", 0.3, payload)
    with pytest.raises(TimeoutError, match="no reply from worker test-peer to 'slow_echo'"):
        reply.result(timeout=0.05)
    assert_same(reply.result(timeout=10), payload)
    with pytest.raises(RuntimeError, match="still in flight"):
        link.call("slow_echo", 0.3, 1)
        link.call("echo", 2)


def test_a_peer_that_closes_mid_call_gives_a_clear_error_at_once():
    listener = socket.create_server(("127.0.0.1", 0))

    def read_then_close():  # a peer that dies after receiving the request
        conn, _ = listener.accept()
        conn.recv(100)
        time.sleep(0.2)
        conn.close()

    thread = threading.Thread(target=read_then_close, daemon=True)
    thread.start()
    link = Link(listener.getsockname(), bytes(16), "tcp://10.0.0.9:4321")
    reply = link.call("echo", 1)
    start = time.monotonic()
    with pytest.raises(RuntimeError, match=r"connection to worker tcp://10.0.0.9:4321 closed during 'echo'"):
        reply.result(timeout=30)
    assert time.monotonic() - start < 2
    for _ in range(2):
        with pytest.raises(RuntimeError, match="is closed"):
            link.call("echo", 1)
    thread.join()
    listener.close()


def test_a_caller_without_the_token_is_turned_away():
    server = Server(Target(), "127.0.0.1", 1, name="test-token")
    with socket.create_connection(server.address, timeout=5) as intruder:
        intruder.sendall(bytes(16))
        assert intruder.recv(1) == b""  # closed before anything was unpickled
    link = Link(server.address, server.token, "test-peer")  # the slot is still free
    assert link.call("echo", "hi").result(timeout=10) == "hi"
    link.close()


def test_a_server_nobody_connects_to_gives_up():
    closed = threading.Event()
    Server(Target(), "127.0.0.1", 1, on_close=closed.set, accept_timeout=0.2, name="test-unused")
    assert closed.wait(5)


def link_threads():
    return sum(t.name.startswith("gbdt-link") for t in threading.enumerate())


@pytest.fixture(scope="module")
def client5():
    with LocalCluster(n_workers=5, threads_per_worker=1, processes=True, dashboard_address=None) as lc:
        with Client(lc) as c:
            yield c


@pytest.mark.parametrize("mode", ["data", "feature"])
def test_five_workers_give_the_local_model_and_leave_no_link_threads(client5, mode):
    """Ranks 3 and 4 are reached through rank 1 (two links into each); after the fit every link
    and server thread on every worker has ended."""
    rng = np.random.default_rng(2)
    X = rng.standard_normal((3000, 5))
    y = (X[:, 0] + X[:, 1] * X[:, 2] > 0).astype(float)
    params = {"objective": "binary:logistic", "max_depth": 3}
    bst = cluster.train(client5, params, da.from_array(X, chunks=600), da.from_array(y, chunks=600),
                        num_boost_round=3, distributed_mode=mode, min_rows_per_worker=1)
    assert len(bst.rows_per_worker) == 5
    local = train(params, Dataset(X, y), 3)
    np.testing.assert_allclose(bst.predict(X), local.predict(X), rtol=1e-6, atol=1e-6)
    deadline = time.monotonic() + 10
    while any(client5.run(link_threads).values()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(client5.run(link_threads).values())


@pytest.fixture(scope="module")
def security():
    pytest.importorskip("cryptography")  # Security.temporary() makes its certificates with it
    from distributed.security import Security
    return Security.temporary()


@pytest.fixture
def tls_link(security):
    server_tls, client_tls = tls_contexts(security, "tls://127.0.0.1:1")
    server = Server(Target(), "127.0.0.1", 1, name="test-tls", ssl_context=server_tls)
    link = Link(server.address, server.token, "test-peer", ssl_context=client_tls)
    yield server, link
    link.close()


def test_tls_links_carry_the_same_messages(tls_link):
    _, link = tls_link
    assert isinstance(link._sock, ssl.SSLSocket) and link._sock.version().startswith("TLS")
    rng = np.random.default_rng(1)
    message = {"big": rng.standard_normal(3_000_000), "strided": rng.standard_normal((50, 9))[:, ::2], "n": [1, "a"]}
    for _ in range(2):
        assert_same(link.call("echo", message).result(timeout=60), message)
    for i in range(100):  # replies polled with short timeouts (a TLS record may arrive in pieces)
        reply = link.call("echo", np.full(i % 5, i))
        while True:
            try:
                got = reply.result(timeout=0.0001)
                break
            except TimeoutError:
                pass
        assert_same(got, np.full(i % 5, i))
    with pytest.raises(ValueError, match="bad bin"):
        link.call("fail", "bad bin").result(timeout=10)


def test_tls_server_turns_away_callers_without_a_cluster_certificate(security, monkeypatch):
    """Plain TCP with the right token, and TLS without a client certificate, are closed before
    anything is read as a frame: the server never unpickles what they send."""
    server_tls, client_tls = tls_contexts(security, "tls://127.0.0.1:1")
    served = []
    monkeypatch.setattr(channel._FrameReader, "__init__",
                        lambda self, original=channel._FrameReader.__init__: served.append(1) or original(self))
    server = Server(Target(), "127.0.0.1", 1, name="test-tls-intruders", ssl_context=server_tls)
    with socket.create_connection(server.address, timeout=5) as plain:  # the token, without TLS
        plain.sendall(server.token)
        assert closed_by_peer(plain)
    anonymous = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    anonymous.check_hostname, anonymous.verify_mode = False, ssl.CERT_NONE
    try:  # no certificate: the handshake fails, or (TLS 1.3 checks it after) the server closes
        with anonymous.wrap_socket(socket.create_connection(server.address, timeout=5)) as tls:
            tls.sendall(server.token)
            assert closed_by_peer(tls)
    except ssl.SSLError:
        pass
    assert not served
    link = Link(server.address, server.token, "test-peer", ssl_context=client_tls)  # the slot is still free
    assert link.call("echo", "hi").result(timeout=10) == "hi"
    link.close()


def closed_by_peer(sock):
    """True when the peer closes ``sock`` without sending anything (an orderly close or a reset)."""
    try:
        return sock.recv(1) == b""
    except (ConnectionResetError, ssl.SSLError):
        return True


def test_plain_tcp_cluster_has_no_tls_contexts(security):
    assert tls_contexts(security, "tcp://127.0.0.1:1") == (None, None)


def _record_link_sockets():
    """On a worker: make the shards' links record whether their sockets are TLS."""
    import cluster.shard

    class RecordingLink(Link):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            RecordingLink.kinds.append(type(self._sock).__name__)

    RecordingLink.kinds = []
    cluster.shard.Link = RecordingLink


def _link_socket_kinds():
    import cluster.shard
    return list(getattr(cluster.shard.Link, "kinds", []))


def test_fit_on_a_tls_cluster_links_over_tls(security):
    """Both modes open their links in ``Shard.join``/``open_links``: one mode covers them."""
    rng = np.random.default_rng(3)
    X = rng.standard_normal((2000, 4))
    y = (X[:, 0] - X[:, 1] > 0).astype(float)
    params = {"objective": "binary:logistic", "max_depth": 3}
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, protocol="tls",
                      security=security) as lc, Client(lc, security=security) as c:
        assert all(w.startswith("tls://") for w in c.scheduler_info()["workers"])
        c.run(_record_link_sockets)
        bst = cluster.train(c, params, da.from_array(X, chunks=1000), da.from_array(y, chunks=1000),
                            num_boost_round=3, min_rows_per_worker=1)
        kinds = [k for ks in c.run(_link_socket_kinds).values() for k in ks]
    # the leader's link to the other shard, and each shard's exchange link to the other (reduce-scatter)
    assert kinds == ["SSLSocket"] * 3
    np.testing.assert_allclose(bst.predict(X), train(params, Dataset(X, y), 3).predict(X), rtol=1e-6, atol=1e-6)
