"""Temperature scaling of the ticket lines, fitted on held-out sessions: does it make the tickets uniform? (No.)

    python benchmarks/ticket_temperature.py --model runs/x --dataset_dir data/transcript
    python eval.py --model runs/x --num_sessions 500 --ticket_temperature T

The console is random in one place only, the ticket numbers, which the machine samples from the model's own
distribution (`generation.TicketLineProcessor`); a model of the cpu preset's 29 minutes does not sample them
uniformly (numbers chi-square 177-304 over ~31,600 numbers, 44 degrees of freedom: the middle numbers of a ticket
come out too high, 41-45 too often). Temperature scaling (Guo et al., 2017) is the standard post-hoc fix for a
miscalibrated distribution: one scalar T divides the logits, fitted by maximum likelihood of held-out targets. This
script fits T on the validation split's ticket numbers under exactly the distribution the machine samples from (the
syntactically allowed numbers of the line so far, renormalized) and prints it with the NLL at 1 and at T.

Measured (BENCHMARKS.md, session 31): the fitted T is above 1 (2.03 and 1.38 on two models), and sampling at it
made the numbers far less uniform (chi-square 290 -> 8,304 and 304 -> 2,452): the model's ticket conditionals have
the wrong shape, not the wrong sharpness, so the machine samples at temperature 1 (`eval.py --ticket_temperature`
repeats the measurement).
"""
from __future__ import annotations

import argparse
import math
import sys

import torch

from lotto_gpt import rules
from lotto_gpt.formats import Kind

# the search interval of T (a model needing more than 4x either way is broken, not miscalibrated)
T_MIN, T_MAX = 0.25, 4.0


def sampled_positions(ids: list[int], kinds: list[int], vocab):
    """(position, target index among its allowed numbers, allowed numbers, whether a number came before it
    on its line) for each sampled ticket number of one tokenized row (`vocab`: a `generation._Vocab`).

    A position p predicts token ids[p + 1]. The allowed numbers are the constrained machine's own
    (`TicketLineProcessor._allowed`); a position where only one number is allowed is not sampled and is left out."""
    from lotto_gpt.data import KIND_IDS
    from lotto_gpt.generation import TicketLineProcessor

    syntax = TicketLineProcessor(vocab, [])  # no plays: only its ticket syntax is asked
    ticket_kind = KIND_IDS[Kind.TICKET.value]
    first = {t: n for n, t in enumerate(vocab.first_ids, start=1)}
    following = {t: n for n, t in enumerate(vocab.next_ids, start=1)}
    out, line = [], []
    for p in range(len(ids) - 1):
        tok, kind = ids[p + 1], kinds[p + 1]
        if kind != ticket_kind:
            continue
        if tok in first:
            line, number = [], first[tok]
        elif tok in following and line:
            number = following[tok]
        else:
            continue
        body = "[" + ", ".join(map(str, line)) if line else ""
        allowed = [first.get(t) or following.get(t) for t in syntax._allowed(body)]
        line.append(number)
        if len(allowed) > 1 and number in allowed:
            out.append((p, allowed.index(number), allowed, len(line) > 1))
    return out


@torch.no_grad()
def allowed_logits(model, tokenizer, rows, fmt: str = "transcript"):
    """Logits of the allowed numbers at every sampled ticket position of `rows` (dataset rows):
    a [N, 45] tensor (-inf outside the allowed set) and the [N] targets (indices into the 45)."""
    from lotto_gpt.data import tokenize_rows
    from lotto_gpt.generation import _Vocab

    vocab = _Vocab(tokenizer, fmt)
    if not vocab.constrained:
        raise ValueError("the tokenizer has no ticket-number tokens to calibrate")
    enc = tokenize_rows({key: [row[key] for row in rows] for key in rows[0]}, tokenizer)
    device = next(model.parameters()).device
    logits_out, targets = [], []
    for ids, kinds in zip(enc["input_ids"], enc["kind_ids"]):
        found = sampled_positions(ids, kinds, vocab)
        if not found:
            continue
        logits = model(torch.tensor([ids], device=device)).logits[0].float().cpu()
        for p, target, numbers, follows in found:
            table = vocab.next_ids if follows else vocab.first_ids
            row = torch.full((len(rules.NUMBERS),), float("-inf"))
            cols = torch.tensor([n - 1 for n in numbers])
            row[cols] = logits[p, torch.tensor([table[n - 1] for n in numbers])]
            logits_out.append(row)
            targets.append(numbers[target] - 1)
    if not logits_out:
        raise ValueError("no sampled ticket numbers in these rows (given tickets only, or not a ticket format)")
    return torch.stack(logits_out), torch.tensor(targets)


def nll(logits: torch.Tensor, targets: torch.Tensor, temperature: float) -> float:
    """Mean negative log-likelihood of the targets at this temperature (over the allowed numbers)."""
    logp = torch.log_softmax(logits.double() / temperature, dim=-1)
    return float(-logp[torch.arange(len(targets)), targets].mean())


def fit_temperature(logits: torch.Tensor, targets: torch.Tensor, tol: float = 1e-4) -> float:
    """The T in [T_MIN, T_MAX] that minimizes `nll`, searched over log T (scipy's bounded scalar minimizer;
    the NLL of temperature scaling is unimodal in T)."""
    from scipy.optimize import minimize_scalar

    found = minimize_scalar(lambda log_t: nll(logits, targets, math.exp(log_t)),
                            bounds=(math.log(T_MIN), math.log(T_MAX)), method="bounded", options={"xatol": tol})
    return math.exp(found.x)


def calibrate(model, tokenizer, rows, fmt: str = "transcript") -> dict:
    """Fit the ticket temperature on `rows` (`model` in eval mode); returns T and the NLL at T = 1 and at T."""
    logits, targets = allowed_logits(model, tokenizer, rows, fmt)
    t = fit_temperature(logits, targets)
    return {"ticket_temperature": round(t, 4), "numbers": len(targets),
            "nll_at_1": nll(logits, targets, 1.0), "nll_fitted": nll(logits, targets, t)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="a trained model folder")
    parser.add_argument("--dataset_dir", default="data/transcript", help="the built dataset (its validation split)")
    parser.add_argument("--split", default="validation")
    parser.add_argument("--rows", type=int, default=300, help="rows of the split to fit on")
    args = parser.parse_args(argv)
    if args.rows < 1:
        parser.error("--rows must be at least 1")
    from datasets import load_from_disk
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from lotto_gpt.generation import check_model_source

    try:
        check_model_source(args.model)
        split = load_from_disk(args.dataset_dir)[args.split]
    except (OSError, KeyError, ValueError) as exc:
        parser.error(str(exc))
    tokenizer = AutoTokenizer.from_pretrained(args.model)
    model = AutoModelForCausalLM.from_pretrained(args.model, use_safetensors=True).eval()
    rows = split.select(range(min(args.rows, len(split))))
    fmt = getattr(model.config, "lotto_format", None) or "transcript"
    try:
        result = calibrate(model, tokenizer, list(rows), fmt)
    except ValueError as exc:
        parser.error(str(exc))
    print(f"ticket temperature {result['ticket_temperature']} over {result['numbers']:,} ticket numbers "
          f"(NLL {result['nll_at_1']:.4f} at 1, {result['nll_fitted']:.4f} fitted)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
