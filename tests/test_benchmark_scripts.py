"""The benchmark scripts that read finished runs: what they print is what the runs logged."""
import json
import subprocess
import sys
from pathlib import Path

from conftest import load_script

ROOT = Path(__file__).resolve().parents[1]


def _run_dir(tmp_path: Path, name: str, batch: int, losses: dict[int, float]) -> Path:
    run = tmp_path / name
    run.mkdir()
    history = [{"step": step, "loss_work": loss, "loss": 9.0} for step, loss in losses.items()]
    history.append({"step": max(losses), "train_runtime": 1.0})  # the last entry has no loss_work
    (run / "trainer_state.json").write_text(json.dumps({"train_batch_size": batch, "log_history": history}))
    return run


def test_loss_by_rows_compares_runs_of_different_batches_at_equal_rows(tmp_path):
    loss_by_rows = load_script("benchmarks/loss_by_rows.py", "loss_by_rows")
    small = _run_dir(tmp_path, "b4", 4, {100: 3.0, 200: 2.0, 300: 1.0})
    large = _run_dir(tmp_path, "b8", 8, {50: 2.5, 100: 1.5, 150: 0.5})
    assert loss_by_rows.value_at(loss_by_rows.logged_by_rows(str(small), "loss_work"), 800) == 2.0
    assert loss_by_rows.value_at(loss_by_rows.logged_by_rows(str(large), "loss_work"), 800) == 1.5
    assert loss_by_rows.value_at(loss_by_rows.logged_by_rows(str(large), "loss_work"), 1300) is None


def test_loss_by_rows_prints_a_markdown_row_per_mark(tmp_path):
    small = _run_dir(tmp_path, "b4", 4, {100: 3.0, 200: 2.0})
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "loss_by_rows.py"), str(small), "--rows", "400", "800"],
                         capture_output=True, text=True, check=True).stdout.splitlines()
    assert out == ["| rows | b4 |", "|---|---|", "| 400 | 3.00 |", "| 800 | 2.00 |"]


def test_loss_by_rows_missing_run_is_a_usage_error(tmp_path):
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "loss_by_rows.py"), str(tmp_path / "none")],
                            capture_output=True, text=True)
    assert result.returncode == 2 and "trainer_state.json" in result.stderr


def test_shape_step_prints_a_row_per_shape_and_length_with_the_first_shape_as_baseline():
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "shape_step.py"), "--shapes", "2x32", "1x32",
                          "--lengths", "16", "--steps", "1", "--batch", "2"],
                         capture_output=True, text=True, check=True).stdout.splitlines()
    rows = [line.split(" | ") for line in out if line.startswith("| 16 ")]
    assert [row[1] for row in rows] == ["2x32", "1x32"]
    assert rows[0][-1] == "1.00 |"


def test_shape_step_bad_shape_is_a_usage_error():
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "shape_step.py"), "--shapes", "4by128"],
                            capture_output=True, text=True)
    assert result.returncode == 2 and "LAYERSxWIDTH" in result.stderr


def _reach(rows_read: int) -> dict:
    curriculum_reach = load_script("benchmarks/curriculum_reach.py", "curriculum_reach")
    n_tickets = [1 + i % 20 for i in range(200)]  # ten sessions of each count, length growing with the count
    lengths = [10 * n + i % 3 for i, n in enumerate(n_tickets)]
    return curriculum_reach.reach(lengths, [False] * 200, n_tickets, samples=200, rows_read=rows_read, batch=8, seed=0)


def test_curriculum_reach_a_run_stopped_early_in_its_warm_up_read_no_20_ticket_session():
    seen = _reach(40)
    assert seen["rows"] == 40 and abs(seen["window"] - (0.05 + 0.95 * 40 / 200)) < 1e-9
    assert seen["20"] == 0 and seen["19"] == 0


def test_curriculum_reach_a_run_through_its_warm_up_read_every_session():
    seen = _reach(200)
    assert abs(seen["window"] - 1.0) < 1e-9 and (seen["19"], seen["20"], seen["over 20"]) == (10, 10, 0)
    assert seen["tokens"] == sum(10 * (1 + i % 20) + i % 3 for i in range(200))  # every row's length, once


def _summary_run(tmp_path: Path, **curriculum) -> Path:
    run = tmp_path / "run"
    run.mkdir()
    block = {"samples": 1000, "by_budget": False, "mix": 0.0, "seed": 0, **curriculum}
    (run / "train_summary.json").write_text(json.dumps({"global_step": 10, "curriculum": block}))
    (run / "trainer_state.json").write_text(json.dumps({"train_batch_size": 8}))
    (run / "tokenizer.json").write_text("{}")
    return run


def test_curriculum_reach_a_paced_run_is_a_usage_error(tmp_path):
    run = _summary_run(tmp_path, by_budget=True)
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "curriculum_reach.py"), str(run),
                             "--dataset_dir", str(tmp_path)], capture_output=True, text=True)
    assert result.returncode == 2 and "paced by the clock" in result.stderr


