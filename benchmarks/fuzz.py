"""Fuzz the console and the HTTP API with many more examples than the test suite runs.

    python benchmarks/fuzz.py --examples 2000            # console and API, 2,000 inputs each
    python benchmarks/fuzz.py --console 500 --api 5000 --seed 1

The inputs and the checks are those of tests/test_reliability.py (`stdin_bytes` + `console_check`:
`lotto-gpt play` in-process on the rule-engine oracle LM, stdin a byte pipe with random unicode,
NUL and control characters, invalid UTF-8, long and empty lines, EOF mid-session; `api_bodies`
+ `api_check`: POST /v1/draw through TestClient with wrong JSON types, huge numbers, unknown
fields, raw junk). Unlike the tests, a failing input does not stop the run: every input is tried,
failures are counted and the first few are printed. Exit status 1 if any input failed.
"""
from __future__ import annotations

import argparse
import collections
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]


def fuzz(name, strategy, check, examples: int, seed: int, show: int = 5) -> dict:
    from hypothesis import HealthCheck, Phase, given, seed as hseed, settings

    tried, failures, labels = 0, [], collections.Counter()

    @hseed(seed)
    @settings(max_examples=examples, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def run(example):
        nonlocal tried
        tried += 1
        try:
            labels[check(example)] += 1
        except Exception as exc:  # noqa: BLE001 (count every kind of failure, go on)
            labels["FAILED"] += 1
            failures.append((example, exc, traceback.format_exc()))

    started = time.monotonic()
    run()
    seconds = time.monotonic() - started
    print(f"{name}: {tried} inputs tried, {len(failures)} failures, {seconds:.0f} s; outcomes: "
          + ", ".join(f"{k} {v}" for k, v in sorted(labels.items())), flush=True)
    for example, exc, tb in failures[:show]:
        print(f"  FAILED on {example!r:.300}\n    {type(exc).__name__}: {str(exc)[:500]}")
        print("    " + tb.strip().splitlines()[-3].strip() if len(tb.strip().splitlines()) >= 3 else "")
    return {"name": name, "tried": tried, "failures": len(failures), "seconds": seconds}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--examples", type=int, default=2000, help="inputs per target (default 2000)")
    p.add_argument("--console", type=int, default=None, help="console inputs (default: --examples)")
    p.add_argument("--api", type=int, default=None, help="API inputs (default: --examples)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)

    import torch
    from fastapi.testclient import TestClient
    from hypothesis import strategies as st

    torch.set_num_threads(1)
    from test_generation import oracle_machine
    from test_reliability import api_bodies, api_check, console_check, stdin_bytes

    from lotto_gpt.serving import create_app

    machine = oracle_machine()
    results = []
    n_console = args.examples if args.console is None else args.console
    n_api = args.examples if args.api is None else args.api
    if n_console:
        results.append(fuzz("console (lotto-gpt play, oracle LM)",
                            st.tuples(stdin_bytes(), st.integers(0, 2**31 - 1)),
                            lambda ex: console_check(machine, ex[0], ex[1]), n_console, args.seed))
    if n_api:
        app = create_app(machine, model_id="oracle", max_batch=4, batch_wait_ms=0)
        with TestClient(app, raise_server_exceptions=False) as client:
            results.append(fuzz("API (POST /v1/draw, oracle LM)", api_bodies(),
                                lambda ex: api_check(client, *ex), n_api, args.seed))
    total = sum(r["tried"] for r in results)
    failed = sum(r["failures"] for r in results)
    print(f"total: {total} inputs tried, {failed} failures")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
