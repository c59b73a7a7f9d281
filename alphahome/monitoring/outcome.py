"""A finished run as the monitoring layer sees it: what ran, how it ended, which events it raises
(failure, partial, alert, success) and the bilingual message a person receives (docs/monitoring.md).

Both ``tushare update`` and ``pit update`` build a :class:`RunOutcome`; the notification channels, the
Prometheus textfile and the log all read it, so every place reports the same facts."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from alphahome.config.settings import AlertThresholds

Event = Literal["failure", "partial", "alert", "success"]
RunStatus = Literal["success", "partial", "failed"]


@dataclass(frozen=True)
class TaskOutcome:
    """One dataset (or PIT target) of a run."""

    name: str
    status: str  # success, skipped, partial, failed
    rows: int = 0
    calls: int = 0
    seconds: float = 0.0
    error: str | None = None
    quota_waits: int = 0


@dataclass
class RunOutcome:
    """One run of ``tushare update`` or ``pit update``."""

    kind: Literal["tushare", "pit"]
    run_id: str
    started: datetime
    finished: datetime
    tasks: list[TaskOutcome]
    log_path: str | None = None
    host: str = field(default_factory=socket.gethostname)
    #: Alert texts (English, Chinese) raised by thresholds or stale data.
    alerts: list[tuple[str, str]] = field(default_factory=list)
    #: dataset -> columns the server did not send (schema drift seen during the run).
    drift: dict[str, list[str]] = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        return (self.finished - self.started).total_seconds()

    @property
    def status(self) -> RunStatus:
        """failed: some task failed; partial: some task is partial; else success."""
        states = {t.status for t in self.tasks}
        if "failed" in states:
            return "failed"
        if "partial" in states:
            return "partial"
        return "success"

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tasks)

    def add_threshold_alerts(self, thresholds: AlertThresholds) -> None:
        """Alerts for a success rate below ``success_rate`` and tasks longer than ``max_execution_time``."""
        ran = [t for t in self.tasks if t.status != "skipped"]
        if ran:
            rate = sum(t.status == "success" for t in ran) / len(ran)
            if rate < thresholds.success_rate:
                self.alerts.append((
                    f"success rate {rate:.0%} is below the threshold {thresholds.success_rate:.0%}",
                    f"成功率 {rate:.0%} 低于阈值 {thresholds.success_rate:.0%}",
                ))
        for t in self.tasks:
            if t.seconds > thresholds.max_execution_time:
                self.alerts.append((
                    f"{t.name} ran {t.seconds:.0f}s, longer than max_execution_time "
                    f"{thresholds.max_execution_time:g}s",
                    f"{t.name} 运行 {t.seconds:.0f} 秒，超过最长执行时间 {thresholds.max_execution_time:g} 秒",
                ))

    def events(self) -> set[Event]:
        """The events this run raises: its status (failure/partial/success) and ``alert`` if any alert."""
        out: set[Event] = {"failure" if self.status == "failed" else self.status}
        if self.alerts:
            out.add("alert")
        return out

    def title(self) -> str:
        """One line: ``[AlphaHome] tushare update FAILED on host / 更新失败``."""
        zh = {"success": "成功", "partial": "部分完成", "failed": "失败"}[self.status]
        job = "Tushare 数据更新" if self.kind == "tushare" else "PIT 数据构建"
        return f"[AlphaHome] {self.kind} update {self.status.upper()} on {self.host} / {job}{zh}"

    def lines(self) -> list[str]:
        """The message body, Chinese and English side by side, one fact per line (plain text)."""
        failed = [t for t in self.tasks if t.status in ("failed", "partial")]
        out = [
            f"运行 ID / run id: {self.run_id}",
            f"主机 / host: {self.host}",
            f"状态 / status: {self.status}",
            f"开始 / started: {self.started:%Y-%m-%d %H:%M:%S %Z}".rstrip(),
            f"耗时 / duration: {self.seconds:.1f}s",
            f"行数 / rows: {self.rows:,}",
            f"任务 / tasks: {len(self.tasks)}, 失败或部分 / failed or partial: {len(failed)}",
        ]
        for en, zh in self.alerts:
            out.append(f"告警 / alert: {zh} / {en}")
        for t in failed:
            out.append(f"- {t.name}: {t.status}: {t.error or '-'}")
        for dataset, columns in sorted(self.drift.items()):
            out.append(f"结构变化 / schema drift: {dataset}: 服务器未返回 / server sent no {len(columns)} "
                       f"column(s): {', '.join(columns[:10])}{' …' if len(columns) > 10 else ''}")
        if self.log_path:
            out.append(f"日志 / log: {self.log_path}")
        return out

    def text(self) -> str:
        """Title and body as plain text."""
        return "\n".join([self.title(), *self.lines()])

    def markdown(self) -> str:
        """Title and body as bot markdown (WeCom, DingTalk)."""
        return "\n".join([f"### {self.title()}", *(f"> {line}" if not line.startswith("- ") else line
                                                       for line in self.lines())])

    def as_json(self) -> dict[str, object]:
        """The run summary a ``webhook`` channel receives."""
        return {
            "source": "alphahome",
            "kind": self.kind,
            "run_id": self.run_id,
            "host": self.host,
            "status": self.status,
            "events": sorted(self.events()),
            "started": self.started.isoformat(),
            "finished": self.finished.isoformat(),
            "duration_seconds": round(self.seconds, 3),
            "rows": self.rows,
            "log": self.log_path,
            "alerts": [{"en": en, "zh": zh} for en, zh in self.alerts],
            "schema_drift": self.drift,
            "tasks": [
                {"name": t.name, "status": t.status, "rows": t.rows, "calls": t.calls,
                 "seconds": round(t.seconds, 3), "error": t.error}
                for t in self.tasks
            ],
            "title": self.title(),
            "text": self.text(),
        }
