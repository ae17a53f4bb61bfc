"""HTTP API for a trained model: `POST /v1/draw` plays one whole session of the console program.

    app = create_app(LottoMachine.from_pretrained("outputs/cpu"))
    uvicorn.run(app, host="127.0.0.1", port=8000)          # or: lotto-gpt serve --model ...

    POST /v1/draw {"money": 8000, "winning": [1, 2, 3, 4, 5, 6], "bonus": 7}
    -> {"tickets": [[...], ...], "counts": {"3": 1, ...}, "prize_total": 5000,
        "return_rate": "62.5%", "stdout": "구입금액을 입력해 주세요.\\n\\n8개를 구매했습니다.\\n...", ...}

The fields are what a user would type: `money` an integer or the line as typed ("8000",
" 08000 "), `winning` a list of six integers or the line as typed ("1, 2, 3, 4, 5, 6"),
`bonus` an integer or the line. They are checked with the program's own rules first; a bad one
is answered with 422 and the program's `[ERROR]` line (`detail`), the field's name (`field`)
and every bad field (`errors`). Wrong JSON types are 422 too, with a plain message.

Safety: the model is fixed when the app is built (no request names a file or a model);
bodies over `max_body_bytes` (16 KiB) get 413; a line over 64 characters gets the console
shell's error. Generation runs on ONE worker thread: requests wait in a queue, and the worker
plays up to `max_batch` of them together (`LottoMachine.play_many`, one batched `generate()`
per turn), waiting up to `batch_wait_ms` for a batch to fill. A full queue answers 503.
"""
from __future__ import annotations

import asyncio
import logging
import queue
import secrets
import threading
import time
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.exceptions import HTTPException
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr

from . import rules
from .cli import work_lines

log = logging.getLogger("lotto_gpt.serving")

MAX_BODY_BYTES = 16 * 1024
MAX_SEED = 2**63 - 1


# ---------------------------------------------------------------- request and response

Ticket = Annotated[list[StrictInt], Field(min_length=6, max_length=6)]


class DrawRequest(BaseModel):
    """One session: the three lines the user types (as values or as typed), optionally the tickets."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "examples": [{"money": 8000, "winning": [1, 2, 3, 4, 5, 6], "bonus": 7},
                     {"money": "8000", "winning": "1,2,3,4,5,6", "bonus": "7", "seed": 42, "show_work": True}]})

    money: StrictInt | StrictStr = Field(description="won, an integer or the line as typed (\"8000\")")
    winning: list[StrictInt] | StrictStr = Field(
        description="six numbers, a list or the line as typed (\"1,2,3,4,5,6\")")
    bonus: StrictInt | StrictStr = Field(description="the bonus number, an integer or the line as typed")
    tickets: list[Ticket] | None = Field(
        default=None, max_length=rules.MAX_TICKETS,
        description="issue these tickets instead of the model's (money / 1,000 of them)")
    seed: StrictInt | None = Field(default=None, ge=0, le=MAX_SEED,
                                   description="seed of the model's ticket sampling (default: random)")
    show_work: StrictBool = Field(default=False, description="also return the hidden work lines")


class DrawResponse(BaseModel):
    tickets: list[list[int] | None] = Field(description="the tickets printed (null for a line that is not a ticket)")
    counts: dict[str, int] | None = Field(description="tickets per rank: keys 3, 4, 5, 5b, 6")
    prize_total: int | None
    return_rate: str | None = Field(description='as printed, e.g. "62.5%"')
    stdout: str = Field(description="exactly what the program prints (no echo of the typed lines)")
    complete: bool = Field(description="the model ended the program properly")
    seed: int
    work: list[str] | None = Field(default=None, description="the hidden work lines (show_work)")


def _as_line(value) -> str:
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)


def typed_lines(req: DrawRequest) -> tuple[list[str], list[dict]]:
    """The three typed lines and the program's errors for them (all fields, in order)."""
    money_line, winning_line, bonus_line = _as_line(req.money), _as_line(req.winning), _as_line(req.bonus)
    errors = []
    _, err = rules.parse_money(money_line)
    if err:
        errors.append({"field": "money", "message": err})
    winning, err = rules.parse_winning(winning_line)
    if err:
        errors.append({"field": "winning", "message": err})
    if winning is not None:
        _, err = rules.parse_bonus(bonus_line, winning)
    else:  # the bonus alone (its own checks; the duplicate check needs a valid draw)
        _, err = rules.parse_bonus(bonus_line, ())
    if err:
        errors.append({"field": "bonus", "message": err})
    return [money_line, winning_line, bonus_line], errors


