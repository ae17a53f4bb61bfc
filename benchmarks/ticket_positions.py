"""Where a model's tickets are not uniform: each position of the sorted ticket against the program's distribution.

    python benchmarks/ticket_positions.py eval_out/sessions_small.jsonl [more.jsonl ...]

The judge's chi-square (`judge.ticket_fidelity`) says whether the 45 numbers are drawn equally often. This says where
they are not: for the k-th smallest number of a uniform 6-of-45 ticket, P(X_k = a) = C(a-1, k-1) C(45-a, 6-k) / C(45, 6);
per position it prints the observed mean against that distribution's mean and a chi-square against it (bins with an
expected count under 5 pooled with the next), then each number's count as a ratio to chance, and the mean overlap of
consecutive tickets of a session (0.8 numbers by chance: 36 / 45).
"""
from __future__ import annotations

import argparse
import json
import math
import sys

from lotto_gpt import judge, rules


def order_statistic(k: int) -> list[float]:
    """P(the k-th smallest of a uniform ticket is a), for a = 1..45 (k from 1)."""
    n, m = rules.NUMBERS[-1], rules.NUMBERS_PER_TICKET
    total = math.comb(n, m)
    return [math.comb(a - 1, k - 1) * math.comb(n - a, m - k) / total for a in rules.NUMBERS]


def pooled_chi_square(observed: list[int], expected: list[float], min_expected: float = 5.0) -> tuple[float, int]:
    """Chi-square over bins pooled left to right until each expects at least `min_expected`; (statistic, dof)."""
    obs, exp, o, e = [], [], 0, 0.0
    for x, y in zip(observed, expected):
        o, e = o + x, e + y
        if e >= min_expected:
            obs.append(o)
            exp.append(e)
            o, e = 0, 0.0
    if e and exp:
        obs[-1] += o
        exp[-1] += e
    return sum((x - y) ** 2 / y for x, y in zip(obs, exp)), len(obs) - 1


def report(sessions: list[list]) -> dict:
    """`sessions`: each session's tickets (lists of numbers; invalid ones are left out)."""
    tickets = [tuple(t) for s in sessions for t in s if t and rules.is_valid_ticket(tuple(t))]
    if not tickets:
        raise ValueError("no valid tickets")
    positions = []
    for k in range(1, rules.NUMBERS_PER_TICKET + 1):
        counts = [0] * len(rules.NUMBERS)
        for t in tickets:
            counts[t[k - 1] - 1] += 1
        p = order_statistic(k)
        chi, dof = pooled_chi_square(counts, [len(tickets) * q for q in p])
        positions.append({"position": k, "mean": sum(a * c for a, c in zip(rules.NUMBERS, counts)) / len(tickets),
                          "expected_mean": sum(a * q for a, q in zip(rules.NUMBERS, p)), "chi2": chi, "dof": dof})
    numbers = judge.ticket_fidelity({"tickets": s} for s in sessions)["number_counts"]  # valid tickets only, as here
    chance = len(tickets) * rules.NUMBERS_PER_TICKET / len(rules.NUMBERS)
    overlaps = [len(set(a) & set(b)) for s in sessions for a, b in zip(s, s[1:]) if a and b]
    return {"tickets": len(tickets), "positions": positions, "number_ratio": [c / chance for c in numbers],
            "consecutive_overlap": sum(overlaps) / len(overlaps) if overlaps else None}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sessions", nargs="+", help="eval.py's sessions_<suite>.jsonl files")
    args = parser.parse_args(argv)
    for path in args.sessions:
        try:
            with open(path, encoding="utf-8") as fh:
                sessions = [json.loads(line).get("tickets") or [] for line in fh if line.strip()]
            out = report(sessions)
        except (OSError, ValueError) as exc:  # json.JSONDecodeError is a ValueError
            parser.error(f"{path}: {exc}")
        print(f"{path}: {out['tickets']:,} valid tickets; consecutive tickets share {out['consecutive_overlap']:.3f} "
              "numbers (chance 0.800)")
        for p in out["positions"]:
            print(f"  position {p['position']}: mean {p['mean']:.2f} (uniform {p['expected_mean']:.2f}), "
                  f"chi-square {p['chi2']:.1f} on {p['dof']} dof")
        print("  count / chance: " + " ".join(f"{n}:{r:.2f}" for n, r in zip(rules.NUMBERS, out["number_ratio"])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
