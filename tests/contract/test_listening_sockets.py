"""A running model listens on every interface only on the ports versions.yaml names (REST,
gRPC, metrics); anything else it opens (Spark's driver, the gRPC front's socket to the
workers) is on loopback or a Unix socket. Read from /proc/net/tcp{,6} inside the container."""

from __future__ import annotations

from harness import PORTS

LISTEN = "0A"
ANY_ADDRESS = {"00000000", "00000000000000000000000000000000"}


def listening(container) -> set[tuple[str, int]]:
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        result = container.exec_run(["cat", table])
        for line in result.output.decode().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            if state == LISTEN:
                address, port = local.split(":")
                found.add((address, int(port, 16)))
    return found


def test_only_the_contract_ports_listen_on_every_interface(start):
    model = start("model", env={"PROTOCOL": "both"})
    sockets = listening(model.container)
    public = {port for address, port in sockets if address in ANY_ADDRESS}
    assert public == set(PORTS.values()), sorted(sockets)
