"""Where a model fails, two ways:

- teacher-forced error rates per token category: which step fails, long before whole sessions
  do (feasibility notes: measure per position and kind, not only end to end); and the greedy
  ticket count after each amount 1,000..100,000 (`--counts`);
- the first wrong line of each failed session of an eval run (`first_wrong_line`): the step
  that broke it, since everything after a wrong line is conditioned on it.

    python -m lotto_gpt.diagnostics --model runs/x --dataset_dir data/transcript --rows 300
    python -m lotto_gpt.diagnostics --model runs/x --counts
    python -m lotto_gpt.diagnostics --sessions eval_out/sessions_small.jsonl
"""
from __future__ import annotations

import argparse
import json
import re
from collections import Counter

import torch

from . import rules
from .data import KIND_IDS, load_built_dataset, run_to_row, tokenize_rows
from .formats import Kind, join, transcript
from .integrity import CorruptFileError

_KIND_NAMES = {v: k for k, v in KIND_IDS.items()}
_DRAW_TOKEN = re.compile(r"<[db]\d+>")
_BONUS_TOKEN = re.compile(r"<b\d+>")
_HIT_FLAG = re.compile(r"<o\d+>")
_FLAG = re.compile(r"<[ox+]\d+>")
_CATEGORIES = [
    (_DRAW_TOKEN, "draw"),
    (re.compile(r"<t\d+>"), "index"),
    (re.compile(r"<[ox+]\d*>"), "flag"),
    (re.compile(r"<c\d+b?>"), "count"),
    (re.compile(r"<#\d+>"), "tally"),
    (re.compile(r"<n\d+>"), "divisor"),
    (re.compile(r"<q\dp\d+>"), "quotient"),
    (re.compile(r"<r\d+>"), "remainder"),
    (re.compile(r"<p\d+>"), "place"),
]


def categorize(tokens: list[str], kinds: list[int]) -> list[str | None]:
    """A category per target token; None for typed input and padding."""
    out, line_head = [], None
    for i, (tok, kind) in enumerate(zip(tokens, kinds)):
        name = _KIND_NAMES.get(kind)
        if i == 0 or tokens[i - 1] == "\n":
            line_head = tok
        if name is None or name == Kind.INPUT.value:
            out.append(None)
            continue
        category = next((c for pattern, c in _CATEGORIES if pattern.fullmatch(tok)), None)
        if category in ("flag", "draw") and i and _BONUS_TOKEN.fullmatch(tokens[i - 1]):
            if line_head is not None and line_head.startswith("<b"):
                category = "winning_check"  # `<d3>` writes a typed winning number, `<o3>` is a repeat (check_line)
            elif category == "flag":
                category = "bonus_check"  # `<+7>` accepts the typed bonus, `<o3>` is the duplicate (transcript.bonus_check)
        elif category is None:
            if name == Kind.TICKET.value:
                category = "ticket_number" if any(c.isdigit() for c in tok) else "ticket_syntax"
            elif name == Kind.WORK.value:
                category = "copy"
            elif name == Kind.TAIL.value:
                if line_head is not None and line_head.startswith("<n"):
                    category = "dividend"
                elif line_head is not None and line_head.startswith("총"):
                    category = "rate"
                else:
                    category = "stats"
            elif tok.startswith("[ERROR]"):
                # on a restated line: after a repeat's `<o3>` (`duplicate_work`), or the bonus's other errors after
                # the draw (`<d6>[ERROR]`)
                if i and _HIT_FLAG.fullmatch(tokens[i - 1]):
                    category = "duplicate_error"
                elif i and _DRAW_TOKEN.fullmatch(tokens[i - 1]):
                    category = "bonus_error"
                else:
                    category = "error_message"
            else:
                category = "program"
        out.append(category)
    return out


