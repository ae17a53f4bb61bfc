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
