"""A loopback fake of the Messages API, for driving the real `anthropic` SDK end to end.

A stdlib HTTP server on 127.0.0.1:<free port> answers `POST /v1/messages` from a queue of
scripted turns, as JSON or as an SSE stream (`"stream": true`), and records every request
(headers and JSON body). Turns: a message (text and/or tool_use blocks; several tool_use
blocks make a parallel call), an HTTP error with a status and headers, a stream that breaks
mid-way with `event: error` or by closing the connection, and a delay (to cause timeouts).
A turn may also be a function of the request, for answers that depend on what was sent.

Usage is estimated (characters / 4) and prompt caching is emulated: a prefix up to a
`cache_control` breakpoint seen before is reported as read from cache, a new one as written.

`fake_anthropic` is a pytest fixture: import `fake_anthropic_fixture` into a test module explicitly.
"""

from __future__ import annotations

import hashlib
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

FAKE_KEY = "fake-test-key-not-a-secret"


@dataclass
class Turn:
    """One scripted answer. `content` holds API content blocks (text / tool_use)."""

    content: list[dict[str, Any]] = field(default_factory=list)
    stop_reason: str | None = "end_turn"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    error_type: str = "api_error"
    error_message: str = "fake error"
    delay: float = 0.0  # seconds before answering at all
    break_after: int | None = None  # SSE: events sent before an `event: error`
    close_after: int | None = None  # SSE: events sent before the connection is dropped
    chunk_delay: float = 0.0  # SSE: pause between events


Responder = Callable[[dict[str, Any]], Turn]


def text(s: str, stop: str = "end_turn", **kw: Any) -> Turn:
    return Turn(content=[{"type": "text", "text": s}], stop_reason=stop, **kw)


def tool_calls(*calls: tuple[str, dict[str, Any]], preamble: str = "", **kw: Any) -> Turn:
    """An assistant turn calling tools; several calls are one parallel turn."""
    blocks: list[dict[str, Any]] = [{"type": "text", "text": preamble}] if preamble else []
    for name, args in calls:
        uid = "toolu_" + hashlib.sha1(f"{name}{json.dumps(args, sort_keys=True)}{time.monotonic_ns()}".encode()).hexdigest()[:20]
        blocks.append({"type": "tool_use", "id": uid, "name": name, "input": args})
    return Turn(content=blocks, stop_reason="tool_use", **kw)


def error(status: int, error_type: str = "api_error", *, retry_after: float | None = None, **kw: Any) -> Turn:
    headers = {"retry-after": f"{retry_after:g}"} if retry_after is not None else {}
    kw.setdefault("error_message", f"fake {status}")
    return Turn(status=status, error_type=error_type, headers=headers, **kw)


def overloaded(**kw: Any) -> Turn:
    return error(529, "overloaded_error", **kw)


def broken_stream(partial: str = "Looking at the", after: int = 3) -> Turn:
    """A stream that sends `after` events (some text) and then `event: error` (overloaded)."""
    return Turn(content=[{"type": "text", "text": partial}], break_after=after, error_type="overloaded_error")


def dropped_stream(partial: str = "Looking at the", after: int = 3) -> Turn:
    """A stream whose connection closes after `after` events, with no message_stop."""
    return Turn(content=[{"type": "text", "text": partial}], close_after=after)


