#!/usr/bin/env python
"""Play the lotto console against a model and judge it: the blog's TEST SUMMARY and more.

    python eval.py --model out/model --num_sessions 5000 --suite small --output_dir out/eval

The suite is a pure function of --seed: for each session the money (small: 1,000..20,000
won, the blog's test; large: 1,000..100,000), whether it types bad inputs, and how its draw
is chosen. The model issues its tickets from the money alone; THEN the draw is chosen:
- even sessions: independently of the tickets (real-life odds: they enter the rank test);
- odd sessions: after seeing the model's tickets, so that one of its valid tickets hits a
  given rank (3, 4, 5, 5+bonus, 6 in turn, `data.forced_draw`), which tests the counting
  of rare ranks. If the model printed no valid ticket, the draw falls back to independent.
So a transcript model is played in two phases: up to the winning-number prompt, then the
draw is typed.

Bad inputs (--bad_input_share of the sessions, transcript format only): the training kinds
(`data.bad_money/bad_winning/bad_bonus`), text from Unicode blocks never seen in training
(Cyrillic, Greek, kana, CJK, Arabic, Thai, fullwidth digits and commas, ...) and lines over 64
characters (answered by the console shell). Every bad line is checked to be rejected.

Seed-format models (the blog's baseline) read the draw in their prompt, before the tickets:
their draws are chosen from the money alone, before generation (the blog's setting). The
"forced" half forces a rank onto a ticket drawn by the harness that the model never sees, so
every draw is independent of the model's tickets and every session enters the rank test.
Seed-format sessions have no bad inputs.

Writes to --output_dir: eval_results.json, report.md, sessions_<suite>.jsonl (texts and
verdicts) and PNG plots (failure categories, accuracy by ticket count, number histogram).
"""
from __future__ import annotations

import json
import random
import sys
import time
import zlib
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from transformers import HfArgumentParser

from lotto_gpt import data, judge, rules
from lotto_gpt.data import FORCEABLE_RANKS
from lotto_gpt.diagnostics import first_wrong_lines

SUITES = {"small": (1, 20), "large": (1, 100)}  # tickets (money / 1,000)
STAGES = ("money", "winning", "bonus")


@dataclass
class EvalArguments:
    model: str = field(default=None, metadata={"help": "model folder (or Hub id) with its tokenizer"})
    num_sessions: int = field(default=5000, metadata={"help": "sessions per suite (the blog: 5,000)"})
    seed: int = field(default=0, metadata={"help": "the suite and the model's ticket sampling follow from it"})
    suite: str = field(default="small", metadata={"help": "small (1,000..20,000 won), large (..100,000) or both"})
    batch_size: int = field(default=64, metadata={"help": "sessions per generate() call"})
    bad_input_share: float = field(default=0.2, metadata={"help": "share of sessions with bad inputs"})
    variant_share: float = field(default=0.2, metadata={"help": "share of valid inputs typed with spaces/zeros"})
    max_tickets: int = field(default=None, metadata={"help": "override the suite's largest ticket count"})
    output_dir: str = field(default="eval_out", metadata={"help": "where results, report and plots go"})
    max_new_tokens: int = field(default=None, metadata={"help": "tokens per turn (default: the model's, else 3400)"})
    budget: str = field(default="auto", metadata={"help": "auto (runaway guard per turn) or fixed"})
    ticket_temperature: float = field(
        default=1.0, metadata={"help": "sampling temperature of the ticket lines (1: the model's own distribution; "
                                       "benchmarks/ticket_temperature.py)"}
    )
    format: str = field(default=None, metadata={"help": "override the model's format (config.lotto_format)"})
    device: str = field(default=None, metadata={"help": "cpu, cuda, ... (default: where the model loads)"})
    threads: int = field(
        default=1, metadata={"help": "torch CPU threads (0: torch's default). One is as fast for small models and "
                                     "far faster when other jobs share the CPU (2 threads idled ~20x slower here)"})
    n_examples: int = field(default=3, metadata={"help": "failed sessions shown per category in the report"})
    save_texts: bool = field(default=True, metadata={"help": "keep model texts in sessions_<suite>.jsonl"})
    progress: bool = field(default=True, metadata={"help": "tqdm progress bars"})


