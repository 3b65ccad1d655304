"""``alchemist dashboard`` owns what it starts: SIGTERM or Ctrl-C stops Voilà, its kernels and the
embedded nats-server, and frees their ports (even SIGKILL takes them down: Voilà and the server have
a parent-death signal, the kernel follows Voilà); without Voilà it says in one line what to install."""

from __future__ import annotations

import signal
import sys

import psutil
import pytest

from tests.widgets.dashboard_process import Dashboard, kind, listening_ports, port_is_free


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.parametrize("signum, group, status", [(signal.SIGTERM, False, 0), (signal.SIGINT, True, 130),
                                                   (signal.SIGKILL, False, -signal.SIGKILL)],
                         ids=["SIGTERM to the command", "Ctrl-C (SIGINT to its process group)",
                              "SIGKILL (no clean-up runs: parent-death signals)"])
def test_a_signal_stops_voila_its_kernels_and_the_embedded_server(tmp_path, signum, group, status):
    dashboard = Dashboard(tmp_path, "--rate", "200", "--limit", "3000")
    try:
        dashboard.open_page_in_background()  # Voilà starts a kernel for the page
        procs = dashboard.wait_for_processes({"voila", "kernel", "nats-server"})
        kinds = {p.pid: kind(p) for p in procs}
        ports = listening_ports(procs)  # Voilà's, the nats-server's, the kernel's ZMQ ports once it has them
        assert dashboard.port in ports
        assert listening_ports([p for p in procs if kind(p) == "nats-server"])
        assert dashboard.stop(signum, group=group) == status
        gone, alive = psutil.wait_procs(procs, timeout=30)
        assert not alive, f"still running after {signum!r}: {[(p.pid, kinds[p.pid]) for p in alive]}"
        assert sorted(kinds.values()).count("kernel") >= 1
        busy = [port for port in ports if not port_is_free(port)]
        assert not busy, f"ports still taken: {busy}"
    finally:
        dashboard.kill()


def test_without_voila_one_line_names_the_package_and_the_command(monkeypatch, capsys):
    from alchemist.cli import main

    monkeypatch.setitem(sys.modules, "voila", None)  # as if the dashboard extra were not installed
    assert main(["dashboard", "--no-browser", "--port", "0"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "voila" in err and "pip install 'alchemist[dashboard]'" in err