@torch.no_grad()
def token_errors(model, tokenizer, rows, batch_size: int = 8) -> dict:
    """Per category: teacher-forced argmax errors / tokens; plus sessions with no error
    outside the random ticket numbers."""
    model.eval()
    enc = tokenize_rows(rows, tokenizer)
    errors, totals = Counter(), Counter()
    sessions_ok = 0
    n = len(enc["input_ids"])
    for start in range(0, n, batch_size):
        ids_batch = enc["input_ids"][start:start + batch_size]
        kinds_batch = enc["kind_ids"][start:start + batch_size]
        longest = max(map(len, ids_batch))
        ids = torch.full((len(ids_batch), longest), tokenizer.pad_token_id)
        mask = torch.zeros_like(ids)
        for i, row in enumerate(ids_batch):
            ids[i, : len(row)] = torch.tensor(row)
            mask[i, : len(row)] = 1
        pred = model(input_ids=ids, attention_mask=mask).logits.argmax(-1)
        for i, row in enumerate(ids_batch):
            tokens = tokenizer.convert_ids_to_tokens(row)
            cats = categorize(tokens, kinds_batch[i])
            ok = True
            for t in range(1, len(row)):
                cat = cats[t]
                if cat is None:
                    continue
                wrong = int(pred[i, t - 1]) != row[t]
                totals[cat] += 1
                errors[cat] += wrong
                if cat in ("flag", "bonus_check", "winning_check"):  # per true flag: hits written as misses hide in the mixed rate
                    key = f"{cat} <{tokens[t][1]}>"
                    totals[key] += 1
                    errors[key] += wrong
                if wrong and cat != "ticket_number":
                    ok = False
            sessions_ok += ok
    report = {c: {"error": errors[c] / totals[c], "tokens": totals[c]} for c in sorted(totals)}
    report["sessions_all_right"] = sessions_ok / n
    return report


@torch.no_grad()
def ticket_counts(model, tokenizer, amounts=range(1_000, 100_001, 1_000)) -> dict:
    """Greedy ticket count after each plain-typed amount: right when every argmax from the end
    of the typed line through the `<tN>` of the first ticket is the program's token (teacher
    forcing on a right prefix is greedy decoding). Counts above 20 are only in the long
    large-range sessions; this probe asks for them directly (BENCHMARKS.md, session 10)."""
    model.eval()
    rows = [run_to_row(rules.play([str(money)], seed=0), None, transcript.NAME, part="purchase")
            for money in amounts]
    enc = tokenize_rows({key: [row[key] for row in rows] for key in rows[0]}, tokenizer)
    right, wrong = Counter(), {}
    for money, ids, kinds in zip(amounts, enc["input_ids"], enc["kind_ids"]):
        pred = model(input_ids=torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long))
        pred = pred.logits[0].argmax(-1).tolist()
        typed_end = max(i for i, k in enumerate(kinds) if k == KIND_IDS[Kind.INPUT.value] and i < len(ids) - 1)
        first_ticket = kinds.index(KIND_IDS[Kind.TICKET.value])
        span = range(typed_end + 1, first_ticket)  # "\n", the count line, `<tN>`
        group = "up_to_20" if money <= 20_000 else "above_20"
        right[group, "sessions"] += 1
        first_wrong = next((t for t in span if pred[t - 1] != ids[t]), None)
        if first_wrong is None:
            right[group, "right"] += 1
        else:  # the first wrong token: expected -> greedy
            wrong[money] = f"{tokenizer.decode([ids[first_wrong]])!r} -> {tokenizer.decode([pred[first_wrong - 1]])!r}"
    return {group: {"right": right[group, "right"], "of": right[group, "sessions"]}
            for group in ("up_to_20", "above_20") if right[group, "sessions"]} | {"wrong": wrong}


# ---------------------------------------------------------------- first wrong line (end to end)

_TOKEN_OR_CHAR = re.compile(r"<[^<>\n]+>|\[\d+|, \d+|.", re.S)
_MATCH_PART = [(_DRAW_TOKEN, "draw block"), (re.compile(r"<t\d+>"), "index"),
               (re.compile(r"[\[,]"), "copy"), (_FLAG, "flag"),
               (re.compile(r"<c\d+b?>"), "count"), (re.compile(r"<#\d+>"), "tally")]
_RANK_LABELS = tuple(f"{rank.label} - " for rank in rules.RANKS)


def line_kind(line: str, previous: str = "") -> str:
    """What a transcript line is, in the words of the format's docstring."""
    if line.startswith(transcript.IN):
        return "typed"
    if line.startswith("[ERROR]"):
        return "error message"
    if re.match(r"<t\d+>\[", line):
        return "ticket"
    if line.startswith(("<d", "<b")) and "[ERROR]" in line:
        return "duplicate check" if _FLAG.search(line) else "bonus error"  # the draw restated, then the error
    if line.startswith("<b"):
        return "draw checked"  # `transcript.check_line`
    if line.startswith("<d") and "<t" in line:
        return "match line"
    if line.startswith("<d") and previous.startswith((transcript.IN, "<b")):
        return "bonus line" if _FLAG.search(line) else "draw restated"  # bonus: `transcript.bonus_check`
    if line.startswith("<d"):
        return "draw block"
    if line.startswith("<n"):
        return "division"
    if line.startswith(rules.Msg.RATE_PREFIX):
        return "rate"
    if line.startswith(_RANK_LABELS):
        return "statistics"
    if line.endswith(rules.Msg.BOUGHT_SUFFIX):
        return "ticket count"
    return "blank" if line == "" else "program"


