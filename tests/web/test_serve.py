"""`practice serve` as a process, as the clinic starts it: it answers on 127.0.0.1, and its log
lines name paths without their query strings (a search is a client's name)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRACTICE_")}
    url = f"sqlite:///{tmp_path / 'practice.db'}"
    subprocess.run([sys.executable, "-m", "practice_es", "--db", url, "init"], env=env,
                   check=True, capture_output=True)
    server = subprocess.Popen([sys.executable, "-m", "practice_es", "--db", url, "serve",
                               "--port", str(port)], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"{base}/health", timeout=2).read()
            break
        except OSError:
            assert server.poll() is None, server.communicate()[0]
            assert time.monotonic() < deadline, "practice serve did not answer"
            time.sleep(0.1)
    try:
        yield base, server
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_serve_answers_and_logs_no_query_string(
        served: tuple[str, subprocess.Popen[str]]) -> None:
    base, server = served
    assert urllib.request.urlopen(f"{base}/health").read() == b'{"status":"ok"}'
    page = urllib.request.urlopen(f"{base}/clients?q=Lovelace")  # sent on to /login
    assert page.url.endswith("/login")
    server.terminate()
    log = server.communicate(timeout=30)[0]
    assert "GET /clients 303" in log
    assert "Lovelace" not in log and "q=" not in log
