"""`lotto-gpt serve`: the FastAPI app on a real uvicorn server (127.0.0.1, a free port).

The app serves the rule-engine oracle LM of test_generation (a perfect model) from a server
thread; the batching worker is also checked alone with a fake machine. The real command runs
once as a subprocess with a tiny random model saved to disk (validation, 413, a draw's shape).
"""
from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from conftest import save_tiny_model
import uvicorn

from lotto_gpt import rules
from lotto_gpt.rules import Msg
from lotto_gpt.serving import Batcher, create_app

ROOT = Path(__file__).resolve().parents[1]
SPEC_TICKETS = [
    [8, 21, 23, 41, 42, 43], [3, 5, 11, 16, 32, 38], [7, 11, 16, 35, 36, 44], [1, 8, 11, 31, 41, 42],
    [13, 14, 16, 38, 42, 45], [7, 11, 30, 40, 42, 43], [2, 13, 22, 32, 38, 45], [1, 3, 5, 14, 22, 45],
]


def _socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@pytest.fixture(scope="module")
def server():
    """A real uvicorn server in a thread, on a socket bound to a free port; yields its URL."""
    from test_generation import oracle_machine

    app = create_app(oracle_machine(), model_id="oracle", max_batch=8, batch_wait_ms=20)
    sock = _socket()
    srv = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not srv.started:
        assert thread.is_alive() and time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    host, port = sock.getsockname()
    yield f"http://{host}:{port}", app
    srv.should_exit = True
    thread.join(30)
    sock.close()


@pytest.fixture(scope="module")
def client(server):
    with httpx.Client(base_url=server[0], timeout=120) as c:
        yield c


def console(lines, tickets):
    return rules.console_text(rules.play(lines, tickets=[tuple(t) for t in tickets]))


# ---------------------------------------------------------------- health, docs, page

def test_health_docs_and_page(client):
    r = client.get("/health")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "model": "oracle", "format": "transcript", "queued": 0}
    assert client.get("/docs").status_code == 200
    spec = client.get("/openapi.json").json()
    assert "/v1/draw" in spec["paths"] and "/health" in spec["paths"]
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert 'fetch("/v1/draw"' in page.text


# ---------------------------------------------------------------- draws

def test_draw_with_given_tickets_is_the_spec_run(client):
    r = client.post("/v1/draw", json={"money": 8000, "winning": [1, 2, 3, 4, 5, 6], "bonus": 7,
                                      "tickets": SPEC_TICKETS})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["tickets"] == SPEC_TICKETS
    assert body["counts"] == {"3": 1, "4": 0, "5": 0, "5b": 0, "6": 0}
    assert body["prize_total"] == 5000 and body["return_rate"] == "62.5%"
    assert body["stdout"] == console(["8000", "1,2,3,4,5,6", "7"], SPEC_TICKETS)
    assert body["complete"] is True and body["work"] is None
    assert set(body) == {"tickets", "counts", "prize_total", "return_rate", "stdout", "complete", "seed", "work"}


def test_draw_fields_as_typed_and_model_tickets(client):
    req = {"money": " 03000 ", "winning": "1, 2 ,3,4,5,6", "bonus": " 07", "seed": 11, "show_work": True}
    body = client.post("/v1/draw", json=req).json()
    assert len(body["tickets"]) == 3 and all(rules.is_valid_ticket(t) for t in body["tickets"])
    assert body["seed"] == 11
    assert body["stdout"] == console([" 03000 ", "1, 2 ,3,4,5,6", " 07"], body["tickets"])
    run = rules.play(["3000", "1,2,3,4,5,6", "7"], tickets=[tuple(t) for t in body["tickets"]])
    assert body["counts"] == run.counts and body["prize_total"] == run.prize
    block = "<d1><d2><d3><d4><d5><d6><b7>"
    check = "<b1><d1><b2><d2><b3><d3><b4><d4><b5><d5><b6><d6>"
    assert body["work"][:3] == [check, "<d1><d2><d3><d4><d5><d6>", block + "<+7>"] and body["work"][-1].startswith("<n3>")
    assert all(line.startswith(block) for line in body["work"][3:6])
    assert len(body["work"]) == 3 + 3 + 1  # check line, draw, bonus line, one match line per ticket, the division
    again = client.post("/v1/draw", json=req).json()
    assert again["tickets"] == body["tickets"]  # same seed, same tickets
    fresh = client.post("/v1/draw", json={"money": 3000, "winning": "1,2,3,4,5,6", "bonus": 7}).json()
    assert isinstance(fresh["seed"], int) and "work" in fresh and fresh["work"] is None


