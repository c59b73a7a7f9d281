"""``alphahome sandbox serve``: bad options are usage errors; the server runs in the foreground, prints its
URL and tokens, enforces --quota and stops cleanly on SIGTERM and Ctrl-C (SIGINT)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator

import pytest
import requests
from click.testing import CliRunner

from alphahome.cli import cli
from alphahome.sandbox.tokens import TOKEN_120, TOKEN_2000, TOKEN_5000


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--quota", "daily=0/min"], "Invalid value for '--quota'"),
        (["--quota", "daily"], "bad quota 'daily'"),
        (["--faults", "http5xx=2"], "Invalid value for '--faults'"),
        (["--faults", "bogus=1"], "unknown key"),
        (["--end-date", "2024-13-01"], "not a date"),
        (["--scale", "huge"], "Invalid value for '--scale'"),
        (["--time-scale", "0"], "Invalid value for '--time-scale'"),
        (["--port", "70000"], "Invalid value for '--port'"),
    ],
)
def test_bad_options_are_usage_errors(args, message):
    result = CliRunner().invoke(cli, ["sandbox", "serve", *args])
    assert result.exit_code == 2
    assert message in result.output


class Served:
    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc
        self.lines: list[str] = []
        self.url = ""
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for_url(self, timeout: float = 60.0) -> str:
        """The URL, once the whole start-up banner (ending with the Ctrl-C hint) has been printed."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(line.startswith("Press Ctrl-C") for line in list(self.lines)):
                for line in self.lines:
                    match = re.search(r"listening on (http://127\.0\.0\.1:\d+)", line)
                    if match:
                        self.url = match.group(1)
                        return self.url
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"no start-up banner: {self.lines}")


@pytest.fixture
def serve() -> Iterator[Callable[..., Served]]:
    procs: list[subprocess.Popen[str]] = []

    def start(*args: str) -> Served:
        proc = subprocess.Popen(
            [sys.executable, "-m", "alphahome.cli", "sandbox", "serve", *args],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        procs.append(proc)
        return Served(proc)

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _call(url: str, api: str, token: str, params: dict[str, str]) -> dict:
    body = {"api_name": api, "token": token, "params": params, "fields": ""}
    return requests.post(url + "/dataapi/" + api, json=body, timeout=10).json()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serve_prints_url_and_tokens_enforces_quotas_and_stops_cleanly(serve, sig):
    served = serve("--scale", "small", "--end-date", "20240628", "--quota", "trade_cal=2/min", "--faults", "quota_next=stock_basic:1")
    url = served.wait_for_url()
    text = "\n".join(served.lines)
    for token, points in ((TOKEN_120, 120), (TOKEN_2000, 2000), (TOKEN_5000, 5000)):
        assert re.search(rf"{token}\s+{points} points", text)
    assert "trade_cal=2/min" in text and "quota_next=stock_basic:1" in text

    params = {"exchange": "SSE", "start_date": "20240101", "end_date": "20240131"}
    first = _call(url, "trade_cal", TOKEN_2000, params)
    assert first["code"] == 0 and len(first["data"]["items"]) == 31
    assert _call(url, "trade_cal", TOKEN_2000, params)["code"] == 0
    third = _call(url, "trade_cal", TOKEN_2000, params)
    assert third["code"] == 40203 and "每分钟最多访问该接口2次" in third["msg"]
    assert _call(url, "stock_basic", TOKEN_2000, {})["code"] == 40203  # injected
    assert _call(url, "stock_basic", TOKEN_2000, {})["code"] == 0

    served.proc.send_signal(sig)
    assert served.proc.wait(timeout=20) == 0
    served._reader.join(timeout=5)
    assert any("sandbox stopped after 5 requests" in line for line in served.lines), served.lines
    with pytest.raises(requests.ConnectionError):
        requests.post(url, json={}, timeout=2)


def test_start_up_failures_are_one_clear_line(serve):
    first = serve("--scale", "small", "--end-date", "2024-06-28")
    url = first.wait_for_url()
    port = url.rsplit(":", 1)[1]
    busy = serve("--scale", "small", "--end-date", "2024-06-28", "--port", port)
    assert busy.proc.wait(timeout=60) == 2
    busy._reader.join(timeout=5)
    assert any(f"cannot listen on 127.0.0.1:{port}" in line for line in busy.lines), busy.lines
    assert not any("Traceback" in line for line in busy.lines)
    early = serve("--scale", "small", "--end-date", "1990-01-01")
    assert early.proc.wait(timeout=60) == 2
    early._reader.join(timeout=5)
    assert any("end_date" in line and "Error" in line for line in early.lines), early.lines
    assert not any("Traceback" in line for line in early.lines)
    first.proc.send_signal(signal.SIGTERM)
    assert first.proc.wait(timeout=20) == 0
