"""The logged training losses of finished runs, side by side by rows read instead of by steps.

    python benchmarks/loss_by_rows.py RUN [RUN ...] [--rows 8000 12800 16000 24000] [--key loss_work]

Runs with different batch sizes take different steps for the same rows; this reads each run's
`trainer_state.json` (the Trainer's own log, with the batch size it trained with) and prints a
markdown table of one logged loss at the first logged step that has read at least each given number
of rows. A logged loss is the mean over its logging window (`--logging_steps`), so windows of
runs with different batches cover different rows.
"""
import argparse
import json
from pathlib import Path


def logged_by_rows(run_dir: str, key: str, accumulation: int = 1) -> list[tuple[int, float]]:
    state = json.loads((Path(run_dir) / "trainer_state.json").read_text())
    # the state's batch is one process's (per device x its GPUs), without accumulation or other processes
    batch = state["train_batch_size"] * accumulation
    return [(entry["step"] * batch, entry[key]) for entry in state["log_history"] if key in entry]


def value_at(points: list[tuple[int, float]], rows: int) -> float | None:
    return next((value for seen, value in points if seen >= rows), None)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("runs", nargs="+", help="training output folders (each holds trainer_state.json)")
    parser.add_argument("--rows", type=int, nargs="+", default=[8000, 12800, 16000, 24000])
    parser.add_argument("--key", default="loss_work", help="a logged value: loss, loss_work, loss_tail, ...")
    parser.add_argument("--gradient_accumulation_steps", type=int, default=1,
                        help="the runs' own (all alike); for a multi-process run, times its process count")
    args = parser.parse_args()
    try:
        curves = {run: logged_by_rows(run, args.key, args.gradient_accumulation_steps) for run in args.runs}
    except (OSError, KeyError, json.JSONDecodeError) as error:
        parser.error(f"cannot read a run's trainer_state.json: {error}")
    print("| rows | " + " | ".join(Path(run).name for run in args.runs) + " |")
    print("|---" * (len(args.runs) + 1) + "|")
    for rows in args.rows:
        cells = [value_at(curves[run], rows) for run in args.runs]
        print(f"| {rows:,} | " + " | ".join("-" if v is None else f"{v:.2f}" for v in cells) + " |")


if __name__ == "__main__":
    main()