BAD_FIELDS = [
    ("money", "abc", Msg.MONEY_NOT_NUMBER),
    ("money", "", Msg.MONEY_NOT_NUMBER),
    ("money", -1000, Msg.MONEY_NOT_NUMBER),
    ("money", "1,000", Msg.MONEY_NOT_NUMBER),
    ("money", 0, Msg.MONEY_UNIT),
    ("money", "1500", Msg.MONEY_UNIT),
    ("money", 101000, Msg.MONEY_LIMIT),
    ("money", "1" * 65, Msg.LINE_TOO_LONG),
    ("winning", "1;2;3;4;5;6", Msg.WINNING_NOT_NUMBERS),
    ("winning", [1, 2, 3, 4, 5, -6], Msg.WINNING_NOT_NUMBERS),
    ("winning", "1,2,3", Msg.WINNING_COUNT),
    ("winning", [1, 2, 3, 4, 5, 6, 7], Msg.WINNING_COUNT),
    ("winning", [0, 1, 2, 3, 4, 5], Msg.NUMBER_RANGE),
    ("winning", "1,1,2,3,4,5", Msg.WINNING_DUPLICATE),
    ("winning", ",".join(["1"] * 33), Msg.LINE_TOO_LONG),
    ("bonus", "x", Msg.BONUS_NOT_NUMBER),
    ("bonus", 46, Msg.NUMBER_RANGE),
    ("bonus", 6, Msg.BONUS_DUPLICATE),
    ("bonus", "0" * 70, Msg.LINE_TOO_LONG),
]


@pytest.mark.parametrize("field, value, message", BAD_FIELDS)
def test_bad_field_is_422_with_the_programs_error(client, field, value, message):
    req = {"money": 2000, "winning": [1, 2, 3, 4, 5, 6], "bonus": 7, field: value}
    r = client.post("/v1/draw", json=req)
    assert r.status_code == 422
    assert r.json() == {"detail": message, "field": field, "errors": [{"field": field, "message": message}]}


def test_every_bad_field_is_listed_first_one_decides(client):
    r = client.post("/v1/draw", json={"money": "1500", "winning": "1,2,3", "bonus": "b"})
    assert r.status_code == 422
    assert r.json()["detail"] == Msg.MONEY_UNIT
    assert [e["field"] for e in r.json()["errors"]] == ["money", "winning", "bonus"]


@pytest.mark.parametrize("body, field, hint", [
    ({"money": 1000.5, "winning": "1,2,3,4,5,6", "bonus": 7}, "money", "money must be an integer or a string"),
    ({"money": None, "winning": "1,2,3,4,5,6", "bonus": 7}, "money", "money must be"),
    ({"money": True, "winning": "1,2,3,4,5,6", "bonus": 7}, "money", "money must be"),
    ({"money": 1000, "winning": {"a": 1}, "bonus": 7}, "winning", "winning must be a list of integers or a string"),
    ({"money": 1000, "winning": [1, 2, 3, 4, 5, "6"], "bonus": 7}, "winning", "winning must be"),
    ({"money": 1000, "winning": "1,2,3,4,5,6", "bonus": [7]}, "bonus", "bonus must be"),
    ({"money": 1000, "winning": "1,2,3,4,5,6"}, "bonus", "bonus is required"),
    ({"money": 1000, "winning": "1,2,3,4,5,6", "bonus": 7, "tickets": "x"}, "tickets", "tickets must be"),
    ({"money": 1000, "winning": "1,2,3,4,5,6", "bonus": 7, "tickets": [[1, 2, 3]]}, "tickets", "tickets must be"),
    ({"money": 1000, "winning": "1,2,3,4,5,6", "bonus": 7, "seed": -1}, "seed", "seed must be an integer"),
    ({"money": 1000, "winning": "1,2,3,4,5,6", "bonus": 7, "show_work": "yes"}, "show_work", "show_work must be"),
    ({"money": 1000, "winning": "1,2,3,4,5,6", "bonus": 7, "model": "/etc/passwd"}, "model", "unknown field 'model'"),
    ([1, 2, 3], "body", "the body must be a JSON object"),
])
def test_wrong_json_types_are_422_with_a_message(client, body, field, hint):
    r = client.post("/v1/draw", json=body)
    assert r.status_code == 422
    assert r.json()["field"] == field and hint in r.json()["detail"], r.json()


def test_not_json_is_422(client):
    r = client.post("/v1/draw", content=b"money=1000", headers={"content-type": "application/json"})
    assert r.status_code == 422 and "JSON object" in r.json()["detail"]


def test_given_tickets_must_match_the_money_and_be_valid(client):
    base = {"money": 2000, "winning": "1,2,3,4,5,6", "bonus": 7}
    r = client.post("/v1/draw", json={**base, "tickets": SPEC_TICKETS[:3]})
    assert r.status_code == 422 and r.json() == {"detail": "3 tickets given for 2,000 won (2 tickets)", "field": "tickets"}
    r = client.post("/v1/draw", json={**base, "tickets": [[1, 1, 2, 3, 4, 5], [1, 2, 3, 4, 5, 6]]})
    assert r.status_code == 422 and "invalid ticket [1, 1, 2, 3, 4, 5]" in r.json()["detail"]


