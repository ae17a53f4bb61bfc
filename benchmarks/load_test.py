"""Load test of `lotto-gpt serve`: the real server (uvicorn on 127.0.0.1, a free port), many clients.

    python benchmarks/load_test.py                              # a tiny random model, built in a temp dir
    python benchmarks/load_test.py --model outputs/cpu --requests 1000 --concurrency 16 --max_batch 1,16

For each --max_batch value the server is started fresh (`python -m lotto_gpt.cli serve ...
--max_batch B`), warmed up with a few requests, then sent --requests POST /v1/draw requests from
--concurrency client threads (stdlib http.client, one keep-alive connection per thread). Each
request is a whole session (money, draw, bonus; its own seed). Reported per setting: the
status codes (the check: zero 5xx and no failed connection), latency p50/p95/max, requests/s.
The last line printed is a markdown table.

A tiny random model writes garbage and runs into its per-turn budget, so a request is one turn
of roughly 80 to 200 generated tokens: this measures the server (queue, batching, HTTP) more than
a trained model's sessions, which are longer.
"""
from __future__ import annotations

import argparse
import collections
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def build_tiny_model(path: str) -> str:
    """A tiny randomly initialised model saved as train.py saves one (1 block, 32 wide)."""
    from lotto_gpt.formats import get_format
    from lotto_gpt.modeling import ModelArguments, build_model
    from lotto_gpt.tokenizer import build_tokenizer

    tok = build_tokenizer("lotto", get_format("transcript"))
    model = build_model(ModelArguments(n_layer=1, n_embd=32, n_head=2), tok)
    model.config.lotto_format = "transcript"
    model.save_pretrained(path)
    tok.save_pretrained(path)
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(conn: http.client.HTTPConnection, body: dict) -> tuple[int, bytes]:
    data = json.dumps(body).encode()
    conn.request("POST", "/v1/draw", body=data, headers={"content-type": "application/json"})
    r = conn.getresponse()
    return r.status, r.read()


def start_server(model: str, port: int, max_batch: int, threads: int | None, timeout: float = 600):
    cmd = [sys.executable, "-m", "lotto_gpt.cli", "serve", "--model", model, "--port", str(port),
           "--max_batch", str(max_batch), "--log_level", "warning"]
    if threads:
        cmd += ["--threads", str(threads)]
    env = dict(os.environ, HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError("the server exited: " + proc.stderr.read()[-3000:])
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/health")
            if conn.getresponse().status == 200:
                conn.close()
                return proc
        except OSError:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("the server did not come up")
        time.sleep(0.3)


def run_load(port: int, requests: int, concurrency: int, money: int) -> dict:
    latencies, statuses, errors = [], collections.Counter(), []
    lock = threading.Lock()
    counter = iter(range(requests))
    barrier = threading.Barrier(concurrency + 1)

    def client():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        barrier.wait()
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                break
            body = {"money": money, "winning": [1, 2, 3, 4, 5, 6], "bonus": 7, "seed": i}
            t0 = time.perf_counter()
            try:
                status, _ = post(conn, body)
            except (OSError, http.client.HTTPException) as exc:
                with lock:
                    errors.append(repr(exc))
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
                continue
            dt = time.perf_counter() - t0
            with lock:
                latencies.append(dt)
                statuses[status] += 1
        conn.close()

    workers = [threading.Thread(target=client) for _ in range(concurrency)]
    for w in workers:
        w.start()
    barrier.wait()
    started = time.perf_counter()
    for w in workers:
        w.join()
    wall = time.perf_counter() - started
    lat = sorted(latencies)

    def pct(q):
        return lat[min(len(lat) - 1, int(q * len(lat)))] if lat else float("nan")

    return {"requests": requests, "answered": len(lat), "statuses": dict(statuses), "errors": errors,
            "n_5xx": sum(v for k, v in statuses.items() if k >= 500), "p50": pct(0.50), "p95": pct(0.95),
            "max": lat[-1] if lat else float("nan"), "mean": statistics.fmean(lat) if lat else float("nan"),
            "rps": len(lat) / wall if wall else float("nan"), "wall": wall}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default=None, help="model folder (default: a tiny random model in a temp dir)")
    p.add_argument("--requests", type=int, default=1000)
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--max_batch", default="1,16", help="comma-separated server --max_batch values to compare")
    p.add_argument("--money", type=int, default=1000, help="won per session (1000: one ticket)")
    p.add_argument("--threads", type=int, default=None, help="server torch threads (default: torch's)")
    p.add_argument("--warmup", type=int, default=8)
    args = p.parse_args(argv)

    tmp = None
    model = args.model
    if model is None:
        tmp = tempfile.TemporaryDirectory(prefix="lotto-load-")
        model = build_tiny_model(os.path.join(tmp.name, "tiny"))
    rows = []
    for max_batch in [int(x) for x in args.max_batch.split(",")]:
        port = free_port()
        t0 = time.monotonic()
        proc = start_server(model, port, max_batch, args.threads)
        startup = time.monotonic() - t0
        try:
            run_load(port, args.warmup, min(args.concurrency, args.warmup), args.money)
            res = run_load(port, args.requests, args.concurrency, args.money)
        finally:
            proc.terminate()
            try:
                _, err = proc.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                _, err = proc.communicate()
        res.update(max_batch=max_batch, startup=startup, traceback="Traceback" in err)
        rows.append(res)
        print(json.dumps({k: (round(v, 4) if isinstance(v, float) else v) for k, v in res.items()}), flush=True)

    print()
    print(f"model: {args.model or 'tiny random (1 block, 32 wide)'}; {args.requests} requests, "
          f"{args.concurrency} concurrent clients, money {args.money}")
    print()
    print("| server --max_batch | answered | 2xx | 4xx | 5xx | conn. errors | p50 (s) | p95 (s) | max (s) | requests/s |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        s = r["statuses"]
        n2 = sum(v for k, v in s.items() if 200 <= k < 300)
        n4 = sum(v for k, v in s.items() if 400 <= k < 500)
        print(f"| {r['max_batch']} | {r['answered']}/{r['requests']} | {n2} | {n4} | {r['n_5xx']} | {len(r['errors'])} "
              f"| {r['p50']:.3f} | {r['p95']:.3f} | {r['max']:.3f} | {r['rps']:.1f} |")
    ok = all(r["n_5xx"] == 0 and not r["errors"] and not r["traceback"] and r["answered"] == r["requests"]
             for r in rows)
    print()
    print("zero-5xx check:", "PASS" if ok else "FAIL")
    if tmp is not None:
        tmp.cleanup()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
