"""The Claude engine: our own tool-use loop over the Messages API (the only module importing anthropic).

One phase is a short conversation: the cached system prompt and read-only tools, the rendered
phase prompt, then up to `max_steps` requests. Parallel tool calls run concurrently and are
answered in one user turn; the last step forbids tools so the model must answer; the answer is
validated into the phase's output model (re-asked once). Every request body passes
`redact_request` in `_send`, right before the SDK call. API faults are retried within a
wall-clock budget, then `EngineFailed` lets the session fall back to the offline engine.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from incident.engines.base import Brief, EngineFailed, PhaseAnswer
from incident.engines.claude_support import (
    EPHEMERAL,
    add_usage,
    api_error_message,
    api_error_type,
    estimate_cost,
    fence,
    mark_last_block,
    parse_answer,
    redact_request,
    retry_after_seconds,
    strip_cache_marks,
    system_prompt,
    tool_result,
    unvet,
)
from incident.errors import EngineUnavailable
from incident.models import PhaseOutput, Usage
from incident.redact import redact_json

if TYPE_CHECKING:
    from incident.phases import PhaseSpec
    from incident.tools.base import Toolbox

MAX_TOKENS = 8192
READ_TIMEOUT = 90.0  # seconds between bytes of a streamed answer
RETRY_STATUSES = {408, 409, 429}
MAX_PARALLEL_TOOLS = 8
# Tool output one phase may send (~5k tokens): with the prompt, a phase's evidence stays under
# 8k tokens however large the logs are and however many calls the model makes.
TOOL_BUDGET_CHARS = 20_000


class _Broken(Exception):
    """A stream that ended without `message_stop`."""


class ClaudeEngine:
    name = "claude"

    def __init__(
        self,
        *,
        model: str,
        api_key: str,
        base_url: str | None = None,
        max_steps: int = 8,
        budget_seconds: float = 60.0,
        on_text: Callable[[str], None] | None = None,
        on_tool: Callable[[str, dict[str, Any]], None] | None = None,
        client: Any = None,
        max_tokens: int = MAX_TOKENS,
        request_timeout: float = READ_TIMEOUT,
        tool_budget_chars: int = TOOL_BUDGET_CHARS,
        sleep: Callable[[float], None] = time.sleep,
    ):
        if client is None and not (api_key or "").strip():
            # The SDK would build a client and fail only at the first request, with a TypeError.
            raise EngineUnavailable(
                "the claude engine needs an API key",
                "set ANTHROPIC_API_KEY (or use --engine offline, the default without a key)",
            )
        self.model = model
        self.api_key = api_key.strip() if api_key else ""
        self.base_url = base_url
        self.max_steps = max(1, max_steps)
        self.budget_seconds = budget_seconds
        self.on_text = on_text
        self.on_tool = on_tool
        self.max_tokens = max_tokens
        self.request_timeout = request_timeout
        self.tool_budget_chars = tool_budget_chars
        self._client = client
        self._sleep = sleep
        self._structured = True  # cleared when a server rejects output_config
        self._failed_before = False  # after one phase spent its budget, later phases try once
        self._priced_note_given = False

    # ------------------------------------------------------------------ the SDK

    @property
    def client(self) -> Any:
        if self._client is None:
            import anthropic

            # max_retries=0: the SDK would honour any retry-after however large; we retry ourselves
            # within the budget. Tracing off: span exporters would be a second way out for prompts.
            self._client = anthropic.Anthropic(
                api_key=self.api_key, base_url=self.base_url, max_retries=0, open_telemetry=False
            )
        return self._client

    def _send(self, run: _Run, body: dict[str, Any], deadline: float, *, first: bool) -> Any:
        """THE choke point: redact the whole body, then one streamed request. Returns the Message."""
        import httpx2

        body, n = redact_request(body)
        if first:  # a retry sends the same bytes again: count its redactions once
            run.usage.redactions += n
        run.messages = strip_cache_marks(body["messages"])  # history is kept as sent
        remaining = max(0.5, deadline - time.monotonic())
        timeout = httpx2.Timeout(min(self.request_timeout, remaining), connect=min(5.0, remaining))
        streamed = False
        with self.client.messages.stream(**body, timeout=timeout) as stream:
            for event in stream:
                if event.type == "text" and self.on_text is not None and event.text:
                    streamed = True
                    self.on_text(event.text)
            message = stream.get_final_message()
        if message.stop_reason is None:
            raise _Broken("the stream ended before the message was complete")
        if streamed and self.on_text is not None:
            self.on_text("\n")
        return message

    def _call(self, run: _Run, body: dict[str, Any]) -> Any:
        """`_send` with retries on transient faults, never waiting past the phase's deadline."""
        import anthropic

        attempt = 0
        deadline = time.monotonic() + self.budget_seconds
        tried = False
        while True:
            try:
                message = self._send(run, body, deadline, first=not tried)
            except Exception as e:
                tried = True
                if (
                    isinstance(e, anthropic.BadRequestError)
                    and "output_config" in body
                    and any(w in str(e) for w in ("output_config", "json_schema", "format"))
                ):
                    self._structured = False  # a compatible server without structured output
                    body = {k: v for k, v in body.items() if k != "output_config"}
                    continue
                retryable, reason, wait = _classify(e)
                attempt += 1
                if not retryable:
                    raise EngineFailed(reason) from e
                wait = wait if wait is not None else min(8.0, 0.5 * 2 ** (attempt - 1)) * (0.5 + random.random() / 2)
                if self._failed_before or time.monotonic() + wait >= deadline:
                    self._failed_before = True
                    raise EngineFailed(f"{reason}; gave up after {attempt} attempt(s)") from e
                if self.on_text is not None and run.streamed_partial(e):
                    self.on_text("\n[stream interrupted; retrying]\n")
                self._sleep(wait)
                continue
            add_usage(run.usage, message.usage)
            self._failed_before = False
            return message

    # ------------------------------------------------------------------ a phase

    def run_phase(self, spec: PhaseSpec, brief: Brief, prompt: str, toolbox: Toolbox) -> PhaseAnswer:
        run = _Run(self, spec, prompt, toolbox)
        output = run.loop()
        return PhaseAnswer(
            output=unvet(output), engine=self.name, usage=self._priced(run.usage), transcript=run.transcript,
            notice=self._price_notice(),
        )

    def complete_text(self, system: str, prompt: str) -> tuple[str, Usage]:
        """One plain streamed request with no tools (narrative sections); redacted like every other."""
        run = _Run(self, None, prompt, None, system=system)
        message = self._call(run, run.body(final=True))
        text = "".join(b.text for b in message.content if getattr(b, "type", "") == "text")
        if message.stop_reason == "refusal":
            raise EngineFailed("the model declined to answer")
        return text.strip(), self._priced(run.usage)

    def _priced(self, usage: Usage) -> Usage:
        cost = estimate_cost(self.model, usage)
        return usage.model_copy(update={"cost_usd": cost or 0.0})

    def _price_notice(self) -> str | None:
        if estimate_cost(self.model, Usage()) is not None or self._priced_note_given:
            return None
        self._priced_note_given = True
        return f"no price is known for model {self.model}; its cost is not estimated (shown as 0)"


