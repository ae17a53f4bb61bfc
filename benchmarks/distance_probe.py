"""Teacher-forced probe: do the match lines' copies hold when the ticket block is far away?

    python benchmarks/distance_probe.py --model outputs/cpu [--sessions 20] [--bad_lines 0 10 30 60]

Sessions of 10-20 tickets (every index `<tK>` one the small sessions train), with B bad winning lines typed
before the valid one, so the ticket block moves B input-and-error turns (~11 tokens each) away from its match
lines while nothing else about them changes. Prints the argmax error per token category
(`lotto_gpt.diagnostics.token_errors`) for each B as a markdown table: the copy of the ticket into its match
line, the index, the flags, the draw block. Against the large suite's sessions (21-100 tickets, where the copy
fails even in the first match lines: BENCHMARKS.md, session 32) it tells distance from index apart. Caveat: 30 or
60 bad lines in a row are themselves unlike any training session (at most 3 a stage), so a rise there is distance
and that novelty together.
"""
from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

from transformers import AutoModelForCausalLM, AutoTokenizer

sys.path[:0] = [str(Path(__file__).resolve().parents[1])]  # the checkout's lotto_gpt (its format), installed or not
from lotto_gpt import rules  # noqa: E402
from lotto_gpt.data import run_to_row, tokenize_rows, uniform_draw  # noqa: E402
from lotto_gpt.diagnostics import token_errors  # noqa: E402

BAD_WINNING_LINES = ("abc", "1,2,3", "", "1;2;3;4;5;6", "50,1,2,3,4,5")  # each one error turn, never a duplicate
CATEGORIES = ("copy", "index", "flag", "draw")


def probe_rows(bad_lines: int, sessions: int, seed: int = 0) -> dict:
    """`sessions` rows of 10-20 tickets with `bad_lines` bad winning lines before the valid one, as a batch."""
    rng = random.Random(f"{seed}/{bad_lines}")
    rows = []
    for _ in range(sessions):
        n = rng.randint(10, 20)
        tickets = [rules.issue_ticket(rng) for _ in range(n)]
        winning, bonus = uniform_draw(rng)
        lines = [str(n * rules.TICKET_PRICE)] + [rng.choice(BAD_WINNING_LINES) for _ in range(bad_lines)]
        run = rules.play(lines + [",".join(map(str, winning)), str(bonus)], tickets=tickets)
        rows.append(run_to_row(run, None, "transcript"))
    return {key: [row[key] for row in rows] for key in rows[0]}


def probe(model, tokenizer, bad_lines=(0, 10, 30, 60), sessions: int = 20, seed: int = 0) -> list[dict]:
    out = []
    for b in bad_lines:
        batch = probe_rows(b, sessions, seed)
        report = token_errors(model, tokenizer, batch)
        lengths = tokenize_rows(batch, tokenizer)["length"]
        out.append({"bad_lines": b, "mean_tokens": sum(lengths) / len(lengths),
                    **{c: report[c]["error"] for c in CATEGORIES if c in report}})
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True, help="a trained transcript-format model folder")
    parser.add_argument("--sessions", type=int, default=20, help="sessions per number of bad lines")
    parser.add_argument("--bad_lines", type=int, nargs="+", default=[0, 10, 30, 60])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.sessions < 1 or min(args.bad_lines) < 0:
        parser.error("--sessions must be at least 1 and --bad_lines at least 0")
    try:
        model = AutoModelForCausalLM.from_pretrained(args.model).eval()
        tokenizer = AutoTokenizer.from_pretrained(args.model)
    except (OSError, ValueError) as exc:
        parser.error(f"--model {args.model}: not a trained model folder ({exc})")
    rows = probe(model, tokenizer, args.bad_lines, args.sessions, args.seed)
    print("| bad winning lines | mean tokens | " + " | ".join(f"{c} error" for c in CATEGORIES) + " |")
    print("|---" * (len(CATEGORIES) + 2) + "|")
    for row in rows:
        cells = " | ".join(f"{row[c] * 100:.1f}%" if c in row else "-" for c in CATEGORIES)
        print(f"| {row['bad_lines']} | {row['mean_tokens']:.0f} | {cells} |")


if __name__ == "__main__":
    main()
