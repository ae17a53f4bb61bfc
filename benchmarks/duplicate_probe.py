"""Teacher-forced probe of the two duplicate checks of a transcript-format model.

    python benchmarks/duplicate_probe.py --model outputs/cpu

- winning: 120 typed winning lines with one number typed twice (the repeat at the 2nd..6th number, the
  first copy anywhere before it); the model reads the session up to where the format writes the
  duplicate's `[ERROR]` (after the restated repeat) and its greedy next token is scored;
- bonus: 120 bonuses equal to one of the winning numbers (20 at each of the six places); scored: the
  greedy token after the bonus token is its drawn flag `<oX>` (`transcript.bonus_check`).

Whole sessions show only a few duplicates (4 winning and 7 bonus lines in eval.py's 500 small sessions);
this asks each check 120 times. The sessions are the format's own encoding, so the probe follows the
format of the installed code: run it at the commit the model was trained with.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
from collections import Counter
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

sys.path[:0] = [str(Path(__file__).resolve().parents[1])]  # the checkout's lotto_gpt (its format), installed or not
from lotto_gpt import rules  # noqa: E402
from lotto_gpt.formats import join, transcript  # noqa: E402

PROBES = 120


def greedy_after(model, tokenizer, text: str) -> str:
    ids = tokenizer(text, return_tensors="pt")["input_ids"]
    with torch.no_grad():
        return tokenizer.convert_ids_to_tokens([int(model(ids).logits[0, -1].argmax())])[0]


def winning_probe(model, tokenizer, seed: int = 1):
    """(repeat position 2..6, caught) per probe line."""
    rng = random.Random(seed)
    for trial in range(PROBES):
        numbers = rng.sample(rules.NUMBERS, 5)
        repeat = trial % 5 + 1  # the repeat's index: the 2nd..6th typed number
        numbers.insert(repeat, numbers[rng.randrange(repeat)])
        run = rules.play(["5000", ",".join(map(str, numbers)), "1,2,3,4,5,6", "7"], seed=trial)
        text = join(transcript.encode(run))
        cut = text.index(rules.Msg.WINNING_DUPLICATE)
        yield repeat + 1, greedy_after(model, tokenizer, text[:cut]) == rules.Msg.WINNING_DUPLICATE


def bonus_probe(model, tokenizer, seed: int = 2):
    """(place 1..6 of the winning number typed as the bonus, flagged) per probe line."""
    rng = random.Random(seed)
    for trial in range(PROBES):
        winning = rng.sample(rules.NUMBERS, 6)
        place = trial % 6
        bonus = winning[place]
        valid = rng.choice([n for n in rules.NUMBERS if n not in winning])
        run = rules.play(["5000", ",".join(map(str, winning)), str(bonus), str(valid)], seed=trial)
        text = join(transcript.encode(run))
        asked = transcript.draw_line(winning) + transcript.bonus_token(bonus)
        drawn = transcript.flag_token(transcript.HIT, bonus)
        cut = text.index(asked + drawn) + len(asked)
        yield place + 1, greedy_after(model, tokenizer, text[:cut]) == drawn


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True)
    args = p.parse_args(argv)
    model = AutoModelForCausalLM.from_pretrained(args.model).eval()
    tokenizer = AutoTokenizer.from_pretrained(args.model)
    report = {}
    for name, probe in (("winning", winning_probe), ("bonus", bonus_probe)):
        caught, asked = Counter(), Counter()
        for place, hit in probe(model, tokenizer):
            caught[place] += hit
            asked[place] += 1
        report[name] = {"caught": sum(caught.values()), "asked": PROBES,
                        "by_place": {k: f"{caught[k]}/{asked[k]}" for k in sorted(asked)}}
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
