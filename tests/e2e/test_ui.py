"""`storeops ui` starts the Dagster UI on the home, with the storeops code location loaded."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

pytestmark = pytest.mark.e2e


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def graphql(port: int, query: str) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def test_ui_serves_the_storeops_assets(tmp_path):
    port = free_port()
    env = {**os.environ, "DAGSTER_DISABLE_TELEMETRY": "true"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "orchestration.cli", "ui", "--home", str(tmp_path / "home"),
         "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, start_new_session=True,
    )
    try:
        keys: list[str] = []
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and not keys:
            time.sleep(2)
            assert proc.poll() is None, proc.stdout.read().decode()[-3000:]
            try:
                data = graphql(port, "{ assetNodes { assetKey { path } groupName } }")
            except OSError:
                continue
            nodes = (data.get("data") or {}).get("assetNodes") or []
            keys = ["/".join(n["assetKey"]["path"]) for n in nodes]
        assert "raw/shopify_orders" in keys
        assert "marts/fct_daily_kpis" in keys
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