# ---------------------------------------------------------------- bad inputs never seen in training

NOVEL_BLOCKS = [
    (0x0410, 0x044F),  # Cyrillic
    (0x0391, 0x03C9),  # Greek
    (0x3041, 0x3096),  # Hiragana
    (0x30A1, 0x30FA),  # Katakana
    (0x4E00, 0x9FA5),  # CJK ideographs
    (0x0627, 0x064A),  # Arabic
    (0x0E01, 0x0E3A),  # Thai
    (0x05D0, 0x05EA),  # Hebrew
    (0x2190, 0x21FF),  # arrows
    (0x2200, 0x22FF),  # mathematical operators
    (0xFF10, 0xFF19),  # fullwidth digits (not ASCII digits: rejected)
]
NOVEL_SEPARATORS = ["，", "、", "·", "|", "_", "~", "\u3000"]  # never a comma


def novel_text(rng: random.Random, n: int) -> str:
    lo, hi = rng.choice(NOVEL_BLOCKS)
    return "".join(chr(rng.randint(lo, hi)) for _ in range(n))


def novel_bad_line(stage: str, rng: random.Random, winning=None) -> str:
    r = rng.random()
    if r < 0.25:
        return novel_text(rng, rng.randint(65, 90))  # the console shell answers these
    if r < 0.35:
        return ("1," * 40)[: rng.randint(65, 80)]
    if r < 0.6:
        return novel_text(rng, rng.randint(1, 12))
    if stage == "money":
        amount = str(rng.randint(1, 100) * 1000)
        return rng.choice([amount + novel_text(rng, 1), novel_text(rng, 1) + amount,
                           "".join(chr(0xFF10 + int(c)) for c in amount)])
    if stage == "winning":
        numbers = [str(x) for x in rng.sample(range(1, 46), 6)]
        return rng.choice(NOVEL_SEPARATORS).join(numbers)
    return rng.choice([chr(0xFF10 + rng.randint(1, 9)), str(rng.randint(1, 45)) + novel_text(rng, 1)])


def _rejected(stage: str, line: str, winning) -> bool:
    if stage == "money":
        return rules.parse_money(line)[1] is not None
    if stage == "winning":
        return rules.parse_winning(line)[1] is not None
    return rules.parse_bonus(line, winning)[1] is not None


def bad_lines(stage: str, rng: random.Random, winning=None) -> list[str]:
    """1-3 lines the program rejects at `stage`: training kinds and novel ones, half and half."""
    out = []
    for _ in range(rng.choice(data.BAD_LINE_REPEATS)):
        for _ in range(50):
            if rng.random() < 0.5:
                line = {"money": lambda: data.bad_money(rng), "winning": lambda: data.bad_winning(rng),
                        "bonus": lambda: data.bad_bonus(winning, rng)}[stage]()
            else:
                line = novel_bad_line(stage, rng, winning)
            if "\n" not in line and "\r" not in line and _rejected(stage, line, winning):
                out.append(line)
                break
    return out


# ---------------------------------------------------------------- the suite

@dataclass
class Plan:
    index: int
    suite: str
    n_tickets: int
    independent: bool
    forced_rank: str | None
    bad_stages: list[str]
    variants: list[bool]
    seed: int
    lines: list[str] = field(default_factory=list)
    winning: tuple | None = None
    bonus: int | None = None
    forced_fallback: bool = False


def _rng(seed: int, suite: str, index: int, part: str) -> random.Random:
    return random.Random(f"{seed}/{suite}/{index}/{part}")


