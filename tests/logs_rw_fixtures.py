"""Small generated logs in the styles real systems write: one writer per style, each told whether
its line is an error, so a test knows exactly how many errors each file holds.

Shape of every file: 90 minutes from T0, one record every 3 s; a rare background error, then from
ONSET on about half the records fail. Writers take (time, error?, index) and return one line (or,
for CRI partial records, two)."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

T0 = datetime(2026, 11, 21, 14, 0, tzinfo=UTC)
ONSET = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)
END = T0 + timedelta(minutes=90)
NOW = datetime(2026, 11, 21, 16, 0, tzinfo=UTC)
Q = '"'

Writer = Callable[[datetime, bool, int], list[str]]


def _iso(t: datetime, digits: int = 6) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.%f")[: 20 + digits] + "Z"


def cri(t: datetime, err: bool, i: int) -> list[str]:
    """Kubernetes container log (CRI): every 7th record is long and split by the runtime into a
    partial `P` line and its final `F` line; the level sits in the partial part."""
    stamp = _iso(t)[:-1] + "123Z"
    msg = f"level=error msg={Q}db timeout{Q} id={i}" if err else f"level=info msg=ok id={i}"
    if i % 7 == 0:
        return [f"{stamp} stderr P {msg} detail={Q}{'x' * 300}", f"{stamp} stderr F {'y' * 40}{Q} done"]
    return [f"{stamp} stdout F {msg}"]


def golog(t: datetime, err: bool, i: int) -> list[str]:
    frac = f".{t.microsecond:06d}" if i % 2 else ""
    return [f"{t.strftime('%Y/%m/%d %H:%M:%S')}{frac} " + ("ERROR: upstream connect error" if err else f"served /api/x in {i % 50}ms")]


def nginx_error(t: datetime, err: bool, i: int) -> list[str]:
    level = ("error", "crit", "alert", "emerg")[i % 4] if err else ("notice", "info", "warn")[i % 3]
    text = "connect() failed (111: Connection refused) while connecting to upstream" if err else "signal process started"
    return [f"{t.strftime('%Y/%m/%d %H:%M:%S')} [{level}] 123#0: *{i} {text}"]


def klog(t: datetime, err: bool, i: int) -> list[str]:
    letter = ("E", "F")[i % 2] if err else ("I", "W")[i % 2]
    # An info line that mentions an error word is still info: the letter is the level.
    text = "failed to sync pod" if err else ("retry after ERROR cleared" if i % 5 == 0 else "synced")
    return [f"{letter}{t.strftime('%m%d %H:%M:%S.%f')}   12345 server.go:123] {text}"]


def rfc5424(t: datetime, err: bool, i: int) -> list[str]:
    return [f"<{11 if err else 14}>1 {_iso(t, 3)} host app 123 - - {'ERROR boom' if err else 'fine'}"]


def envoy(t: datetime, err: bool, i: int) -> list[str]:
    return [f"[{_iso(t, 3)}] {Q}GET /api/cart HTTP/1.1{Q} {503 if err else 200} {'UF' if err else '-'} 0 {502 if i % 3 else 91} 3 - {Q}-{Q} {Q}curl{Q}"]


def alb(t: datetime, err: bool, i: int) -> list[str]:
    code = 502 if err else 200
    # The sent bytes are 503 on some good lines: a size, not a status.
    return [f"http {_iso(t)} app/my-lb/50dc6c495c0c9188 192.168.131.39:2817 10.0.0.1:80 0.000 0.001 0.000 {code} {code} 34 "
            f"{503 if i % 4 == 0 else 366} {Q}GET http://www.example.com:80/api/x HTTP/1.1{Q} {Q}curl/7.46.0{Q} - -"]


def gcp(t: datetime, err: bool, i: int) -> list[str]:
    return [json.dumps({"severity": "ERROR" if err else "INFO", "timestamp": _iso(t), "message": "boom" if err else "ok"})]


def pylog(t: datetime, err: bool, i: int) -> list[str]:
    return [f"{t.strftime('%Y-%m-%d %H:%M:%S')},{t.microsecond // 1000:03d} {'ERROR' if err else 'INFO'} [checkout.views] {'Unhandled exception' if err else 'ok'}"]


def logfmt(t: datetime, err: bool, i: int) -> list[str]:
    return [f"ts={_iso(t)} level={'error' if err else 'info'} msg={Q}{'payment failed' if err else 'ok'}{Q} path=/api/pay"]


def logfmt_status(t: datetime, err: bool, i: int) -> list[str]:
    """Request logs at level info whose status says it failed (`status=`, `status_code=`,
    `http.status=`); the duration `503ms` is not a status."""
    key = ("status", "status_code", "http.status")[i % 3]
    return [f"ts={_iso(t)} level=info msg={Q}request done{Q} method=GET path=/api/pay {key}={503 if err else 200} duration=503ms"]


def json_status(t: datetime, err: bool, i: int) -> list[str]:
    """JSON request logs: `status`, `status_code`, ECS `http.response.status_code` and a nested
    `{"http": {"status": ...}}`, all at level info."""
    code = 503 if err else 200
    body: dict[str, object] = {"time": _iso(t), "level": "info", "msg": "request", "bytes": 502, "took_ms": 503}
    shape = i % 4
    if shape == 0:
        body["status"] = code
    elif shape == 1:
        body["status_code"] = str(code)
    elif shape == 2:
        body["http.response.status_code"] = code
    else:
        body["http"] = {"method": "GET", "status": code}
    return [json.dumps(body)]


def rails(t: datetime, err: bool, i: int) -> list[str]:
    return [f"{'E' if err else 'I'}, [{t.strftime('%Y-%m-%dT%H:%M:%S.%f')} #1234] {'ERROR' if err else ' INFO'} -- : {'ActionView::Template::Error' if err else 'Completed 200 OK'}"]


def access(t: datetime, err: bool, i: int) -> list[str]:
    # A good response of 502 bytes is not a 502.
    return [f"10.0.0.1 - - [{t.strftime('%d/%b/%Y:%H:%M:%S')} +0000] {Q}POST /api/checkout HTTP/1.1{Q} {500 if err else 200} {502 if i % 2 else 512} {Q}-{Q} {Q}Mozilla{Q}"]


def syslog(t: datetime, err: bool, i: int) -> list[str]:
    return [f"{t.strftime('%b %d %H:%M:%S')} web01 checkout[123]: {'ERROR payment gateway timeout' if err else 'INFO ok'}"]


STYLES: dict[str, Writer] = {
    "cri.log": cri, "golog.log": golog, "nginx_error.log": nginx_error, "klog.log": klog, "rfc5424.log": rfc5424,
    "envoy.log": envoy, "alb.log": alb, "gcp.jsonl": gcp, "pylog.log": pylog, "logfmt.log": logfmt,
    "logfmt_status.log": logfmt_status, "json_status.jsonl": json_status, "rails.log": rails, "access.log": access,
    "syslog.log": syslog,
}


def write_style(directory: Path, name: str, *, seed: int = 1) -> tuple[Path, int, int]:
    """Write one style's file; return (path, records, error records)."""
    rnd = random.Random(seed)
    lines: list[str] = []
    records = errors = 0
    i = 0
    for m in range(90):
        for k in range(20):
            t = T0 + timedelta(minutes=m, seconds=k * 3, microseconds=rnd.randint(0, 999_999))
            err = (t >= ONSET and rnd.random() < 0.5) or rnd.random() < 0.005
            lines += STYLES[name](t, err, i)
            records += 1
            errors += err
            i += 1
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, records, errors
