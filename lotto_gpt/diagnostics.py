"""Teacher-forced error rates per token category: which step fails, long before whole
sessions do (feasibility notes: measure per position and kind, not only end to end).

    python -m lotto_gpt.diagnostics --model runs/x --dataset_dir data/transcript --rows 300
"""
from __future__ import annotations

import argparse
import json
import re
from collections import Counter

import torch

from .data import KIND_IDS, tokenize_rows
from .formats import Kind

_KIND_NAMES = {v: k for k, v in KIND_IDS.items()}
_CATEGORIES = [
    (re.compile(r"<[db]\d+>"), "draw"),
    (re.compile(r"<t\d+>"), "index"),
    (re.compile(r"<[ox+]\d*>"), "flag"),
    (re.compile(r"<c\d+b?>"), "count"),
    (re.compile(r"<#\d+>"), "tally"),
    (re.compile(r"<n\d+>"), "divisor"),
    (re.compile(r"<q\d>"), "quotient"),
    (re.compile(r"<r\d+>"), "remainder"),
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
        if category is None:
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
                if cat == "flag":  # per true flag: hits written as misses hide in the mixed rate
                    key = f"flag <{tokens[t][1]}>"
                    totals[key] += 1
                    errors[key] += wrong
                if wrong and cat != "ticket_number":
                    ok = False
            sessions_ok += ok
    report = {c: {"error": errors[c] / totals[c], "tokens": totals[c]} for c in sorted(totals)}
    report["sessions_all_right"] = sessions_ok / n
    return report


def main(argv=None):
    from datasets import load_from_disk
    from transformers import AutoModelForCausalLM, AutoTokenizer

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True)
    p.add_argument("--dataset_dir", default="data/transcript")
    p.add_argument("--split", default="validation")
    p.add_argument("--rows", type=int, default=300)
    args = p.parse_args(argv)
    model = AutoModelForCausalLM.from_pretrained(args.model)
    tokenizer = AutoTokenizer.from_pretrained(args.model)
    ds = load_from_disk(args.dataset_dir)[args.split]
    rows = ds.select(range(min(args.rows, len(ds))))[:]
    report = token_errors(model, tokenizer, rows)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