PHASE_MARKER = "<!-- incident:phase -->"


def _prompt_blocks(prompt: str) -> list[dict[str, Any]]:
    """The incident context (same for every phase once assessed) as its own cached block, then
    the phase's part; a prompt without the marker is one block."""
    head, sep, tail = prompt.partition(PHASE_MARKER)
    if not (sep and head.strip() and tail.strip()):
        return [{"type": "text", "text": prompt}]
    return [{"type": "text", "text": head.rstrip() + "\n", "cache_control": EPHEMERAL}, {"type": "text", "text": tail.lstrip()}]


class _Run:
    """The state of one phase's conversation."""

    def __init__(self, engine: ClaudeEngine, spec: PhaseSpec | None, prompt: str, toolbox: Toolbox | None,
                 *, system: str | None = None):
        self.engine = engine
        self.spec = spec
        self.toolbox = toolbox
        self.system = system if system is not None else system_prompt()
        self.messages: list[dict[str, Any]] = [{"role": "user", "content": _prompt_blocks(prompt)}]
        self.usage = Usage()
        self.transcript: list[dict[str, Any]] = []
        self.seen: dict[str, int] = {}  # exact calls already made -> the step that made them
        # Every phase declares the same tools in the same order, so the cached prefix (tools,
        # system, the incident context) is shared by all phases; a call to a tool this phase
        # does not allow is refused as an error result instead.
        from incident.phases import ALL_TOOLS

        self.tools = [t for t in toolbox.schemas() if t["name"] in ALL_TOOLS] if toolbox is not None else []
        self.declared = {t["name"] for t in self.tools}
        self.allowed = set(spec.tools) & self.declared if spec is not None else set()
        self.reasked = False
        self.tool_chars = 0  # tool output sent so far in this phase

    def streamed_partial(self, e: Exception) -> bool:
        return getattr(e, "status_code", None) == 200 or isinstance(e, _Broken)

    def body(self, *, final: bool) -> dict[str, Any]:
        """A request: cached system and tools, the history with a cache mark on its last block."""
        body: dict[str, Any] = {
            "model": self.engine.model,
            "max_tokens": self.engine.max_tokens,
            "system": [{"type": "text", "text": self.system, "cache_control": EPHEMERAL}],
            "messages": mark_last_block(self.messages),
        }
        if self.tools:
            body["tools"] = [*self.tools[:-1], {**self.tools[-1], "cache_control": EPHEMERAL}]
            # The last step offers no tool: `none` rather than omitting `tools`, which the API
            # rejects once the history holds tool_use blocks (and would lose the cached prefix).
            body["tool_choice"] = {"type": "none"} if final else {"type": "auto"}
        if final and self.spec is not None and self.engine._structured:
            import anthropic

            schema = anthropic.transform_schema(self.spec.output_model)
            body["output_config"] = {"format": {"type": "json_schema", "schema": schema}}
        return body

    def loop(self) -> PhaseOutput:
        assert self.spec is not None
        for step in range(1, self.engine.max_steps + 1):
            final = step == self.engine.max_steps or not (self.tools and self.allowed)
            message = self.engine._call(self, self.body(final=final))
            calls = [b for b in message.content if getattr(b, "type", "") == "tool_use"]
            self._append_assistant(message)
            if message.stop_reason in ("refusal", "model_context_window_exceeded"):
                raise EngineFailed(f"the model stopped: {message.stop_reason}")
            if calls and not final:
                self._append_user(self._run_tools(calls, step))
                continue
            if message.stop_reason == "pause_turn" and not final:
                continue
            if calls:  # the model called tools though none were offered: answer, and ask again
                refused = "no more tool calls: the step limit is reached. Answer now with the JSON object."
                self._append_user([tool_result(c.id, refused, True) for c in calls])
            return self._answer(message, refused_calls=bool(calls))
        raise AssertionError("unreachable: the last step always returns or raises")

    def _answer(self, message: Any, *, refused_calls: bool) -> PhaseOutput:
        assert self.spec is not None
        text = "".join(b.text for b in message.content if getattr(b, "type", "") == "text")
        try:
            if refused_calls:
                raise ValueError("tools were called on the last step instead of answering")
            return parse_answer(text, self.spec.output_model)
        except ValueError as e:
            if self.reasked:
                raise EngineFailed(f"the answer for {self.spec.name} did not validate: {e}") from None
            self.reasked = True
            cut = " It was cut off at the token limit: be shorter." if message.stop_reason == "max_tokens" else ""
            if not refused_calls:
                self._append_user([{"type": "text", "text": (
                    f"Your answer could not be used: {e}.{cut} Reply with only the corrected JSON object "
                    "for this phase's schema, in a ```json block."
                )}])
            retry = self.engine._call(self, self.body(final=True))
            self._append_assistant(retry)
            if any(getattr(b, "type", "") == "tool_use" for b in retry.content):
                raise EngineFailed(f"the model kept calling tools instead of answering {self.spec.name}") from None
            return self._answer(retry, refused_calls=False)

    def _append_assistant(self, message: Any) -> None:
        blocks = []
        for b in message.content:
            kind = getattr(b, "type", "")
            if kind == "text":
                if b.text:
                    blocks.append({"type": "text", "text": b.text})
            elif kind == "tool_use":
                blocks.append({"type": "tool_use", "id": b.id, "name": b.name, "input": b.input})
            else:
                blocks.append(b.to_dict())
        if blocks:
            self.messages.append({"role": "assistant", "content": blocks})

    def _append_user(self, blocks: list[dict[str, Any]]) -> None:
        if self.messages and self.messages[-1]["role"] == "user":
            self.messages[-1] = {"role": "user", "content": [*self.messages[-1]["content"], *blocks]}
        else:
            self.messages.append({"role": "user", "content": blocks})

    def _run_tools(self, calls: list[Any], step: int) -> list[dict[str, Any]]:
        """Run a turn's tool calls concurrently; all results go back in one user turn, in order."""
        assert self.toolbox is not None
        results: list[dict[str, Any] | None] = [None] * len(calls)
        fresh: list[int] = []
        # Unknown names fall through to the toolbox, which answers "unknown tool"; a toolbox tool
        # that is not a phase tool, or not this phase's, is refused without running.
        toolbox_names = set(self.toolbox.tools)
        for i, c in enumerate(calls):
            args = c.input if isinstance(c.input, dict) else {}
            key = json.dumps([c.name, args], sort_keys=True, default=str)
            refusal = None
            if c.name in toolbox_names and c.name not in self.allowed:
                phase = self.spec.name if self.spec is not None else "this"
                refusal = (f"refused: {c.name} is not available in the {phase} phase; "
                           f"use one of: {', '.join(sorted(self.allowed)) or 'none'}")
            elif key in self.seen:
                refusal = (f"refused: exact duplicate of a call made at step {self.seen[key]}; its result is "
                           "above. Use it, or call with different arguments.")
            elif self.tool_chars >= self.engine.tool_budget_chars:
                refusal = ("refused: this phase's evidence budget is spent. Answer with the evidence above "
                           "and the facts in the prompt; say what is still unknown.")
            if refusal is not None:
                results[i] = tool_result(c.id, refusal, True)
                self._record(step, c.name, args, "refused", False)
                continue
            self.seen[key] = step
            fresh.append(i)
            if self.engine.on_tool is not None:
                self.engine.on_tool(c.name, args)
        toolbox = self.toolbox
        with ThreadPoolExecutor(max_workers=max(1, min(MAX_PARALLEL_TOOLS, len(fresh)))) as pool:
            futures = {i: pool.submit(toolbox.run, calls[i].name, calls[i].input if isinstance(calls[i].input, dict) else {})
                       for i in fresh}
            for i, fut in futures.items():
                r = fut.result()  # Toolbox.run turns every failure into a result
                self.usage.redactions += r.redactions  # redacted inside the tool, before the choke point
                body, cut = self._within_budget(r.text)
                results[i] = tool_result(calls[i].id, fence(r.tool, r.status, body, r.truncated or cut), r.status == "error")
                self._record(step, calls[i].name, calls[i].input, r.status, r.truncated or cut, len(body))
        return [r for r in results if r is not None]

    def _within_budget(self, text: str) -> tuple[str, bool]:
        left = self.engine.tool_budget_chars - self.tool_chars
        if len(text) <= left:
            self.tool_chars += len(text)
            return text, False
        head = text[: max(0, left)]
        if "\n" in head[len(head) // 2 :]:
            head = head[: head.rfind("\n")]
        self.tool_chars = self.engine.tool_budget_chars
        note = (f"[evidence budget for this phase reached: {len(text) - len(head)} more characters not shown; "
                "answer with what you have or ask a narrower question]")
        return f"{head}\n{note}".lstrip("\n"), True

    def _record(self, step: int, name: str, args: Any, status: str, truncated: bool, chars: int = 0) -> None:
        safe_args, _ = redact_json(args)
        self.transcript.append(
            {"step": step, "name": name, "input": safe_args, "status": status, "truncated": truncated, "chars": chars}
        )


def _classify(e: Exception) -> tuple[bool, str, float | None]:
    """(retry?, reason for the operator, seconds the server asked us to wait)."""
    import anthropic
    import httpx2

    if isinstance(e, anthropic.APITimeoutError):
        return True, "the API timed out", None
    if isinstance(e, anthropic.APIConnectionError):
        return True, "cannot reach the API (connection failed)", None
    if isinstance(e, anthropic.APIStatusError):
        status = e.status_code
        kind = api_error_type(e)
        if status == 200:  # an `event: error` in the middle of a stream; the SDK does not retry it
            fatal = kind in ("invalid_request_error", "authentication_error", "permission_error")
            return not fatal, f"the stream broke ({kind or 'error'})", None
        if status in RETRY_STATUSES or status >= 500:
            label = {429: "rate limited (429)", 529: "overloaded (529)"}.get(status, f"API error {status}")
            return True, label, retry_after_seconds(e.response)
        if status in (401, 403):
            return False, f"the API key was refused ({status})", None
        return False, f"the API rejected the request ({status} {kind or ''}: {api_error_message(e)})".replace(" :", ":"), None
    if isinstance(e, (_Broken, httpx2.TransportError)):
        return True, f"the stream broke ({e.__class__.__name__})", None
    return False, f"unexpected error from the API client ({e.__class__.__name__}: {e})", None
