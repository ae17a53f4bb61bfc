"""What the cpu preset's curriculum shows in a fixed compute budget, and how much of it is padding.

    python benchmarks/curriculum_padding.py data/transcript data/transcript_pf

No training: it orders each dataset's train rows as `CurriculumSampler` does (the cpu preset's 28,000
warm-up rows, batch 8, the rows that hold part of a session spread over the warm-up), with and without
`--spread_batches`, takes the first rows whose padded batches cost as much as the budget, and prints the
rows, the share of padding, and the whole sessions by ticket count. A batch costs 8 x its longest row,
lengths in characters (a proxy for tokens; attention's quadratic part is left out). The
budget defaults to what v8's first 26,400 rows cost (26,400 rows: what a 29-minute default run sees).
"""
import argparse
import collections

from datasets import load_from_disk

from lotto_gpt.trainer import CurriculumSampler

BATCH = 8


def padded_cost(lengths, rows) -> int:
    return sum(max(lengths[i] for i in rows[s:s + BATCH]) * BATCH for s in range(0, len(rows), BATCH))


def first_rows_within(lengths, order, budget: int) -> list:
    cost = end = 0
    while cost < budget and end < len(order):
        cost += max(lengths[i] for i in order[end:end + BATCH]) * BATCH
        end += BATCH
    return order[:end]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dataset_dirs", nargs="+")
    parser.add_argument("--warmup_samples", type=int, default=28_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--budget_dataset", default="data/transcript")
    parser.add_argument("--budget_rows", type=int, default=26_400)
    args = parser.parse_args()

    def load(path):
        train = load_from_disk(path)["train"]
        return [len(t) for t in train["text"]], [p != "session" for p in train["part"]], train["n_tickets"], train

    lengths, spread, _, _ = load(args.budget_dataset)
    order = list(CurriculumSampler(lengths, BATCH, args.warmup_samples, seed=args.seed, spread=spread))
    budget = padded_cost(lengths, order[:args.budget_rows])
    print(f"budget: {budget:,} padded characters ({args.budget_dataset}, first {args.budget_rows:,} rows)")
    print("| data | spread batches | rows | padding | spread rows | sessions of 1 / 10 / 15 / 19 / 20 / over 20 tickets |")
    print("|---|---|---|---|---|---|")
    for path in args.dataset_dirs:
        lengths, spread, n_tickets, train = load(path)
        parts = train["part"]
        for spread_batches in (False, True):
            sampler = CurriculumSampler(lengths, BATCH, args.warmup_samples, seed=args.seed, spread=spread,
                                        spread_batches=spread_batches)
            rows = first_rows_within(lengths, list(sampler), budget)
            padding = 1 - sum(lengths[i] for i in rows) / padded_cost(lengths, rows)
            sessions = collections.Counter(n_tickets[i] for i in rows if parts[i] == "session")
            over = sum(v for k, v in sessions.items() if k > 20)
            counts = " / ".join(str(sessions[k]) for k in (1, 10, 15, 19, 20))
            print(f"| {path} | {spread_batches} | {len(rows):,} | {padding:.1%} | {sum(spread[i] for i in rows):,} "
                  f"| {counts} / {over} |")


if __name__ == "__main__":
    main()