def make_plan(index: int, suite: str, seed: int, args: EvalArguments, fmt: str) -> Plan:
    rng = _rng(seed, suite, index, "plan")
    lo, hi = SUITES[suite]
    hi = min(hi, args.max_tickets) if args.max_tickets else hi
    n = rng.randint(lo, hi)
    independent = index % 2 == 0
    forced = None if independent else FORCEABLE_RANKS[(index // 2) % len(FORCEABLE_RANKS)]
    bad = []
    if fmt == "transcript" and rng.random() < args.bad_input_share:
        bad = sorted(rng.sample(STAGES, rng.randint(1, 3)), key=STAGES.index)
    variants = [fmt == "transcript" and rng.random() < args.variant_share for _ in STAGES]
    play_seed = zlib.crc32(f"{seed}/{suite}/{index}/tickets".encode())
    plan = Plan(index, suite, n, independent, forced, bad, variants, play_seed)
    money_rng = _rng(seed, suite, index, "money")
    if "money" in bad:
        plan.lines += bad_lines("money", money_rng)
    plan.lines.append(data.type_money(n * rules.TICKET_PRICE, money_rng, variants[0]))
    return plan


def choose_draw(plan: Plan, model_tickets, rng: random.Random) -> None:
    """Independent draw, or one forced onto a valid ticket (the model's, or a hidden one)."""
    if plan.independent:
        plan.winning, plan.bonus = data.uniform_draw(rng)
        return
    valid = [t for t in (model_tickets or []) if t is not None and rules.is_valid_ticket(t)]
    if model_tickets is None:  # seed format: a ticket the model never sees
        valid = [rules.issue_ticket(rng)]
    if not valid:
        plan.forced_fallback = True
        plan.winning, plan.bonus = data.uniform_draw(rng)
        return
    plan.winning, plan.bonus = data.forced_draw(rng.choice(valid), plan.forced_rank, rng)


def draw_lines(plan: Plan, rng: random.Random) -> list[str]:
    out = []
    if "winning" in plan.bad_stages:
        out += bad_lines("winning", rng)
    out.append(data.type_numbers(plan.winning, rng, plan.variants[1]))
    if "bonus" in plan.bad_stages:
        out += bad_lines("bonus", rng, plan.winning)
    out.append(data.type_number(plan.bonus, rng, plan.variants[2]))
    return out


# ---------------------------------------------------------------- playing

def play_suite(machine, suite: str, args: EvalArguments) -> tuple[list[Plan], list]:
    from tqdm.auto import tqdm

    from lotto_gpt.generation import Session

    fmt = machine.fmt
    plans = [make_plan(i, suite, args.seed, args, fmt) for i in range(args.num_sessions)]
    if fmt == "seed":
        for plan in plans:
            rng = _rng(args.seed, suite, plan.index, "draw")
            choose_draw(plan, None, rng)
            plan.lines = [str(plan.n_tickets * rules.TICKET_PRICE), ",".join(map(str, plan.winning)), str(plan.bonus)]
        with tqdm(total=len(plans), desc=f"{suite}: sessions", disable=not args.progress) as bar:
            plays = machine.play_many([Session(p.lines, seed=p.seed) for p in plans], args.batch_size, progress=bar)
        return plans, plays
    with tqdm(total=len(plans), desc=f"{suite}: phase 1 (tickets)", disable=not args.progress) as bar:
        plays = machine.play_many([Session(list(p.lines), seed=p.seed) for p in plans], args.batch_size, progress=bar)
    more = []
    for plan, play in zip(plans, plays):
        rng = _rng(args.seed, suite, plan.index, "draw")
        choose_draw(plan, play.tickets, rng)
        extra = draw_lines(plan, rng)
        plan.lines += extra
        more.append(extra)
    with tqdm(total=len(plans), desc=f"{suite}: phase 2 (draw)", disable=not args.progress) as bar:
        machine.resume_many(plays, more, args.batch_size, progress=bar)
    return plans, plays


# ---------------------------------------------------------------- judging and reporting

def judge_suite(plans, plays, fmt: str, seconds: float, work_lines: bool = True) -> tuple[dict, list[dict]]:
    records, verdicts, fidelity_in = [], [], []
    for plan, play in zip(plans, plays):
        reference = judge.make_reference(plan.lines, fmt)
        v = judge.judge(play.text, reference)
        verdicts.append(v)
        tickets = play.tickets
        fidelity_in.append({"tickets": tickets, "winning": plan.winning, "bonus": plan.bonus,
                            "independent": plan.independent or fmt == "seed"})
        records.append({
            "index": plan.index, "suite": plan.suite, "n_tickets": plan.n_tickets,
            "independent": plan.independent, "forced_rank": plan.forced_rank,
            "forced_fallback": plan.forced_fallback, "bad_stages": plan.bad_stages,
            "reference": reference, "winning": list(plan.winning), "bonus": plan.bonus,
            "stop": play.stop, "turns": play.turns, "n_generated": play.n_generated,
            "tickets": [list(t) if t is not None else None for t in tickets],
            "counts": play.counts, "rate": play.return_rate, "verdict": v.to_dict(),
            "text": play.text, "stdout": play.stdout,
        })
    summary = judge.summarize(verdicts)
    fidelity = judge.ticket_fidelity(fidelity_in)
    by_n = {}
    for rec in records:
        b = by_n.setdefault(rec["n_tickets"], {"sessions": 0, "ok": 0, "exact": 0, "format_ok": 0})
        b["sessions"] += 1
        b["ok"] += rec["verdict"]["ok"]
        b["exact"] += rec["verdict"]["exact"]
        b["format_ok"] += rec["verdict"]["format_error"] is None
    by_draw = {}
    for rec in records:
        key = "independent" if rec["independent"] else f"forced {rec['forced_rank']}"
        b = by_draw.setdefault(key, {"sessions": 0, "ok": 0, "exact": 0})
        b["sessions"] += 1
        b["ok"] += rec["verdict"]["ok"]
        b["exact"] += rec["verdict"]["exact"]
    tokens = sum(p.n_generated for p in plays)
    first_wrong = first_wrong_lines(records, work_lines) if fmt == "transcript" else Counter()
    result = {
        "summary": summary,
        "fidelity": fidelity,
        "by_ticket_count": {str(k): by_n[k] for k in sorted(by_n)},
        "by_draw": dict(sorted(by_draw.items())),
        "stop_reasons": dict(Counter(p.stop for p in plays)),
        "first_wrong_line": dict(first_wrong.most_common()),
        "forced_fallbacks": sum(p.forced_fallback for p in plans),
        "timing": {"seconds": seconds, "sessions_per_s": len(plays) / seconds if seconds else None,
                   "generated_tokens": tokens, "tokens_per_s": tokens / seconds if seconds else None},
    }
    return result, records


def print_fidelity(f: dict) -> str:
    lines = ["=== TICKET FIDELITY ==="]
    lines.append(f"tickets : {f['n_ticket_lines']} lines, {f['n_valid_tickets']} valid "
                 f"(invalid rate {_fmt(f['invalid_ticket_rate'])})")
    lines.append(f"numbers chi-square p : {_fmt(f['number_chi2_p'])} (uniform: {f['numbers_uniform']})")
    lines.append(f"duplicate tickets : {f['duplicate_pairs']} pairs, chance {f['duplicate_pairs_expected']:.3f}, "
                 f"p {_fmt(f['duplicate_p'])}")
    lines.append(f"rank test ({f['n_independent_tickets']} tickets, independent draws) : {f['rank_test_ok']}")
    for key, r in f["ranks"].items():
        lines.append(f"  {key:>2}: observed {r['observed']}, expected {r['expected']:.2f}, "
                     f"99% interval {r['interval']}, p {_fmt(r['p_value'])}")
    return "\n".join(lines)


def _fmt(x) -> str:
    if x is None:
        return "n/a"
    if isinstance(x, float):
        return f"{x:.4g}"
    return str(x)


def plot_suite(result: dict, suite: str, out: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    files = []

    def save(fig, stem: str) -> None:
        fig.tight_layout()
        name = f"{stem}_{suite}.png"
        fig.savefig(out / name, dpi=110)
        plt.close(fig)
        files.append(name)

    s = result["summary"]
    cats = list(judge.FORMAT_CATEGORIES) + list(judge.LOGIC_CATEGORIES) + ["truncated", "no_end"]
    fig, ax = plt.subplots(figsize=(10, 4.5))
    colors = ["#d62728"] * len(judge.FORMAT_CATEGORIES) + ["#ff7f0e"] * len(judge.LOGIC_CATEGORIES) + ["#7f7f7f"] * 2
    ax.bar(["ok"] + cats, [s["n_ok"]] + [s[c] for c in cats], color=["#2ca02c"] + colors)
    ax.set_ylabel("sessions")
    ax.set_title(f"{suite}: outcome of {s['n_total']} sessions (red: format, orange: logic, grey: diagnostics)")
    plt.setp(ax.get_xticklabels(), rotation=40, ha="right")
    save(fig, "failures")

    by_n = result["by_ticket_count"]
    xs = [int(k) for k in by_n]
    fig, ax = plt.subplots(figsize=(8, 4))
    for key, label in (("ok", "right (format + logic)"), ("exact", "exact console"), ("format_ok", "format ok")):
        ax.plot(xs, [by_n[str(x)][key] / by_n[str(x)]["sessions"] for x in xs], marker=".", label=label)
    ax.set_xlabel("tickets")
    ax.set_ylabel("share of sessions")
    ax.set_ylim(-0.02, 1.02)
    ax.set_title(f"{suite}: accuracy by ticket count")
    ax.legend(framealpha=0.9)
    save(fig, "accuracy_by_tickets")

    f = result["fidelity"]
    counts = f["number_counts"]
    total = sum(counts)
    fig, ax = plt.subplots(figsize=(10, 4))
    ax.bar(range(1, 46), counts, color="#1f77b4", label="model tickets")
    if total:
        mean = total / 45
        sd = (total * (1 / 45) * (44 / 45)) ** 0.5
        ax.axhline(mean, color="k", lw=1, label="uniform")
        ax.axhspan(mean - 2.58 * sd, mean + 2.58 * sd, color="k", alpha=0.1, label="99% band")
    ax.set_xlabel("number")
    ax.set_ylabel("count")
    ax.set_title(f"{suite}: numbers in valid tickets (chi-square p = {_fmt(f['number_chi2_p'])})")
    ax.legend(loc="lower right", framealpha=0.9)
    save(fig, "numbers")
    return files


def report_markdown(results: dict, records_by_suite: dict, args: EvalArguments) -> str:
    out = [f"# Lotto console evaluation: `{args.model}`", ""]
    out.append(f"Format: `{results['format']}`; seed {args.seed}; {args.num_sessions} sessions per suite; "
               f"bad-input share {args.bad_input_share if results['format'] == 'transcript' else 0}; "
               f"device {results['device']}.")
    if results["format"] == "seed":
        out += ["", "Seed format: the draw is in the prompt, so every draw is chosen from the money alone, "
                "before generation (the blog's setting); forced ranks are forced onto a ticket the model never "
                "sees, so all sessions enter the rank test."]
    out.append("")
    for suite, res in results["suites"].items():
        s, f = res["summary"], res["fidelity"]
        out += [f"## Suite `{suite}`", "", "```", judge.format_summary(s), "```", ""]
        out += ["| measure | value |", "| --- | --- |"]
        for key in ("ok_rate", "format_ok_rate", "exact_console_rate", "bad_input_accuracy"):
            out.append(f"| {key} | {_fmt(s[key])} |")
        out.append(f"| stop reasons | {res['stop_reasons']} |")
        t = res["timing"]
        out.append(f"| time | {t['seconds']:.1f} s ({_fmt(t['sessions_per_s'])} sessions/s, "
                   f"{_fmt(t['tokens_per_s'])} tokens/s) |")
        out += ["", "### Ticket fidelity", "", "```", print_fidelity(f), "```", ""]
        out += ["### By draw", "", "| draw | sessions | right | exact |", "| --- | --- | --- | --- |"]
        for key, b in res["by_draw"].items():
            out.append(f"| {key} | {b['sessions']} | {b['ok'] / b['sessions']:.3f} | {b['exact'] / b['sessions']:.3f} |")
        out += ["", "### By ticket count", "", "| tickets | sessions | right | exact |", "| --- | --- | --- | --- |"]
        for k, b in res["by_ticket_count"].items():
            out.append(f"| {k} | {b['sessions']} | {b['ok'] / b['sessions']:.3f} | {b['exact'] / b['sessions']:.3f} |")
        if res.get("first_wrong_line"):
            out += ["", "### First wrong line of each failed session", "",
                    "Everything after it is conditioned on it (`lotto_gpt.diagnostics.first_wrong_line`).", "",
                    "| line | sessions |", "| --- | --- |"]
            out += [f"| {kind} | {n} |" for kind, n in res["first_wrong_line"].items()]
        out.append("")
        for name in res["plots"]:
            out += [f"![{name}]({name})", ""]
        out += ["### Failed sessions (examples)", ""]
        shown = Counter()
        for rec in records_by_suite[suite]:
            v = rec["verdict"]
            cat = v["format_error"] or (v["logic_errors"][0] if v["logic_errors"] else None)
            if cat is None or shown[cat] >= args.n_examples:
                continue
            shown[cat] += 1
            out += [f"**session {rec['index']}** ({cat}; all: {', '.join(v['problems'])}; stop: {rec['stop']}); "
                    f"typed: `{json.dumps(rec['reference']['lines'], ensure_ascii=False)}`", "", "```",
                    rec["stdout"][-1500:].rstrip("\n"), "```", ""]
    return "\n".join(out)


# ---------------------------------------------------------------- main

def run_eval(args: EvalArguments, machine=None) -> dict:
    """Evaluate; `machine` (a LottoMachine) replaces loading --model, for tests."""
    import torch

    from lotto_gpt.generation import LottoMachine

    if args.threads:
        torch.set_num_threads(args.threads)
    if args.suite not in ("small", "large", "both"):
        raise ValueError(f"--suite is small, large or both, not {args.suite!r}")
    if machine is None:
        if not args.model:
            raise ValueError("--model is required")
        machine = LottoMachine.from_pretrained(args.model, fmt=args.format, max_new_tokens=args.max_new_tokens,
                                               device=args.device, budget=args.budget,
                                               ticket_temperature=args.ticket_temperature)
    out = Path(args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    suites = ["small", "large"] if args.suite == "both" else [args.suite]
    results = {"model": args.model, "format": machine.fmt, "device": str(machine.model.device),
               "config": asdict(args), "suites": {}}
    records_by_suite = {}
    for suite in suites:
        start = time.perf_counter()
        plans, plays = play_suite(machine, suite, args)
        seconds = time.perf_counter() - start
        work_lines = getattr(getattr(machine.model, "config", None), "lotto_work_lines", True)
        res, records = judge_suite(plans, plays, machine.fmt, seconds, work_lines)
        res["plots"] = plot_suite(res, suite, out)
        results["suites"][suite] = res
        records_by_suite[suite] = records
        with open(out / f"sessions_{suite}.jsonl", "w", encoding="utf-8") as fh:
            for rec in records:
                if not args.save_texts:
                    rec = {k: v for k, v in rec.items() if k not in ("text", "stdout")}
                fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
        print(f"\n[{suite}] {len(plays)} sessions in {seconds:.1f} s")
        print(judge.format_summary(res["summary"]))
        print(print_fidelity(res["fidelity"]))
    with open(out / "eval_results.json", "w", encoding="utf-8") as fh:
        json.dump(results, fh, ensure_ascii=False, indent=2)
    (out / "report.md").write_text(report_markdown(results, records_by_suite, args), encoding="utf-8")
    return results


def main(argv=None) -> dict:
    parser = HfArgumentParser(EvalArguments)
    (args,) = parser.parse_args_into_dataclasses(args=argv)
    if not args.model:
        parser.error("--model is required")
    if not 0 < args.ticket_temperature < float("inf"):
        parser.error(f"--ticket_temperature must be positive (got {args.ticket_temperature})")
    return run_eval(args)


if __name__ == "__main__":
    main(sys.argv[1:])