def _match_part(expected: str, got: str) -> str:
    """The part of a match line where the model's version first differs."""
    a, b = _TOKEN_OR_CHAR.findall(expected), _TOKEN_OR_CHAR.findall(got)
    i = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
    if i >= len(a):
        return "match line: went on"
    return "match line: " + next((name for pattern, name in _MATCH_PART if pattern.match(a[i])), "end")


def _reference_tickets(text: str, typed: list[str]) -> list | None:
    """The model's own tickets, made usable as a reference: as many as the money buys
    (missing or invalid ones replaced by a fixed valid ticket, so that line shows as wrong)."""
    run = rules.play(typed, tickets=None, seed=0)
    if run.money is None:
        return None
    n = run.n_tickets
    found = transcript.parse(text).tickets
    fixed = [t if t is not None and rules.is_valid_ticket(t) else (1, 2, 3, 4, 5, 6) for t in found[:n]]
    return fixed + [(1, 2, 3, 4, 5, 6)] * (n - len(fixed))


def first_wrong_line(text: str, typed: list[str], work: bool = True) -> dict | None:
    """The first line of a model's transcript that differs from the program's, given the same
    typed lines and the model's own tickets; None when the whole text is right. `work=False`:
    a model trained without the hidden work lines (the ablation)."""
    run = rules.play(typed, tickets=_reference_tickets(text, typed), seed=0)
    expected = join(transcript.encode(run, work=work))
    want, got = expected.rstrip("\n").split("\n"), text.rstrip("\n").split("\n")
    for i, line in enumerate(want):
        if i >= len(got):
            return {"kind": "stopped early", "line": i, "expected": line, "got": None}
        # a typed line is fed, never generated (and reads as the model saw it: junk folded, `--fold_other_chars`)
        if got[i] != line and not (line.startswith(transcript.IN) and got[i].startswith(transcript.IN)):
            kind = line_kind(line, want[i - 1] if i else "")
            if kind == "match line":
                kind = _match_part(line, got[i])
            return {"kind": kind, "line": i, "expected": line, "got": got[i]}
    if len(got) > len(want):
        return {"kind": "went on", "line": len(want), "expected": None, "got": got[len(want)]}
    return None


def first_wrong_lines(records, work: bool = True) -> Counter:
    """Counts of the first wrong line's kind over eval records (sessions_<suite>.jsonl rows)."""
    kinds = Counter()
    for rec in records:
        if rec["verdict"]["ok"] or not rec.get("text"):
            continue
        found = first_wrong_line(rec["text"], rec["reference"]["lines"], work)
        kinds[found["kind"] if found else "right text, judged wrong"] += 1
    return kinds


def main(argv=None):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", help="teacher-forced error rates of this model")
    p.add_argument("--sessions", help="an eval run's sessions_<suite>.jsonl: first wrong line of each failure")
    p.add_argument("--dataset_dir", default="data/transcript")
    p.add_argument("--split", default="validation")
    p.add_argument("--rows", type=int, default=300)
    p.add_argument("--counts", action="store_true",
                   help="with --model: the greedy ticket count after each plain amount 1,000..100,000 instead")
    args = p.parse_args(argv)
    if args.sessions:
        try:
            with open(args.sessions, encoding="utf-8") as f:
                records = [json.loads(line) for line in f if line.strip()]
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            p.error(f"--sessions {args.sessions}: not a readable sessions_<suite>.jsonl ({exc})")
        if any(rec.get("reference", {}).get("format") != transcript.NAME for rec in records):
            p.error(f"--sessions {args.sessions}: first wrong lines need eval records of the transcript format")
        print(json.dumps(dict(first_wrong_lines(records).most_common()), indent=1, ensure_ascii=False))
        return
    if not args.model:
        p.error("give --model (teacher-forced rates) or --sessions (first wrong lines)")
    model = AutoModelForCausalLM.from_pretrained(args.model)
    tokenizer = AutoTokenizer.from_pretrained(args.model)
    if args.counts:
        if transcript.IN not in tokenizer.get_vocab():
            p.error(f"--counts: {args.model} was not trained on the transcript format")
        print(json.dumps(ticket_counts(model, tokenizer), indent=1, ensure_ascii=False))
        return
    try:  # another version's rows (another text format) would be scored as the model's errors
        ds = load_built_dataset(args.dataset_dir)
    except CorruptFileError as exc:
        p.error(f"--dataset_dir {args.dataset_dir}: {exc}")
    if args.split not in ds:
        p.error(f"--split {args.split}: {args.dataset_dir} has {', '.join(ds)}")
    ds = ds[args.split]
    rows = ds.select(range(min(args.rows, len(ds))))[:]
    report = token_errors(model, tokenizer, rows)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
