"""The judge: one model text against the rule engine, the blog's TEST SUMMARY, ticket fidelity.

Pure functions over text (no torch): `metrics/lotto_judge` and `eval.py` wrap them.

A *reference* is the structured run the text must reproduce: the typed lines (and, for the
seed format, money/winning/bonus, from which the lines follow). The model's own tickets are
random, so every check is made against the model's tickets, never against the reference's.

Checks per session, in the blog's order (shared/seeds/000, "모델 테스트"):

format level (the first failing check names the session's format failure, so the format
categories add up to `n_format_fail`, as in the blog's summary: 0 + 2 + 11 + 35 + 245 = 293):
  test_fail                  the text could not be judged at all (an exception in the parser)
  ticket_count_parse_error   no "N개를 구매했습니다." / "티켓수=N" line
  ticket_lines_format_error  no ticket lines, or a line that is not `[a, b, ...]`
  result_labels_parse_error  a statistics line or the rate line missing (or duplicated)
  ticket_count_mismatch      N != money / 1,000, or N != the number of ticket lines
  ticket_numbers_invalid     a ticket that is not six distinct ascending numbers in 1..45
  end_error                  only the end is wrong: something follows the results (see `no_end`)

logic level (counted only when the format is fine; a session may have several):
  match_stats_mismatch       the five counts != the rule engine's counts for the model's own tickets
  roi_mismatch               the printed rate != the rate of the printed counts (its own arithmetic)
  input_handling_mismatch    the console up to the final accepted input differs from the rule
                             engine's (wrong [ERROR] line, missing re-prompt, wrong prompt or
                             blank line); ticket lines are left out of this comparison

diagnostics (any session, not exclusive):
  truncated    the text stops before the results (no rate line): cut in the middle
  no_end       the results are there but the text does not end right after them
               (a repetition loop, trailing garbage, a missing `</OUT>`)
  exact        the console text equals `rules.console_text(rules.play(lines, tickets=the
               model's tickets))` exactly (seed format: the OUT block equals the rule engine's)
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass, field

from . import rules
from .formats import seed as seed_fmt
from .formats import transcript
from .rules import RANK_KEYS, Msg

FORMAT_CATEGORIES = (
    "test_fail",
    "ticket_count_parse_error",
    "ticket_lines_format_error",
    "result_labels_parse_error",
    "ticket_count_mismatch",
    "ticket_numbers_invalid",
    "end_error",
)
LOGIC_CATEGORIES = ("match_stats_mismatch", "roi_mismatch", "input_handling_mismatch")
BLOG_KEYS = (
    "n_total", "n_ok", "n_fail", "n_format_fail", "n_logic_fail",
    "ticket_count_parse_error", "ticket_lines_format_error", "result_labels_parse_error",
    "ticket_count_mismatch", "ticket_numbers_invalid", "match_stats_mismatch", "roi_mismatch", "test_fail",
)


# ---------------------------------------------------------------- references

def make_reference(lines=None, fmt: str = "transcript", money=None, winning=None, bonus=None, **meta) -> dict:
    """A JSON-able reference. Seed format: give `lines` or money/winning/bonus."""
    if lines is None:
        if money is None or winning is None or bonus is None:
            raise ValueError("give the typed lines, or money, winning and bonus")
        lines = [str(money), ",".join(map(str, winning)), str(bonus)]
    ref = {"format": fmt, "lines": list(lines)}
    ref.update(meta)
    return ref


def load_reference(reference) -> dict:
    """A reference from a dict or its JSON string; money/winning/bonus become lines."""
    if isinstance(reference, str):
        reference = json.loads(reference)
    ref = dict(reference)
    ref.setdefault("format", "transcript")
    if ref.get("lines") is None:
        ref = make_reference(None, ref.pop("format"), ref.pop("money", None), ref.pop("winning", None),
                             ref.pop("bonus", None), **{k: v for k, v in ref.items() if k != "lines"})
    return ref


# ---------------------------------------------------------------- console text of a model transcript

def console_stdout(text: str, lines) -> str:
    """What the console prints for a model transcript, given every typed line.

    Lines over 64 characters never reach the model: the console shell answers them with
    `[ERROR] 입력은 64자를 넘을 수 없습니다.` and the prompt again (the last line the model
    printed), then reads the next line. Each `<in>` of the text receives the next line of at
    most 64 characters; the long lines before it are answered at that `<in>`, and long lines
    left at a final bare `<in>` (the text waits for input) are answered there.
    """
    out, i, last_visible = [], 0, None
    segments = text.split("\n")
    for idx, seg in enumerate(segments):
        if seg.startswith(transcript.IN):
            bare_end = idx == len(segments) - 1 and seg == transcript.IN
            while i < len(lines) and rules.check_length(lines[i]) is not None:
                out.append(Msg.LINE_TOO_LONG)
                if last_visible is not None:
                    out.append(last_visible)
                i += 1
            if not bare_end:
                i += 1
            out.append(seg)
            continue
        visible, _ = transcript.stdout_lines(seg)
        if visible:
            last_visible = visible[-1]
        out.append(seg)
    return transcript.to_stdout("\n".join(out))


def _is_ticket_line(line: str) -> bool:
    return line.startswith("[") and not line.startswith("[ERROR]")


def _input_prefix_ok(text: str, lines, run: rules.Run) -> bool:
    """The console up to the final accepted input (ticket lines left out) equals the rule engine's."""
    if not run.attempts:
        return True
    accepted = [k for k, a in enumerate(run.attempts) if a.error is None]
    k = accepted[-1] if accepted else len(run.attempts) - 1
    typed = [a.line for a in run.attempts]
    expected = rules.console_lines(rules.play(typed[:k], seed=0))
    # the model receives lines[k] at its j-th <in> (0-based), j = short lines before it
    j = sum(1 for line in typed[:k] if rules.check_length(line) is None)
    starts = [m.start() for m in re.finditer(r"(?:^|\n)" + re.escape(transcript.IN), text)]
    if len(starts) <= j:
        return False
    cut = starts[j] + (1 if text[starts[j]] == "\n" else 0)
    actual = console_stdout(text[:cut] + transcript.IN, typed[:k]).split("\n")
    if actual and actual[-1] == "":
        actual = actual[:-1]
    return [x for x in actual if not _is_ticket_line(x)] == [x for x in expected if not _is_ticket_line(x)]