def _error(status: int, detail: str, field: str | None = None, errors=None) -> JSONResponse:
    body: dict[str, Any] = {"detail": detail}
    if field is not None:
        body["field"] = field
    if errors is not None:
        body["errors"] = errors
    return JSONResponse(body, status_code=status)


# ---------------------------------------------------------------- the generation worker

class QueueFull(Exception):
    pass


class Batcher:
    """One worker thread owns the model: it takes queued sessions in batches and plays them."""

    def __init__(self, machine, max_batch: int = 16, batch_wait_ms: float = 5.0, max_queue: int = 256):
        self.machine = machine
        self.max_batch = max(1, int(max_batch))
        self.wait = max(0.0, batch_wait_ms) / 1000
        self.max_queue = max_queue
        self._q: queue.Queue = queue.Queue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self.batches: list[int] = []  # sizes of the batches played (for tests and /health)

    @property
    def pending(self) -> int:
        return self._q.qsize()

    def start(self) -> None:
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="lotto-generate", daemon=True)
                self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        thread = self._thread
        if thread is not None and thread.is_alive():
            self._q.put(None)
            thread.join(timeout)
        self._thread = None

    async def submit(self, session):
        """Play one session; returns its Play (or raises what playing it raised)."""
        if self._q.qsize() >= self.max_queue:
            raise QueueFull()
        self.start()
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._q.put((session, loop, future))
        return await future

    def _take_batch(self, first) -> list:
        batch = [first]
        deadline = time.monotonic() + self.wait
        while len(batch) < self.max_batch:
            timeout = deadline - time.monotonic()
            try:
                item = self._q.get(timeout=timeout) if timeout > 0 else self._q.get_nowait()
            except queue.Empty:
                break
            if item is None:  # stop after this batch
                self._q.put(None)
                break
            batch.append(item)
        return batch

    @staticmethod
    def _settle(loop, future, result=None, error=None) -> None:
        def settle():
            if future.done():  # the client went away
                return
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(result)

        try:
            loop.call_soon_threadsafe(settle)
        except RuntimeError:  # the event loop is closed
            pass

    def _loop(self) -> None:
        while True:
            first = self._q.get()
            if first is None:
                return
            batch = [item for item in self._take_batch(first) if not item[2].cancelled()]
            if not batch:
                continue
            self.batches.append(len(batch))
            try:
                plays = self.machine.play_many([item[0] for item in batch], batch_size=self.max_batch)
            except Exception:  # one bad session must not fail the others: play them one by one
                log.exception("batch failed; playing its sessions one by one")
                for session, loop, future in batch:
                    try:
                        play = self.machine.play_many([session], batch_size=1)[0]
                    except Exception as exc:
                        self._settle(loop, future, error=exc)
                    else:
                        self._settle(loop, future, result=play)
                continue
            for (session, loop, future), play in zip(batch, plays):
                self._settle(loop, future, result=play)


# ---------------------------------------------------------------- body size limit

class BodyLimit:
    """ASGI middleware: 413 for a body over `max_bytes` (by Content-Length, or while streaming)."""

    def __init__(self, app, max_bytes: int = MAX_BODY_BYTES):
        self.app = app
        self.max_bytes = max_bytes

    async def _reject(self, send) -> None:
        body = ('{"detail":"request body too large (limit %d bytes)"}' % self.max_bytes).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    too_big = int(value) > self.max_bytes
                except ValueError:
                    too_big = True
                if too_big:
                    return await self._reject(send)
        received = 0
        started = False

        async def limited_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # re-raised by FastAPI's body reader, rendered as 413 by its exception middleware
                    raise HTTPException(413, f"request body too large (limit {self.max_bytes} bytes)")
            return message

        async def tracked_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracked_send)
        except HTTPException as exc:  # raised outside a route (no handler turned it into a response)
            if exc.status_code != 413 or started:
                raise
            await self._reject(send)


# ---------------------------------------------------------------- the app