def test_huge_body_is_413(client):
    big = {"money": "1" * 20_000, "winning": "1,2,3,4,5,6", "bonus": 7}
    r = client.post("/v1/draw", json=big)
    assert r.status_code == 413 and "too large" in r.json()["detail"]

    def chunks():  # no Content-Length: counted while it streams
        yield b'{"money": "'
        for _ in range(40):
            yield b"1" * 1024
        yield b'", "winning": "1,2,3,4,5,6", "bonus": 7}'

    r = client.post("/v1/draw", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413 and "too large" in r.json()["detail"]
    assert client.get("/health").status_code == 200  # still serving


def test_concurrent_requests_are_all_answered(server, client):
    _, app = server
    before = len(app.state.batcher.batches)
    n = 12
    start = threading.Barrier(n)

    def one(i):
        tickets = [[1 + j, 10 + i % 9, 20, 30, 40, 45] for j in range(1 + i % 2)]
        req = {"money": 1000 * len(tickets), "winning": [1, 2, 3, 40, 41, 42], "bonus": 43, "seed": i}
        if i % 3:
            req["tickets"] = tickets
        with httpx.Client(base_url=server[0], timeout=300) as c:
            start.wait()
            return req, c.post("/v1/draw", json=req)

    with ThreadPoolExecutor(n) as pool:
        results = list(pool.map(one, range(n)))
    for req, r in results:
        assert r.status_code == 200, r.text
        body = r.json()
        if "tickets" in req:
            assert body["tickets"] == req["tickets"]
        lines = [str(req["money"]), "1,2,3,40,41,42", "43"]
        assert body["stdout"] == console(lines, body["tickets"])
        assert body["complete"]
    sizes = app.state.batcher.batches[before:]
    assert sum(sizes) == n


# ---------------------------------------------------------------- the worker alone

class FakeMachine:
    """Records batch sizes; fails if two threads ever generate at once."""

    fmt = "transcript"

    def __init__(self):
        self.busy = threading.Lock()
        self.sizes = []

    def play_many(self, sessions, batch_size=32):
        assert self.busy.acquire(blocking=False), "generation ran concurrently"
        try:
            time.sleep(0.05)
            self.sizes.append(len(sessions))
            if any(s.lines == ["boom"] for s in sessions):
                raise ValueError("boom")
            return [("played", s.seed) for s in sessions]
        finally:
            self.busy.release()


def test_batcher_batches_queues_and_isolates_failures():
    from lotto_gpt.generation import Session

    machine = FakeMachine()
    batcher = Batcher(machine, max_batch=4, batch_wait_ms=30, max_queue=100)

    async def main():
        sessions = [Session(["1000"], seed=i) for i in range(10)] + [Session(["boom"], seed=99)]
        return await asyncio.gather(*(batcher.submit(s) for s in sessions), return_exceptions=True)

    try:
        results = asyncio.run(main())
    finally:
        batcher.stop()
    assert results[:10] == [("played", i) for i in range(10)]
    assert isinstance(results[10], ValueError)
    assert max(machine.sizes) == 4 and len(machine.sizes) < 11 + 3  # batched, then the failed batch one by one


def test_full_queue_is_503():
    from lotto_gpt.serving import QueueFull

    batcher = Batcher(FakeMachine(), max_queue=0)
    with pytest.raises(QueueFull):
        asyncio.run(batcher.submit(object()))


# ---------------------------------------------------------------- the real command

def test_serve_command_with_a_saved_tiny_model(tmp_path):
    save_tiny_model(tmp_path)
    sock = _socket()
    port = sock.getsockname()[1]
    sock.close()  # uvicorn binds it again (SO_REUSEADDR)
    env = dict(os.environ, OMP_NUM_THREADS="1", HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false",
               LOTTO_GPT_MODEL=str(tmp_path))
    proc = subprocess.Popen([sys.executable, "-m", "lotto_gpt.cli", "serve", "--port", str(port), "--log_level",
                             "warning"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 540  # seconds where torch imports fast; minutes on a loaded machine
        while True:
            assert proc.poll() is None, proc.communicate()[1][-3000:]
            try:
                if httpx.get(url + "/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "serve did not come up"
            time.sleep(0.3)
        health = httpx.get(url + "/health").json()
        assert health["model"] == str(tmp_path) and health["format"] == "transcript"
        r = httpx.post(url + "/v1/draw", json={"money": "1000j", "winning": "1,2,3,4,5,6", "bonus": 7})
        assert r.status_code == 422 and r.json()["detail"] == Msg.MONEY_NOT_NUMBER
        r = httpx.post(url + "/v1/draw", content=b"x" * 17_000, headers={"content-type": "application/json"})
        assert r.status_code == 413
        r = httpx.post(url + "/v1/draw", json={"money": 1000, "winning": "1,2,3,4,5,6", "bonus": 7, "seed": 1,
                                               "tickets": [[1, 2, 3, 4, 5, 6]], "show_work": True}, timeout=120)
        assert r.status_code == 200, r.text  # a random model: garbage text, but a well-formed answer
        body = r.json()
        assert isinstance(body["stdout"], str) and body["seed"] == 1 and isinstance(body["work"], list)
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=60)
    assert "Traceback" not in err, err[-3000:]