def test_curriculum_reach_a_run_without_its_seed_is_a_usage_error(tmp_path):
    run = _summary_run(tmp_path, seed=None)
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "curriculum_reach.py"), str(run),
                             "--dataset_dir", str(tmp_path)], capture_output=True, text=True)
    assert result.returncode == 2 and "give --seed" in result.stderr


def test_curriculum_reach_a_missing_run_is_a_usage_error(tmp_path):
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "curriculum_reach.py"), str(tmp_path / "none"),
                             "--dataset_dir", str(tmp_path)], capture_output=True, text=True)
    assert result.returncode == 2 and "not a finished run" in result.stderr


def test_curriculum_reach_a_missing_dataset_is_a_usage_error(tmp_path):
    run = _summary_run(tmp_path)
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "curriculum_reach.py"), str(run),
                             "--dataset_dir", str(tmp_path / "none")], capture_output=True, text=True)
    assert result.returncode == 2 and "not a built dataset" in result.stderr


def test_curriculum_reach_counts_the_rows_of_accumulated_and_distributed_steps(tmp_path):
    curriculum_reach = load_script("benchmarks/curriculum_reach.py", "curriculum_reach")
    run = _summary_run(tmp_path, batch=16)  # 8 rows a device step, 2 accumulated
    summary = json.loads((run / "train_summary.json").read_text())
    (run / "train_summary.json").write_text(json.dumps({**summary, "world_size": 2}))
    curriculum, batch, _ = curriculum_reach.read_run(str(run))
    assert (batch, curriculum["rows_read"]) == (16, 10 * 16 * 2)


def _ticket_positions():
    return load_script("benchmarks/ticket_positions.py", "ticket_positions")


def test_ticket_positions_order_statistics_are_distributions_with_the_known_means():
    tp = _ticket_positions()
    for k in range(1, 7):
        p = tp.order_statistic(k)
        assert abs(sum(p) - 1) < 1e-12
        assert abs(sum(a * q for a, q in zip(range(1, 46), p)) - k * 46 / 7) < 1e-9  # E[X_k] = k (N + 1) / (m + 1)


def test_ticket_positions_pass_the_programs_tickets_and_catch_a_squeezed_last_number():
    import random

    from lotto_gpt import rules

    tp = _ticket_positions()
    rng = random.Random(0)
    program = [[rules.issue_ticket(rng) for _ in range(10)] for _ in range(2000)]
    for p in tp.report(program)["positions"]:
        assert p["chi2"] < p["dof"] + 5 * (2 * p["dof"]) ** 0.5, p  # 5 standard deviations
    low = [[tuple(sorted(rng.sample(range(1, 41), 6))) for _ in range(10)] for _ in range(2000)]  # never 41-45
    squeezed = tp.report(low)
    assert squeezed["positions"][5]["chi2"] > 10 * squeezed["positions"][5]["dof"]
    assert all(r == 0 for r in squeezed["number_ratio"][40:])
    assert abs(tp.report(program)["consecutive_overlap"] - 0.8) < 0.05


def test_ticket_positions_unreadable_sessions_are_a_usage_error(tmp_path):
    (tmp_path / "empty.jsonl").write_text(json.dumps({"tickets": []}) + "\n")
    for path in (tmp_path / "missing.jsonl", tmp_path / "empty.jsonl"):
        done = subprocess.run([sys.executable, str(ROOT / "benchmarks/ticket_positions.py"), str(path)],
                              capture_output=True, text=True)
        assert done.returncode == 2 and path.name in done.stderr


# ---------------------------------------------------------------- distance_probe

distance_probe = load_script("benchmarks/distance_probe.py", "distance_probe")


def test_distance_probe_sessions_have_the_bad_lines_asked_for_and_grow_with_them(lotto_tokenizer):
    from lotto_gpt.data import tokenize_rows

    lengths = []
    for bad in (0, 5):
        batch = distance_probe.probe_rows(bad, sessions=4)
        assert batch["n_bad_inputs"] == [bad] * 4 and all(10 <= n <= 20 for n in batch["n_tickets"])
        assert all(text.rstrip().endswith("%입니다.") for text in batch["text"])  # complete sessions
        lengths.append(sum(tokenize_rows(batch, lotto_tokenizer)["length"]))
    assert lengths[1] > lengths[0]


def test_distance_probe_prints_a_row_per_number_of_bad_lines(tmp_path, capsys):
    from conftest import save_tiny_model

    path = save_tiny_model(tmp_path / "m")
    distance_probe.main(["--model", str(path), "--sessions", "2", "--bad_lines", "0", "3"])
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("| bad winning lines |") and [line.split(" | ")[0] for line in out[2:]] == ["| 0", "| 3"]


def test_distance_probe_a_missing_model_is_a_usage_error(tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks/distance_probe.py"), "--model", str(tmp_path / "none")],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "--model" in proc.stderr and "Traceback" not in proc.stderr
