"""The real Toxiproxy Python client (PyPI `toxiproxy-python`) against elasticache-local's
`--toxiproxy-listen`: lists the endpoints as proxies, adds a latency toxic, measures it with a
raw RESP PING and with redis-py (the issue's "latency measured by a redis client matches the
toxic within 10%"), disables and re-enables the proxy, removes the toxic, resets.

Env: TOXIPROXY_HOST, TOXIPROXY_PORT (the listener), PROXY (an endpoint's name).
Needs `python3 -m pip install toxiproxy-python` (it brings `future` and `requests`); run by
tests/toxics/api.rs, which fails when the package is missing rather than skipping."""

import os
import socket
import statistics
import time

import redis
from toxiproxy import Toxiproxy
from toxiproxy.api import APIConsumer

APIConsumer.host = os.environ["TOXIPROXY_HOST"]
APIConsumer.port = int(os.environ["TOXIPROXY_PORT"])
NAME = os.environ["PROXY"]


def redis_ping_ms(client):
    started = time.monotonic()
    assert client.ping() is True
    return (time.monotonic() - started) * 1000


def ping_ms(address):
    with socket.create_connection(address, timeout=5) as s:
        started = time.monotonic()
        s.sendall(b"PING\r\n")
        reply = s.recv(7)
        assert reply == b"+PONG\r\n", reply
        return (time.monotonic() - started) * 1000


server = Toxiproxy()
assert server.running()
assert b"Toxiproxy API" in server.version()
proxy = server.get_proxy(NAME)
assert proxy is not None, server.proxies().keys()
assert proxy.enabled is True
host, port = proxy.listen.rsplit(":", 1)
address = (host, int(port))  # each endpoint has its own loopback address

# The round trip without the toxic, measured the same way just before: what the machine adds
# (on a loaded 2-core machine a few ms), so that the toxic's own share is what is checked.
baseline = statistics.median(ping_ms(address) for _ in range(20))
# redis-py over one kept connection (the connection is made before the toxic: a latency toxic
# delays data, so what is measured is the PING round trip, not the connect).
client = redis.Redis(host=address[0], port=address[1], socket_timeout=5)
client.ping()
redis_baseline = [redis_ping_ms(client) for _ in range(30)]
proxy.add_toxic(type="latency", attributes={"latency": 50})
toxics = proxy.toxics()
assert list(toxics) == ["latency_downstream"], toxics
assert toxics["latency_downstream"].attributes == {"latency": 50, "jitter": 0}
rtts = [ping_ms(address) for _ in range(20)]
median = statistics.median(rtts)
# No reply sooner than the latency: a hard property. How closely the added median matches it
# depends on the machine's load (timer wake-ups run late on a busy machine: ~12 ms here at a load
# average of 10), so above the latency this only checks that it is applied once, not twice;
# the accuracy is printed, not asserted.
assert min(rtts) >= 50, rtts
assert 50 <= median - baseline < 100, (baseline, rtts)
print(f"latency 50 ms via toxiproxy-python: median PING RTT {median:.2f} ms (baseline {baseline:.2f} ms)")
# The accuracy check, with a redis client: the minimum of 30 round trips minus the minimum
# without the toxic. A minimum is what the toxic alone adds: a late timer wake-up or a
# descheduled process only ever lengthens a sample, so the fastest sample is the one the machine
# disturbed least, while a median on a loaded machine drifts by whole milliseconds.
redis_rtts = [redis_ping_ms(client) for _ in range(30)]
added = min(redis_rtts) - min(redis_baseline)
print(
    f"latency 50 ms via redis-py: min PING RTT {min(redis_rtts):.2f} ms - min baseline "
    f"{min(redis_baseline):.2f} ms = {added:.2f} ms added, median {statistics.median(redis_rtts):.2f} ms"
)
assert 45 <= added <= 55, ("toxic of 50 ms not within 10%", redis_baseline, redis_rtts)

proxy.disable()
assert server.get_proxy(NAME).enabled is False
with socket.create_connection(address, timeout=5) as s:
    s.sendall(b"PING\r\n")
    try:
        reply = s.recv(7)
    except ConnectionResetError:  # closed with the PING unread: the kernel resets
        reply = b""
    assert reply == b"", "a disabled proxy closes its connections"
proxy.enable()
assert server.get_proxy(NAME).enabled is True

proxy.destroy_toxic("latency_downstream")
assert proxy.toxics() == {}
after = [ping_ms(address) for _ in range(20)]
assert statistics.median(after) < 10, after
client.close()
proxy.add_toxic(type="timeout", name="hole", attributes={"timeout": 0})
assert server.reset()
assert server.get_proxy(NAME).toxics() == {}
print("PASS toxiproxy-python drove", NAME)