# ---------------------------------------------------------------- one session

@dataclass
class Verdict:
    """The judge's word on one session. `ok`: format and logic right (the blog's n_ok)."""

    ok: bool
    format_error: str | None = None  # first failing format check (FORMAT_CATEGORIES)
    logic_errors: list[str] = field(default_factory=list)  # counted only when the format is fine
    problems: list[str] = field(default_factory=list)  # every failing check, for reports
    truncated: bool = False
    no_end: bool = False
    exact: bool = False
    has_bad_input: bool = False
    input_ok: bool | None = None  # None: not applicable (seed format)
    n_tickets: int = 0  # tickets the money buys
    detail: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


def _end_check(text: str, fmt: str) -> tuple[bool, bool]:
    """(truncated, no_end) of a text that should hold the complete results."""
    if fmt == "seed":
        if seed_fmt.SEPARATOR in text:
            text = text.split(seed_fmt.SEPARATOR, 1)[1]
        match = re.search(r"(?m)^수익률=\d+\.\d%\n", text)
        if match is None:
            return True, False
        return False, text[match.end():] != "</OUT>"
    text = transcript.without_places(text)
    match = re.search(r"(?m)^" + transcript.RATE_LINE.pattern + r"(?:\n|$)", text)
    if match is None:
        return True, False
    return False, text[match.end():] != ""


def judge(prediction: str, reference) -> Verdict:
    """Judge one model text against one reference (dict, JSON string). Never raises."""
    try:
        return _judge(prediction, load_reference(reference))
    except Exception as exc:  # a judge must survive any text
        return Verdict(ok=False, format_error="test_fail", problems=["test_fail"],
                       detail=f"{type(exc).__name__}: {exc}")


def _judge(text: str, ref: dict) -> Verdict:
    fmt = ref["format"]
    if fmt not in ("transcript", "seed"):
        raise ValueError(f"unknown format {fmt!r}")
    lines = list(ref["lines"])
    run = rules.play(lines, seed=0)  # the tickets do not matter here: money, draw, attempts
    if fmt == "seed" and (not run.complete or run.errors):
        raise ValueError("a seed-format reference must be a complete run without bad inputs")
    parsed = (seed_fmt if fmt == "seed" else transcript).parse(text)
    v = Verdict(ok=False, n_tickets=run.n_tickets, has_bad_input=bool(run.errors))
    problems: list[str] = []
    if any(p.startswith("test_fail") for p in parsed.problems):
        problems.append("test_fail")
        v.detail = next(p for p in parsed.problems if p.startswith("test_fail"))
    money_ok, complete = run.money is not None, run.complete
    n = run.n_tickets
    if money_ok:
        for cat in ("ticket_count_parse_error", "ticket_lines_format_error"):
            if cat in parsed.problems:
                problems.append(cat)
    if complete and "result_labels_parse_error" in parsed.problems:
        problems.append("result_labels_parse_error")
    tickets = [t for t in parsed.tickets if t is not None]
    if money_ok and parsed.ticket_count is not None:
        if parsed.ticket_count != n or len(parsed.tickets) != parsed.ticket_count:
            problems.append("ticket_count_mismatch")
        if any(not rules.is_valid_ticket(t) for t in tickets):
            problems.append("ticket_numbers_invalid")
    if complete:
        v.truncated, v.no_end = _end_check(text, fmt)
        if v.no_end:
            problems.append("end_error")
    format_errors = [c for c in FORMAT_CATEGORIES if c in problems]
    v.format_error = format_errors[0] if format_errors else None

    # logic level
    logic = []
    if complete and parsed.counts is not None and parsed.tickets and all(t is not None for t in parsed.tickets):
        if parsed.counts != rules.count_ranks(tickets, run.winning, run.bonus):
            logic.append("match_stats_mismatch")
        if parsed.rate is not None:
            tenths = rules.rate_tenths(rules.prize_total(parsed.counts), n)
            expected_rate = seed_fmt.format_rate(tenths) if fmt == "seed" else rules.format_rate(tenths)
            if parsed.rate != expected_rate:
                logic.append("roi_mismatch")
    if fmt == "transcript":
        v.input_ok = _input_prefix_ok(text, lines, run)
        if not v.input_ok:
            logic.append("input_handling_mismatch")
    problems += logic
    v.problems = problems
    v.logic_errors = logic if v.format_error is None else []
    v.ok = v.format_error is None and not v.logic_errors
    v.exact = _exact(text, lines, fmt, run, parsed)
    return v


