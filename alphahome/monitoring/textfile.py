"""node_exporter textfile metrics after each run (``monitoring.prometheus_textfile``, docs/monitoring.md).

The file is replaced atomically (written beside it, then renamed), so the collector never reads half a
file. ``tushare update`` and ``pit update`` share one file: each run replaces its own kind's samples and
keeps the other kind's, and a failed run keeps the last *success* timestamps of the previous runs."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from alphahome.monitoring.outcome import RunOutcome

#: name -> (type, help)
METRICS: dict[str, tuple[str, str]] = {
    "alphahome_run_status": ("gauge", "1 for the status of the last run of this kind (success, partial, failed)"),
    "alphahome_run_last_timestamp_seconds": ("gauge", "When the last run of this kind finished (Unix time)"),
    "alphahome_run_last_success_timestamp_seconds": ("gauge", "When the last fully successful run finished"),
    "alphahome_run_duration_seconds": ("gauge", "Wall time of the last run"),
    "alphahome_run_failures": ("gauge", "Datasets failed or partial in the last run"),
    "alphahome_dataset_rows": ("gauge", "Rows written by the dataset in the last run"),
    "alphahome_dataset_calls": ("gauge", "Tushare API calls of the dataset in the last run"),
    "alphahome_dataset_quota_waits": ("gauge", "Rate-limiter waits of the dataset in the last run"),
    "alphahome_dataset_failed": ("gauge", "1 when the dataset failed or was partial in the last run"),
    "alphahome_dataset_duration_seconds": ("gauge", "Seconds the dataset took in the last run"),
    "alphahome_dataset_last_success_timestamp_seconds": ("gauge", "When the dataset last succeeded"),
}
_SAMPLE = re.compile(r"^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?P<labels>\{[^}]*\})?\s+(?P<value>\S+)$")
_KIND = re.compile(r'kind="([^"]*)"')

Samples = dict[tuple[str, str], float]


def _labels(**labels: str) -> str:
    def escape(value: str) -> str:
        return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")

    return "{" + ",".join(f'{key}="{escape(value)}"' for key, value in labels.items()) + "}"


def read_samples(path: Path) -> Samples:
    """The samples of a file this module wrote (unknown lines are ignored; a missing file is empty)."""
    out: Samples = {}
    try:
        text = path.read_text(encoding="utf-8")
    except (FileNotFoundError, UnicodeDecodeError):
        return out
    for line in text.splitlines():
        m = _SAMPLE.match(line.strip())
        if m and m["name"] in METRICS:
            try:
                out[(m["name"], m["labels"] or "")] = float(m["value"])
            except ValueError:
                continue
    return out


def outcome_samples(outcome: RunOutcome, previous: Samples) -> Samples:
    """This run's samples, success timestamps carried over from ``previous`` where this run failed."""
    kind = outcome.kind
    finished = outcome.finished.timestamp()
    out: Samples = {}
    for status in ("success", "partial", "failed"):
        out[("alphahome_run_status", _labels(kind=kind, status=status))] = float(outcome.status == status)
    run = _labels(kind=kind)
    out[("alphahome_run_last_timestamp_seconds", run)] = finished
    last_ok = ("alphahome_run_last_success_timestamp_seconds", run)
    if outcome.status == "success":
        out[last_ok] = finished
    elif last_ok in previous:
        out[last_ok] = previous[last_ok]
    out[("alphahome_run_duration_seconds", run)] = outcome.seconds
    out[("alphahome_run_failures", run)] = float(sum(t.status in ("failed", "partial") for t in outcome.tasks))
    for task in outcome.tasks:
        labels = _labels(kind=kind, dataset=task.name)
        out[("alphahome_dataset_rows", labels)] = float(task.rows)
        out[("alphahome_dataset_calls", labels)] = float(task.calls)
        out[("alphahome_dataset_quota_waits", labels)] = float(task.quota_waits)
        out[("alphahome_dataset_failed", labels)] = float(task.status in ("failed", "partial"))
        out[("alphahome_dataset_duration_seconds", labels)] = task.seconds
        key = ("alphahome_dataset_last_success_timestamp_seconds", labels)
        if task.status in ("success", "skipped"):
            out[key] = finished
        elif key in previous:
            out[key] = previous[key]
    return out


def render(samples: Samples) -> str:
    """The exposition text: HELP and TYPE before each metric's samples."""
    lines: list[str] = []
    for name, (kind, text) in METRICS.items():
        rows = sorted((labels, value) for (metric, labels), value in samples.items() if metric == name)
        if not rows:
            continue
        lines += [f"# HELP {name} {text}", f"# TYPE {name} {kind}"]
        lines += [f"{name}{labels} {value:.17g}" for labels, value in rows]
    return "\n".join(lines) + "\n"


def write_textfile(path: Path, outcome: RunOutcome) -> None:
    """Merge this run into the metrics file at ``path`` and replace it atomically."""
    previous = read_samples(path)
    kept = {key: value for key, value in previous.items()
            if (m := _KIND.search(key[1])) is None or m.group(1) != outcome.kind}
    samples = {**kept, **outcome_samples(outcome, previous)}
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, scratch = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(render(samples))
        os.chmod(scratch, 0o644)
        os.replace(scratch, path)
    except BaseException:
        Path(scratch).unlink(missing_ok=True)
        raise