def estimate_tokens(obj: Any) -> int:
    s = obj if isinstance(obj, str) else json.dumps(obj, separators=(",", ":"), sort_keys=True)
    return max(1, len(s) // 4)


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    at: float


class FakeAnthropic:
    """The server, its script and its record. Start with `start()`, stop with `stop()`."""

    def __init__(self) -> None:
        self.turns: list[Turn | Responder] = []
        self.requests: list[Recorded] = []
        self.default: Turn | Responder | None = None  # answered when the queue is empty
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._cache: set[str] = set()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- script and record

    def script(self, *turns: Turn | Responder) -> FakeAnthropic:
        with self._lock:
            self.turns.extend(turns)
        return self

    @property
    def bodies(self) -> list[dict[str, Any]]:
        return [r.body for r in self.requests if r.path == "/v1/messages"]

    def wire_text(self) -> str:
        """Every request body as sent, concatenated: for asserting what crossed the wire."""
        return "\n".join(json.dumps(r.body) for r in self.requests)

    def _next(self, body: dict[str, Any]) -> Turn:
        with self._lock:
            item = self.turns.pop(0) if self.turns else self.default
        if item is None:
            return error(400, "invalid_request_error")
        return item(body) if callable(item) else item

    # -- lifecycle

    @property
    def base_url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeAnthropic:
        fake = self

        class Handler(_Handler):
            owner = fake

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        server.block_on_close = False
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    # -- usage with emulated prompt caching

    def usage_for(self, body: dict[str, Any]) -> dict[str, int]:
        parts = [("tools", t) for t in body.get("tools") or []]
        system = body.get("system")
        parts += [("system", b) for b in (system if isinstance(system, list) else [system] if system else [])]
        for m in body.get("messages", []):
            content = m["content"] if isinstance(m["content"], list) else [{"type": "text", "text": m["content"]}]
            parts += [(m["role"], b) for b in content]
        total = sum(estimate_tokens(p) for p in parts)
        h = hashlib.sha256()
        read = write = running = 0
        for role, part in parts:
            h.update(json.dumps([role, part], sort_keys=True).encode())
            running += estimate_tokens(part)
            if isinstance(part, dict) and part.get("cache_control"):
                key = h.hexdigest()
                with self._lock:
                    if key in self._cache:
                        read = running
                        write = 0
                    else:
                        self._cache.add(key)
                        write = running - read
        return {"input_tokens": total - read - write, "cache_read_input_tokens": read, "cache_creation_input_tokens": write}


class _Handler(BaseHTTPRequestHandler):
    owner: FakeAnthropic
    protocol_version = "HTTP/1.0"  # the connection closes after each answer: no keep-alive state

    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        pass

    def do_POST(self) -> None:
        fake = self.owner
        raw = self.rfile.read(int(self.headers.get("content-length") or 0))
        try:
            body = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            body = {"_unparsed": raw.decode("utf-8", "replace")}
        with fake._lock:
            fake.requests.append(Recorded(self.path, {k.lower(): v for k, v in self.headers.items()}, body, time.monotonic()))
        path = self.path.split("?")[0]
        if path == "/v1/messages/count_tokens":
            return self._json(200, {"input_tokens": sum(fake.usage_for(body).values())})
        if path != "/v1/messages":
            return self._json(404, {"type": "error", "error": {"type": "not_found_error", "message": self.path}})
        turn = fake._next(body)
        if turn.delay and fake._stop.wait(turn.delay):
            return
        if turn.status != 200:
            payload = {"type": "error", "error": {"type": turn.error_type, "message": turn.error_message}}
            return self._json(turn.status, payload, turn.headers)
        usage = fake.usage_for(body)
        out_tokens = sum(estimate_tokens(b) for b in turn.content)
        message = {
            "id": "msg_fake_" + hashlib.sha1(str(time.monotonic_ns()).encode()).hexdigest()[:16],
            "type": "message",
            "role": "assistant",
            "model": body.get("model", "fake"),
            "content": turn.content,
            "stop_reason": turn.stop_reason,
            "stop_sequence": None,
            "usage": {**usage, "output_tokens": out_tokens},
        }
        if body.get("stream"):
            return self._sse(turn, message)
        return self._json(200, message, turn.headers)

    def _json(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.send_header("request-id", "req_fake")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self._write(data)

    def _sse(self, turn: Turn, message: dict[str, Any]) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.end_headers()
        for i, (event, data) in enumerate(sse_events(message)):
            if turn.break_after is not None and i == turn.break_after:
                err = {"type": "error", "error": {"type": turn.error_type, "message": "fake mid-stream error"}}
                self._write(f"event: error\ndata: {json.dumps(err)}\n\n".encode())
                return
            if turn.close_after is not None and i == turn.close_after:
                return
            if turn.chunk_delay and self.owner._stop.wait(turn.chunk_delay):
                return
            if not self._write(f"event: {event}\ndata: {json.dumps(data)}\n\n".encode()):
                return

    def _write(self, data: bytes) -> bool:
        try:
            self.wfile.write(data)
            self.wfile.flush()
            return True
        except (BrokenPipeError, ConnectionResetError):
            return False


def sse_events(message: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """The event sequence the real API sends for `message`, text and tool input in pieces."""
    start = {**message, "content": [], "stop_reason": None, "usage": {**message["usage"], "output_tokens": 1}}
    yield "message_start", {"type": "message_start", "message": start}
    yield "ping", {"type": "ping"}
    for i, block in enumerate(message["content"]):
        if block["type"] == "text":
            yield "content_block_start", {"type": "content_block_start", "index": i, "content_block": {"type": "text", "text": ""}}
            s = block["text"]
            for j in range(0, len(s), 16) or [0]:
                yield "content_block_delta", {"type": "content_block_delta", "index": i, "delta": {"type": "text_delta", "text": s[j : j + 16]}}
        elif block["type"] == "tool_use":
            empty = {**block, "input": {}}
            yield "content_block_start", {"type": "content_block_start", "index": i, "content_block": empty}
            js = json.dumps(block["input"])
            for j in range(0, len(js), 12):
                yield "content_block_delta", {"type": "content_block_delta", "index": i, "delta": {"type": "input_json_delta", "partial_json": js[j : j + 12]}}
        yield "content_block_stop", {"type": "content_block_stop", "index": i}
    delta_usage = {"output_tokens": message["usage"]["output_tokens"]}
    yield "message_delta", {"type": "message_delta", "delta": {"stop_reason": message["stop_reason"], "stop_sequence": None}, "usage": delta_usage}
    yield "message_stop", {"type": "message_stop"}


def closed_port() -> int:
    """A loopback port nothing listens on (connection refused)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.fixture(name="fake_anthropic")
def fake_anthropic_fixture(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> Iterator[FakeAnthropic]:
    """A running fake with the SDK's environment pointed at it (and no on-disk profile)."""
    fake = FakeAnthropic().start()
    monkeypatch.setenv("ANTHROPIC_BASE_URL", fake.base_url)
    monkeypatch.setenv("ANTHROPIC_API_KEY", FAKE_KEY)
    monkeypatch.setenv("ANTHROPIC_CONFIG_DIR", str(tmp_path / "anthropic-config"))
    for var in ("ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_PROFILE", "ANTHROPIC_LOG", "ANTHROPIC_CUSTOM_HEADERS"):
        monkeypatch.delenv(var, raising=False)
    try:
        yield fake
    finally:
        fake.stop()