def _model_tickets(run: rules.Run, parsed) -> list | None:
    """The model's tickets if the rule engine can replay them (valid, and as many as paid for)."""
    if run.money is None:
        return None
    if len(parsed.tickets) != run.n_tickets or not all(t is not None and rules.is_valid_ticket(t) for t in parsed.tickets):
        return False
    return [tuple(t) for t in parsed.tickets]


def _exact(text: str, lines, fmt: str, run: rules.Run, parsed) -> bool:
    tickets = _model_tickets(run, parsed)
    if tickets is False:
        return False
    replay = rules.play(lines, tickets=tickets, seed=0)
    if fmt == "seed":
        expected = seed_fmt.to_text(replay).split(seed_fmt.SEPARATOR + "\n", 1)[1]
        actual = text.split(seed_fmt.SEPARATOR + "\n", 1)[1] if seed_fmt.SEPARATOR + "\n" in text else text
        return actual == expected
    return console_stdout(text, lines) == rules.console_text(replay)


def judge_many(predictions, references) -> list[Verdict]:
    predictions, references = list(predictions), list(references)
    if len(predictions) != len(references):
        raise ValueError(f"{len(predictions)} predictions for {len(references)} references")
    return [judge(p, r) for p, r in zip(predictions, references)]


# ---------------------------------------------------------------- the summary

def summarize(verdicts) -> dict:
    """The blog's TEST SUMMARY (same keys, same meaning) plus this project's extra fields."""
    verdicts = list(verdicts)
    s = {key: 0 for key in BLOG_KEYS}
    s.update({c: 0 for c in FORMAT_CATEGORIES + LOGIC_CATEGORIES})
    s["n_total"] = len(verdicts)
    for v in verdicts:
        if v.format_error is not None:
            s["n_format_fail"] += 1
            s[v.format_error] += 1
        elif v.logic_errors:
            s["n_logic_fail"] += 1
            for c in v.logic_errors:
                s[c] += 1
        else:
            s["n_ok"] += 1
    s["n_fail"] = s["n_format_fail"] + s["n_logic_fail"]
    s["truncated"] = sum(v.truncated for v in verdicts)
    s["no_end"] = sum(v.no_end for v in verdicts)
    s["n_exact_console"] = sum(v.exact for v in verdicts)
    bad = [v for v in verdicts if v.has_bad_input and v.input_ok is not None]
    s["n_bad_input_sessions"] = len(bad)
    s["n_bad_input_ok"] = sum(bool(v.input_ok) for v in bad)
    total = max(len(verdicts), 1)
    s["ok_rate"] = s["n_ok"] / total
    s["format_ok_rate"] = 1 - s["n_format_fail"] / total
    s["exact_console_rate"] = s["n_exact_console"] / total
    s["bad_input_accuracy"] = s["n_bad_input_ok"] / len(bad) if bad else None
    return s


def format_summary(summary: dict) -> str:
    """The blog's printout, then the extra fields."""
    out = ["=== TEST SUMMARY ==="]
    out += [f"{key} : {summary[key]}" for key in BLOG_KEYS]
    out.append("--- extra ---")
    for key in ("end_error", "input_handling_mismatch", "truncated", "no_end", "n_exact_console",
                "exact_console_rate", "n_bad_input_sessions", "n_bad_input_ok", "bad_input_accuracy"):
        value = summary.get(key)
        out.append(f"{key} : {value:.4f}" if isinstance(value, float) else f"{key} : {value}")
    return "\n".join(out)