def create_app(machine, model_id: str | None = None, max_batch: int = 16, batch_wait_ms: float = 5.0,
               max_queue: int = 256, max_body_bytes: int = MAX_BODY_BYTES) -> FastAPI:
    """The FastAPI app serving `machine` (a LottoMachine, fixed for the app's life)."""
    batcher = Batcher(machine, max_batch=max_batch, batch_wait_ms=batch_wait_ms, max_queue=max_queue)

    @asynccontextmanager
    async def lifespan(app):
        batcher.start()
        yield
        await asyncio.get_running_loop().run_in_executor(None, batcher.stop)

    app = FastAPI(
        title="lotto-gpt",
        version="0.1.0",
        summary="A tiny GPT that is the Woowa Tech Course lotto console program.",
        description=__doc__.split("\n\n", 1)[0],
        lifespan=lifespan,
    )
    app.state.machine = machine
    app.state.batcher = batcher

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError):
        errors = []
        for e in exc.errors():
            loc = list(e.get("loc", ()))
            loc = loc[1:] if loc[:1] == ["body"] else loc
            if not loc or not isinstance(loc[0], str):  # the body itself (not JSON, not an object)
                loc = ["body"]
            errors.append({"field": ".".join(map(str, loc)), "message": e.get("msg", "invalid"),
                           "type": e.get("type")})
        hints = {
            "money": "money must be an integer or a string (the line as typed)",
            "winning": "winning must be a list of integers or a string (the line as typed)",
            "bonus": "bonus must be an integer or a string (the line as typed)",
            "tickets": f"tickets must be a list of up to {rules.MAX_TICKETS} lists of six integers",
            "seed": f"seed must be an integer in 0..{MAX_SEED}",
            "show_work": "show_work must be true or false",
        }
        first = errors[0] if errors else {"field": "body", "message": "invalid request"}
        field = first["field"].split(".")[0]
        if errors and errors[0].get("type") == "missing":
            detail = f"{field} is required"
        elif errors and errors[0].get("type") == "extra_forbidden":
            detail = f"unknown field {field!r}: the fields are money, winning, bonus, tickets, seed, show_work"
        elif field in hints:
            detail = hints[field]
        else:
            detail = "the body must be a JSON object: {\"money\": ..., \"winning\": ..., \"bonus\": ...}"
        return _error(422, detail, field, errors)

    @app.get("/health")
    async def health():
        return {"status": "ok", "model": model_id, "format": machine.fmt, "queued": batcher.pending}

    @app.post("/v1/draw", response_model=DrawResponse, response_model_exclude_none=False,
              responses={413: {"description": "body too large"}, 422: {"description": "a bad field"},
                         503: {"description": "too many requests waiting"}})
    async def draw(req: DrawRequest):
        """Play one session: the model issues the tickets (or prints the given ones), then judges the draw."""
        lines, errors = typed_lines(req)
        if errors:
            return _error(422, errors[0]["message"], errors[0]["field"], errors)
        tickets = [tuple(t) for t in req.tickets] if req.tickets is not None else None
        if tickets is not None:
            try:
                rules.play(lines, tickets=tickets, seed=0)
            except ValueError as exc:
                return _error(422, str(exc), "tickets")
        seed = req.seed if req.seed is not None else secrets.randbelow(2**31)
        from .generation import Session

        try:
            play = await batcher.submit(Session(lines, tickets, seed))
        except QueueFull:
            return _error(503, "too many requests waiting; try again")
        except ValueError as exc:
            return _error(422, str(exc))
        return {
            "tickets": [list(t) if t is not None else None for t in play.tickets],
            "counts": play.counts,
            "prize_total": play.prize_total,
            "return_rate": play.return_rate,
            "stdout": play.stdout,
            "complete": play.complete,
            "seed": seed,
            "work": work_lines(play.text) if req.show_work and play.fmt == "transcript" else None,
        }

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def page():
        return PAGE

    if max_body_bytes:
        app.add_middleware(BodyLimit, max_bytes=max_body_bytes)
    return app


PAGE = """<!doctype html>
<html lang="ko"><head><meta charset="utf-8"><title>lotto-gpt</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem}
label{display:block;margin:.5rem 0}input{font:inherit;width:16rem}
pre{background:#111;color:#eee;padding:1rem;white-space:pre-wrap;min-height:6rem}</style></head>
<body><h1>lotto-gpt</h1>
<p>A tiny GPT that is the lotto console program. Type what you would type; the model prints.</p>
<form id="f"><label>구입금액 <input name="money" value="8000"></label>
<label>당첨 번호 <input name="winning" value="1,2,3,4,5,6"></label>
<label>보너스 번호 <input name="bonus" value="7"></label>
<button>Play</button> <a href="/docs">API docs</a></form>
<pre id="out"></pre>
<script>
document.getElementById("f").onsubmit = async (e) => {
  e.preventDefault();
  const f = new FormData(e.target), out = document.getElementById("out");
  out.textContent = "...";
  const r = await fetch("/v1/draw", {method: "POST", headers: {"content-type": "application/json"},
    body: JSON.stringify({money: f.get("money"), winning: f.get("winning"), bonus: f.get("bonus")})});
  const j = await r.json();
  out.textContent = r.ok ? j.stdout : (j.detail || JSON.stringify(j));
};
</script></body></html>
"""
