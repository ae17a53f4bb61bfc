"""eval.py end to end: a tiny random model through the CLI (it must run and write its files),
and the rule-engine oracle through the same harness (it must score 100%)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from conftest import load_script, save_tiny_model

from lotto_gpt import rules

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_generation import oracle_machine  # noqa: E402  (the perfect-model stand-in)


def load_eval():
    return load_script("eval.py", "lotto_eval_script")


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def ev():
    return load_eval()


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("tiny_model")
    save_tiny_model(path)
    return path


def test_cli_runs_a_tiny_random_model_and_writes_everything(ev, tiny_model_dir, tmp_path, capsys):
    out = tmp_path / "eval"
    results = ev.main(["--model", str(tiny_model_dir), "--num_sessions", "6", "--suite", "both",
                       "--max_new_tokens", "16", "--batch_size", "4", "--output_dir", str(out),
                       "--progress", "False"])
    printed = capsys.readouterr().out
    assert "=== TEST SUMMARY ===\nn_total : 6" in printed and "=== TICKET FIDELITY ===" in printed
    for suite in ("small", "large"):
        for name in (f"sessions_{suite}.jsonl", f"failures_{suite}.png", f"accuracy_by_tickets_{suite}.png",
                     f"numbers_{suite}.png"):
            assert (out / name).stat().st_size > 0, name
        assert len((out / f"sessions_{suite}.jsonl").read_text().splitlines()) == 6
        assert results["suites"][suite]["summary"]["n_ok"] == 0  # a random model gets nothing right
    saved = json.loads((out / "eval_results.json").read_text())
    assert saved["format"] == "transcript" and saved["suites"]["large"]["summary"]["n_total"] == 6
    assert "# Lotto console evaluation" in (out / "report.md").read_text()
    with pytest.raises(SystemExit):
        ev.main(["--num_sessions", "1"])  # no --model: a usage error


@pytest.mark.parametrize("bad", ["0", "-1", "inf"])
def test_a_ticket_temperature_that_is_not_positive_is_a_usage_error(ev, tmp_path, capsys, bad):
    with pytest.raises(SystemExit) as exc:
        ev.main(["--model", str(tmp_path), "--ticket_temperature", bad])
    assert exc.value.code == 2
    assert "--ticket_temperature must be positive" in capsys.readouterr().err


def test_perfect_model_scores_100_percent_through_the_harness(ev, tmp_path):
    args = ev.EvalArguments(model="oracle", num_sessions=20, max_tickets=3, bad_input_share=0.5,
                            output_dir=str(tmp_path / "oracle"), progress=False, batch_size=8)
    results = ev.run_eval(args, machine=oracle_machine())
    res = results["suites"]["small"]
    s = res["summary"]
    assert s["n_ok"] == s["n_exact_console"] == 20, s
    assert s["n_bad_input_sessions"] >= 5 and s["bad_input_accuracy"] == 1.0
    assert res["forced_fallbacks"] == 0 and res["stop_reasons"] == {"eos": 20}
    assert res["fidelity"]["n_independent_tickets"] > 0 and res["fidelity"]["invalid_ticket_rate"] == 0
    records = [json.loads(x) for x in (tmp_path / "oracle" / "sessions_small.jsonl").read_text().splitlines()]
    for rec in records:
        run = rules.play(rec["reference"]["lines"], tickets=[tuple(t) for t in rec["tickets"]])
        if not rec["independent"]:  # the draw was chosen so that one of the model's tickets hits the rank
            assert run.counts[rec["forced_rank"]] >= 1, rec
        assert rec["stdout"] == rules.console_text(run)
    ranks = {rec["forced_rank"] for rec in records if not rec["independent"]}
    assert ranks == {"3", "4", "5", "5b", "6"}


def test_seed_format_through_the_harness(ev, tmp_path):
    args = ev.EvalArguments(model="oracle", num_sessions=6, max_tickets=3, output_dir=str(tmp_path / "seed"),
                            progress=False, suite="large")
    res = ev.run_eval(args, machine=oracle_machine("seed"))["suites"]["large"]
    assert res["summary"]["n_ok"] == 6 and res["summary"]["n_bad_input_sessions"] == 0
    assert res["fidelity"]["n_independent_tickets"] == sum(int(k) * b["sessions"] for k, b in res["by_ticket_count"].items())


def test_suite_is_deterministic_and_bad_lines_are_rejected(ev):
    args = ev.EvalArguments(model="x", bad_input_share=1.0)
    plans = [ev.make_plan(i, "small", 3, args, "transcript") for i in range(200)]
    again = [ev.make_plan(i, "small", 3, args, "transcript") for i in range(200)]
    assert [p.lines for p in plans] == [p.lines for p in again]
    assert [ev.make_plan(i, "small", 4, args, "transcript").lines for i in range(20)] != [p.lines for p in plans[:20]]
    assert all(1 <= p.n_tickets <= 20 for p in plans)
    assert sum(p.independent for p in plans) == 100
    long_lines = 0
    for p in plans:
        run = rules.play(p.lines, seed=0)  # phase-1 lines: bad ones rejected, the last accepted
        assert run.money == p.n_tickets * 1000 and len(run.attempts) == len(p.lines)
        long_lines += sum(len(x) > 64 for x in p.lines)
    assert long_lines > 0
    import random

    rng = random.Random(0)
    winning = (1, 2, 3, 4, 5, 6)
    for stage in ("money", "winning", "bonus"):
        for _ in range(200):
            for line in ev.bad_lines(stage, rng, winning):
                assert ev._rejected(stage, line, winning), (stage, line)
    novel = [ev.novel_bad_line("money", rng) for _ in range(100)]
    from lotto_gpt.data import JUNK_ALPHABET
    assert sum(any(c not in JUNK_ALPHABET and not c.isascii() for c in x) for x in novel) > 50


def test_training_junk_never_meets_the_junk_held_out_for_eval(ev):
    from lotto_gpt.data import HELD_OUT_SEPARATORS, JUNK_ALPHABET, JUNK_RANGES, non_comma_separator

    for lo, hi in JUNK_RANGES:
        for novel_lo, novel_hi in ev.NOVEL_BLOCKS:
            assert hi < novel_lo or lo > novel_hi, (hex(lo), hex(novel_lo))
    novel_separators = [s for s in ev.NOVEL_SEPARATORS if not s.isascii()]
    assert not any(lo <= ord(s) <= hi for s in novel_separators for lo, hi in JUNK_RANGES)
    assert not set(novel_separators) & set(JUNK_ALPHABET)
    assert set(HELD_OUT_SEPARATORS) == {s for s in ev.NOVEL_SEPARATORS if s.isascii()}
    import random

    rng = random.Random(0)
    assert not {non_comma_separator(rng) for _ in range(20_000)} & set(ev.NOVEL_SEPARATORS)