# ---------------------------------------------------------------- ticket fidelity

def rank_odds() -> dict[str, float]:
    """Exact probability of each rank for one uniform ticket against an independent draw (6/45)."""
    total = math.comb(45, 6)
    return {
        "3": math.comb(6, 3) * math.comb(39, 3) / total,  # 0.022441
        "4": math.comb(6, 4) * math.comb(39, 2) / total,  # 0.0013646
        "5": math.comb(6, 5) * 38 / total,  # 5 drawn, the sixth neither drawn nor the bonus: 2.7992e-05
        "5b": math.comb(6, 5) * 1 / total,  # 5 drawn + the bonus: 7.3664e-07
        "6": 1 / total,  # 1.2277e-07
    }


def ticket_fidelity(records, alpha: float = 0.01) -> dict:
    """Are the model's tickets like the program's (uniform, independent of each other and the draw)?

    `records`: one dict per session with `tickets` (the printed tickets; None for an unparsable
    line) and, for the rank test, `winning`, `bonus` and `independent` (True when the draw was
    chosen without seeing the tickets). Valid tickets only enter the statistics.

    - `number_chi2_p`: chi-square of the 45 number counts against uniform.
    - `duplicate_*`: equal tickets within a session, against the chance count sum C(n,2)/C(45,6),
      with a Poisson upper-tail p-value.
    - `ranks`: per rank, the observed count of independent-draw tickets against the exact
      odds, a two-sided exact binomial p-value and the 99% (1 - alpha) interval of the count.
    """
    from scipy import stats

    records = list(records)
    counts = [0] * 45
    n_lines = n_valid = 0
    dup_pairs = 0
    dup_sessions = 0
    dup_expected = 0.0
    total_combos = math.comb(45, 6)
    rank_obs = {k: 0 for k in RANK_KEYS}
    n_indep = 0
    for rec in records:
        tickets = list(rec.get("tickets") or [])
        n_lines += len(tickets)
        valid = [tuple(t) for t in tickets if t is not None and rules.is_valid_ticket(tuple(t))]
        n_valid += len(valid)
        for t in valid:
            for x in t:
                counts[x - 1] += 1
        seen: dict[tuple, int] = {}
        for t in valid:
            seen[t] = seen.get(t, 0) + 1
        pairs = sum(c * (c - 1) // 2 for c in seen.values())
        dup_pairs += pairs
        dup_sessions += pairs > 0
        dup_expected += len(valid) * (len(valid) - 1) / 2 / total_combos
        if rec.get("independent") and rec.get("winning") is not None and rec.get("bonus") is not None:
            winning, bonus = tuple(rec["winning"]), rec["bonus"]
            for t in valid:
                n_indep += 1
                rank = rules.rank_of(t, winning, bonus)
                if rank is not None:
                    rank_obs[rank.key] += 1
    out = {
        "n_sessions": len(records),
        "n_ticket_lines": n_lines,
        "n_valid_tickets": n_valid,
        "invalid_ticket_rate": (n_lines - n_valid) / n_lines if n_lines else None,
        "number_counts": counts,
    }
    if n_valid:
        chi = stats.chisquare(counts)
        out["number_chi2"] = float(chi.statistic)
        out["number_chi2_p"] = float(chi.pvalue)
        out["numbers_uniform"] = bool(chi.pvalue > alpha)
    else:
        out.update(number_chi2=None, number_chi2_p=None, numbers_uniform=None)
    out["duplicate_pairs"] = dup_pairs
    out["duplicate_sessions"] = dup_sessions
    out["duplicate_pairs_expected"] = dup_expected
    out["duplicate_p"] = float(stats.poisson.sf(dup_pairs - 1, dup_expected)) if dup_pairs else 1.0
    out["duplicates_ok"] = bool(out["duplicate_p"] > alpha)
    ranks = {}
    odds = rank_odds()
    for key in RANK_KEYS:
        p, k = odds[key], rank_obs[key]
        entry = {"observed": k, "expected": n_indep * p, "odds": p,
                 "rate": k / n_indep if n_indep else None}
        if n_indep:
            lo, hi = stats.binom.interval(1 - alpha, n_indep, p)
            entry["interval"] = [int(lo), int(hi)]
            entry["p_value"] = float(stats.binomtest(k, n_indep, p).pvalue)
            entry["ok"] = bool(lo <= k <= hi)
        else:
            entry.update(interval=None, p_value=None, ok=None)
        ranks[key] = entry
    out["n_independent_tickets"] = n_indep
    out["ranks"] = ranks
    out["rank_test_ok"] = all(r["ok"] for r in ranks.values()) if n_indep else None
    return out
