"""A small load generator for the benchmarks: N client threads, each with its own keep-alive
HTTP/1.1 connection (`http.client`, lighter than httpx so that the client, which shares the
machine's cores with the server, stays the smaller cost), plus CPU accounting of the server
process from /proc."""

from __future__ import annotations

import http.client
import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

#: A request: (method, path, body or None).
Request = tuple[str, str, bytes | None]


class Connection:
    """One keep-alive connection to one server with its token."""

    def __init__(self, port: int, token: str):
        self.port = port
        self.headers = {"Authorization": f"token {token}", "Connection": "keep-alive"}
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        headers = self.headers
        if body is not None:
            headers = dict(headers, **{"Content-Type": "application/json"})
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
        except (http.client.HTTPException, ConnectionError):
            # The server closed an idle connection: open a new one, once.
            self.conn.close()
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
        return response.status, response.read()

    def close(self) -> None:
        self.conn.close()


def server_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its threads so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Phase:
    requests: int
    seconds: float
    latencies: list = field(default_factory=list)
    client_cpu: float = 0.0
    server_cpu: float = 0.0
    errors: int = 0

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds


def run_phase(
    connections: list[Connection],
    next_request: Callable[[int, int], Request],
    seconds: float,
    expect: tuple = (200,),
    server_pid: int | None = None,
) -> Phase:
    """Each connection's thread sends requests back to back until `seconds` have passed;
    `next_request(client, n)` gives client number `client` its n-th request."""
    n = len(connections)
    barrier = threading.Barrier(n + 1)
    counts = [0] * n
    ends = [0.0] * n
    latencies: list[list[float]] = [[] for _ in range(n)]
    errors = [0] * n
    deadline = [0.0]

    def worker(i: int) -> None:
        conn = connections[i]
        own = latencies[i]
        barrier.wait()
        stop = deadline[0]
        k = 0
        while True:
            method, path, body = next_request(i, k)
            t0 = time.perf_counter()
            status, data = conn.request(method, path, body)
            t1 = time.perf_counter()
            if status not in expect:
                errors[i] += 1
                if errors[i] == 1:
                    print(f"# unexpected {status} for {method} {path}: {data[:200]!r}", flush=True)
            own.append(t1 - t0)
            k += 1
            if t1 >= stop:
                break
        counts[i] = k
        ends[i] = time.perf_counter()

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    cpu0 = time.process_time()
    srv0 = server_cpu_seconds(server_pid) if server_pid else 0.0
    start = time.perf_counter()
    deadline[0] = start + seconds
    barrier.wait()
    for t in threads:
        t.join()
    elapsed = max(ends) - start
    phase = Phase(
        requests=sum(counts),
        seconds=elapsed,
        latencies=[x for own in latencies for x in own],
        client_cpu=time.process_time() - cpu0,
        server_cpu=(server_cpu_seconds(server_pid) - srv0) if server_pid else 0.0,
        errors=sum(errors),
    )
    return phase


def get(path: str) -> Callable[[int, int], Request]:
    return lambda client, n: ("GET", path, None)


def json_body(data) -> bytes:
    return json.dumps(data).encode()
