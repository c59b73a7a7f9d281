"""Notification channels, each delivered to a real receiver on loopback: an aiohttp server that checks every
bot's payload format (and DingTalk's and Feishu's signatures), and aiosmtpd for email. A channel that cannot
be reached is logged, without its secrets, and never raises."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import time
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from typing import Any

import pytest
from aiohttp import web

from alphahome.config.settings import NotifyChannel
from alphahome.monitoring.notify import notify
from alphahome.monitoring.outcome import RunOutcome, TaskOutcome

DING_SECRET = "SEC0123456789abcdef-ding-secret"
FEISHU_SECRET = "feishu-secret-xyz"


def outcome(status: str = "failed") -> RunOutcome:
    start = datetime(2026, 1, 5, 18, 0, tzinfo=UTC)
    tasks = [TaskOutcome("daily", "success", rows=5000, calls=3, seconds=12.0),
             TaskOutcome("income", status, rows=10, calls=4, seconds=3.0,
                         error="permission denied: income_vip needs 5000 points")]
    return RunOutcome("tushare", "abc123def456", start, start + timedelta(seconds=15), tasks,
                      log_path="/var/log/alphahome/update.log", host="research-1")


class Receiver:
    """Bot endpoints on loopback that answer like the real bots and keep what they received."""

    def __init__(self) -> None:
        self.received: dict[str, list[dict[str, Any]]] = {}
        self.app = web.Application()
        self.app.router.add_post("/webhook", self.webhook)
        self.app.router.add_post("/cgi-bin/webhook/send", self.wecom)
        self.app.router.add_post("/robot/send", self.dingtalk)
        self.app.router.add_post("/open-apis/bot/v2/hook/{key}", self.feishu)
        self.app.router.add_post("/slow", self.slow)

    async def webhook(self, request: web.Request) -> web.Response:
        body = await request.json()
        assert request.content_type == "application/json"
        self.received.setdefault("webhook", []).append(body)
        return web.json_response({"ok": True})

    async def wecom(self, request: web.Request) -> web.Response:
        body = await request.json()
        if request.query.get("key") != "wecom-key" or body.get("msgtype") != "markdown" \
                or not isinstance(body.get("markdown", {}).get("content"), str):
            return web.json_response({"errcode": 40008, "errmsg": "invalid message type"})
        self.received.setdefault("wecom", []).append(body)
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    async def dingtalk(self, request: web.Request) -> web.Response:
        body = await request.json()
        stamp = request.query.get("timestamp", "")
        expected = base64.b64encode(hmac.new(DING_SECRET.encode(), f"{stamp}\n{DING_SECRET}".encode(),
                                             hashlib.sha256).digest()).decode()
        # aiohttp has already URL-decoded the query: compare the plain base64 text
        if request.query.get("access_token") != "ding-token" or request.query.get("sign") != expected \
                or abs(int(stamp) / 1000 - time.time()) > 3600:
            return web.json_response({"errcode": 310000, "errmsg": "sign not match"})
        md = body.get("markdown", {})
        if body.get("msgtype") != "markdown" or not md.get("title") or not md.get("text"):
            return web.json_response({"errcode": 40035, "errmsg": "missing parameter"})
        self.received.setdefault("dingtalk", []).append(body)
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    async def feishu(self, request: web.Request) -> web.Response:
        body = await request.json()
        stamp = body.get("timestamp", "")
        expected = base64.b64encode(hmac.new(f"{stamp}\n{FEISHU_SECRET}".encode(), b"",
                                             hashlib.sha256).digest()).decode()
        if request.match_info["key"] != "feishu-key" or body.get("sign") != expected:
            return web.json_response({"code": 19021, "msg": "sign match fail or timestamp is not within one hour"})
        if body.get("msg_type") != "text" or not body.get("content", {}).get("text"):
            return web.json_response({"code": 9499, "msg": "Bad Request"})
        self.received.setdefault("feishu", []).append(body)
        return web.json_response({"code": 0, "msg": "success", "data": {}})

    async def slow(self, request: web.Request) -> web.Response:
        import asyncio

        await asyncio.sleep(1.5)
        return web.json_response({})


@pytest.fixture
async def receiver():
    rec = Receiver()
    runner = web.AppRunner(rec.app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    rec.base = f"http://127.0.0.1:{port}"  # type: ignore[attr-defined]
    yield rec
    await runner.cleanup()


async def test_every_http_channel_delivers_in_its_bot_format(receiver):
    base = receiver.base
    channels = [
        NotifyChannel(type="webhook", url=f"{base}/webhook"),
        NotifyChannel(type="wecom", url=f"{base}/cgi-bin/webhook/send?key=wecom-key"),
        NotifyChannel(type="dingtalk", url=f"{base}/robot/send?access_token=ding-token", secret=DING_SECRET),
        NotifyChannel(type="feishu", url=f"{base}/open-apis/bot/v2/hook/feishu-key", secret=FEISHU_SECRET),
    ]
    delivered = await notify(channels, outcome())
    assert list(delivered.values()) == [True] * 4, delivered
    hook = receiver.received["webhook"][0]
    assert hook["status"] == "failed" and hook["run_id"] == "abc123def456" and hook["host"] == "research-1"
    assert hook["tasks"][1] == {"name": "income", "status": "failed", "rows": 10, "calls": 4, "seconds": 3.0,
                                "error": "permission denied: income_vip needs 5000 points"}
    wecom = receiver.received["wecom"][0]["markdown"]["content"]
    # Chinese and English; the cause of each failure; the log path
    for text in ("失败", "FAILED", "income_vip needs 5000 points", "/var/log/alphahome/update.log", "research-1"):
        assert text in wecom
    assert "income_vip needs 5000 points" in receiver.received["dingtalk"][0]["markdown"]["text"]
    assert "运行 ID / run id: abc123def456" in receiver.received["feishu"][0]["content"]["text"]


async def test_channels_send_only_on_their_events(receiver):
    hook = NotifyChannel(type="webhook", url=f"{receiver.base}/webhook")
    everything = NotifyChannel(type="webhook", url=f"{receiver.base}/webhook", on=["success"], name="ok")
    assert await notify([hook], outcome("success")) == {}  # default on: failure, partial, alert
    assert list((await notify([hook, everything], outcome("success"))).values()) == [True]
    assert list((await notify([hook], outcome("partial"))).values()) == [True]
    alerting = outcome("success")
    alerting.alerts.append(("data is stale", "数据过期"))
    assert list((await notify([hook], alerting)).values()) == [True]
    assert [b["status"] for b in receiver.received["webhook"]] == ["success", "partial", "success"]
    assert receiver.received["webhook"][2]["alerts"] == [{"en": "data is stale", "zh": "数据过期"}]


async def test_wrong_signature_or_bot_error_is_logged_without_secrets(receiver, caplog):
    wrong = NotifyChannel(type="dingtalk", url=f"{receiver.base}/robot/send?access_token=ding-token",
                          secret="the-wrong-secret")
    with caplog.at_level(logging.WARNING, logger="alphahome.monitoring"):
        delivered = await notify([wrong], outcome(), secrets=["the-wrong-secret", "access_token=ding-token"])
    assert list(delivered.values()) == [False]
    text = caplog.text
    assert "errcode 310000 sign not match" in text
    assert "the-wrong-secret" not in text and "ding-token" not in text


async def test_unreachable_and_slow_channels_time_out_and_never_raise(receiver, caplog, unused_tcp_port):
    dead = NotifyChannel(type="webhook", url=f"http://127.0.0.1:{unused_tcp_port}/x", timeout=2)
    slow = NotifyChannel(type="webhook", url=f"{receiver.base}/slow", timeout=0.5)
    t0 = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="alphahome.monitoring"):
        delivered = await notify([dead, slow], outcome())
    assert time.monotonic() - t0 < 3
    assert list(delivered.values()) == [False, False]
    assert "no answer within 0.5s" in caplog.text and "ClientConnectorError" in caplog.text


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    class Handler:
        def __init__(self) -> None:
            self.messages: list[tuple[list[str], bytes]] = []

        async def handle_RCPT(self, server, session, envelope, address, options):
            if address.endswith("@nowhere.invalid"):
                return "550 no such user"
            envelope.rcpt_tos.append(address)
            return "250 OK"

        async def handle_DATA(self, server, session, envelope):
            self.messages.append((envelope.rcpt_tos, envelope.content))
            return "250 OK"

    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.login == b"bot" and auth_data.password == b"pw-123"
        return AuthResult(success=ok)

    import socket

    with socket.socket() as probe:  # aiosmtpd's start-up check cannot use port 0
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    handler = Handler()
    controller = Controller(handler, hostname="127.0.0.1", port=port, authenticator=authenticate,
                            auth_require_tls=False)
    controller.start()
    controller.handler_ = handler  # type: ignore[attr-defined]
    yield controller
    controller.stop()


async def test_email_is_sent_through_smtp_with_login(smtp_server, caplog):
    port = smtp_server.port
    channel = NotifyChannel(type="email", host="127.0.0.1", port=port, user="bot", password="pw-123",
                            to="ops@example.com, lead@example.com", sender="alphahome@example.com")
    assert list((await notify([channel], outcome())).values()) == [True]
    rcpt, content = smtp_server.handler_.messages[0]
    assert rcpt == ["ops@example.com", "lead@example.com"]
    mail = message_from_bytes(content, policy=policy.default)
    assert "FAILED" in mail["Subject"] and "失败" in mail["Subject"]
    body = mail.get_content()
    assert "income_vip needs 5000 points" in body and "主机 / host: research-1" in body

    bad = channel.model_copy(update={"to": ["ghost@nowhere.invalid"]})
    with caplog.at_level(logging.WARNING, logger="alphahome.monitoring"):
        assert list((await notify([bad], outcome(), secrets=["pw-123"])).values()) == [False]
    assert "SMTPRecipientsRefused" in caplog.text and "550" in caplog.text
    assert "pw-123" not in caplog.text


def test_pit_update_sends_its_outcome_and_a_dead_channel_keeps_exit_0(duckdb_url, tmp_path, unused_tcp_port):
    """End to end: `alphahome pit update` posts its outcome to a webhook on loopback; a second channel that
    cannot be reached is logged and the exit code stays 0."""
    import json
    import os
    import subprocess
    import sys
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    received: list[dict[str, Any]] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        schedule = tmp_path / "schedule.yaml"
        schedule.write_text(
            "monitoring:\n  notify:\n"
            f"    - {{type: webhook, url: 'http://127.0.0.1:{server.server_port}/hook', on: [success]}}\n"
            f"    - {{type: webhook, name: dead, url: 'http://127.0.0.1:{unused_tcp_port}/x', on: [success], timeout: 2}}\n")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ALPHAHOME_", "TUSHARE_", "DATABASE_URL"))}
        env.update(HOME=str(tmp_path), DATABASE_URL=duckdb_url, ALPHAHOME_SCHEDULE_CONFIG=str(schedule))
        done = subprocess.run([sys.executable, "-c", "from alphahome.cli import main; main()", "pit", "update",
                               "--target", "income"], env=env, cwd=tmp_path, capture_output=True, text=True,
                              timeout=120)
    finally:
        server.shutdown()
    assert done.returncode == 0, done.stderr
    assert len(received) == 1
    body = received[0]
    assert body["kind"] == "pit" and body["status"] == "success" and body["run_id"].startswith("pit-")
    assert [t["name"] for t in body["tasks"]] == ["income_quarterly"]
    assert "notification to webhook 'dead'" in done.stderr and "not delivered" in done.stderr
