"""How far a finished run's curriculum reached: the length window at its last step, and the sessions it read.

    python benchmarks/curriculum_reach.py outputs/cpu/seed-42 outputs/cpu/seed-43 --dataset_dir data/transcript

No training: it replays `CurriculumSampler` with the run's row count, seed and batch (`train_summary.json`;
`--seed` for runs older than session 30, which did not record it) over the train split tokenized with the run's
own tokenizer, takes the rows its steps read, and prints the length quantile the window had reached, the tokens
read (unpadded) and the whole sessions read of 19, 20 and more tickets. Session 30 (BENCHMARKS.md): every run that
read fewer than ~100 twenty-ticket sessions lost the countdown `<t20>` -> `<t19>` in 20-51 of 500 test sessions, and
every run that read more wrote it (but for 1-3 first match lines at 224-260). A run paced by its budget
(`--curriculum_by_budget`) cannot be replayed: its window followed the clock.
"""
import argparse
import collections
import hashlib
import itertools
import json
import os

from datasets import load_from_disk
from transformers import AutoTokenizer

from lotto_gpt.data import tokenize_rows
from lotto_gpt.trainer import CurriculumSampler, spread_mask

SMALL_TOP = 20  # the blog's range ends at 20 tickets (20,000 won)


def read_run(run: str) -> tuple[dict, int, str]:
    """The run's curriculum block of train_summary.json (with the rows a step read), the sampler's batch and the
    run's tokenizer's hash. The batch is recorded since session 30 (a step's rows on each process, gradient
    accumulation included); before, trainer_state.json's batch (right without accumulation)."""
    with open(os.path.join(run, "train_summary.json")) as f:
        summary = json.load(f)
    curriculum = summary["curriculum"]
    if "batch" in curriculum:
        batch = curriculum["batch"]
    else:
        with open(os.path.join(run, "trainer_state.json")) as f:
            batch = json.load(f)["train_batch_size"]
    with open(os.path.join(run, "tokenizer.json"), "rb") as f:
        tokenizer_hash = hashlib.sha256(f.read()).hexdigest()
    # every process's sampler hands out all rows and a step takes a batch from each (trainer._get_train_sampler)
    rows_read = summary["global_step"] * batch * summary.get("world_size", 1)
    return {**curriculum, "rows_read": rows_read}, batch, tokenizer_hash


def reach(lengths, spread, n_tickets, samples: int, rows_read: int, batch: int, seed: int, mix: float = 0.0,
          spread_batches: bool = False) -> dict:
    """The first `rows_read` rows of the sampler's order: the window's length quantile after them, and the
    whole sessions among them by tickets (19, 20, over 20)."""
    sampler = CurriculumSampler(lengths, batch, samples, seed=seed, spread=spread, mix=mix,
                                spread_batches=spread_batches)
    rows = list(itertools.islice(iter(sampler), rows_read))
    sessions = collections.Counter(n_tickets[i] for i in rows if not spread[i])
    window = sampler.window(min(sum(sessions.values()), samples), max(1, samples))
    return {"rows": len(rows), "tokens": sum(lengths[i] for i in rows), "window": window,
            "19": sessions[SMALL_TOP - 1], "20": sessions[SMALL_TOP],
            "over 20": sum(count for tickets, count in sessions.items() if tickets > SMALL_TOP)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("runs", nargs="+", help="finished training runs (output_dir of train.py)")
    parser.add_argument("--dataset_dir", required=True, help="the dataset the runs trained on")
    parser.add_argument("--seed", type=int, default=None, help="the sampler's seed where a run did not record it")
    args = parser.parse_args()
    runs = {}
    for run in args.runs:
        try:
            curriculum, batch, tokenizer_hash = read_run(run)
        except (OSError, KeyError, json.JSONDecodeError) as error:
            parser.error(f"{run}: not a finished run ({error})")
        if not curriculum["samples"]:
            parser.error(f"{run}: trained without a curriculum (--curriculum_samples 0): nothing to replay")
        if curriculum["by_budget"]:
            parser.error(f"{run}: its curriculum was paced by the clock (--curriculum_by_budget): not replayable")
        seed = curriculum.get("seed", args.seed)
        if seed is None:
            parser.error(f"{run}: no sampler seed recorded (a run before session 30): give --seed")
        runs[run] = {**curriculum, "seed": seed}, batch, tokenizer_hash
    try:
        train = load_from_disk(args.dataset_dir)["train"]
    except (OSError, KeyError) as error:
        parser.error(f"--dataset_dir {args.dataset_dir}: not a built dataset with a train split ({error})")
    spread = spread_mask(train) or [False] * len(train)
    n_tickets = train["n_tickets"]
    print("| run | rows read | tokens read | window's end (length quantile) | sessions read of 19 / 20 / over 20 tickets |")
    print("|---|---|---|---|---|")
    lengths_by_tokenizer = {}  # runs of one recipe share a tokenizer: tokenize the split (~2 minutes) once
    for run, (curriculum, batch, key) in runs.items():
        if key not in lengths_by_tokenizer:
            tokenizer = AutoTokenizer.from_pretrained(run)
            lengths_by_tokenizer[key] = train.map(tokenize_rows, batched=True, fn_kwargs={"tokenizer": tokenizer},
                                                  remove_columns=train.column_names, desc="tokenize")["length"]
        lengths = lengths_by_tokenizer[key]
        seen = reach(lengths, spread, n_tickets, curriculum["samples"], curriculum["rows_read"], batch,
                     curriculum["seed"], curriculum["mix"], curriculum.get("spread_batches", False))
        print(f"| {run} | {seen['rows']:,} | {seen['tokens']:,} | {seen['window']:.3f} "
              f"| {seen['19']} / {seen['20']} / {seen['over 20']} |")


if __name__ == "__main__":
    main()
