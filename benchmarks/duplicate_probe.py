"""Teacher-forced probe of the two duplicate checks of a transcript-format model.

    python benchmarks/duplicate_probe.py --model outputs/cpu

- winning: 120 typed winning lines with one number typed twice (the repeat at the 2nd..6th number, the
  first copy anywhere before it); the model reads the session up to the typed line and is scored
  teacher-forced on the whole work line after it, through the `[ERROR]` message (`transcript.duplicate_work`:
  the numbers restated, the repeat's token(s), the error), so every format's check scores the same span;
- bonus: 120 bonuses equal to one of the winning numbers (20 at each of the six places); scored: the
  greedy token after the bonus token is its drawn flag `<oX>` (`transcript.bonus_check`);
- and the false alarms, 120 of each kind of valid line: a winning line of six different numbers (scored
  teacher-forced over its whole restated line: every number written, no error) and a bonus that is not a
  winning number (its flag `<+X>` after the bonus token).

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


def greedy_right(model, tokenizer, text: str, start: int) -> bool:
    """Whether the greedy next token is the text's own at every token from `text[start:]` on (teacher forcing)."""
    enc = tokenizer(text, return_offsets_mapping=True, return_tensors="pt")
    ids, offsets = enc["input_ids"][0], enc["offset_mapping"][0].tolist()
    with torch.no_grad():
        predicted = model(enc["input_ids"]).logits[0].argmax(-1)
    return all(int(predicted[i - 1]) == int(ids[i]) for i, (begin, _) in enumerate(offsets) if i and begin >= start)


def after_typed(text: str, typed: str) -> int:
    """Where the work line after the typed line `typed` starts."""
    line = f"{transcript.IN}{typed}\n"
    return text.index(line) + len(line)


def bonus_flag_right(model, tokenizer, run, bonus: int, kind: str) -> bool:
    """Whether the greedy token after the draw block and the typed `bonus` is that bonus's flag of `kind`."""
    text = join(transcript.encode(run))
    asked = transcript.draw_line(run.winning) + transcript.bonus_token(bonus)
    flag = transcript.flag_token(kind, bonus)
    cut = text.index(asked + flag) + len(asked)
    return greedy_right(model, tokenizer, text[:cut + len(flag)], cut)


def winning_probe(model, tokenizer, seed: int = 1):
    """(repeat position 2..6, caught) per probe line."""
    rng = random.Random(seed)
    for trial in range(PROBES):
        numbers = rng.sample(rules.NUMBERS, 5)
        repeat = trial % 5 + 1  # the repeat's index: the 2nd..6th typed number
        numbers.insert(repeat, numbers[rng.randrange(repeat)])
        typed = ",".join(map(str, numbers))
        run = rules.play(["5000", typed, "1,2,3,4,5,6", "7"], seed=trial)
        text = join(transcript.encode(run))
        end = text.index(rules.Msg.WINNING_DUPLICATE) + len(rules.Msg.WINNING_DUPLICATE)
        yield repeat + 1, greedy_right(model, tokenizer, text[:end], after_typed(text, typed))


def bonus_probe(model, tokenizer, seed: int = 2):
    """(place 1..6 of the winning number typed as the bonus, flagged) per probe line."""
    rng = random.Random(seed)
    for trial in range(PROBES):
        winning = rng.sample(rules.NUMBERS, 6)
        place = trial % 6
        bonus = winning[place]
        valid = rng.choice([n for n in rules.NUMBERS if n not in winning])
        run = rules.play(["5000", ",".join(map(str, winning)), str(bonus), str(valid)], seed=trial)
        yield place + 1, bonus_flag_right(model, tokenizer, run, bonus, transcript.HIT)


def valid_winning_probe(model, tokenizer, seed: int = 3):
    """(None, restated without an error) per valid winning line."""
    rng = random.Random(seed)
    for trial in range(PROBES):
        typed = ",".join(map(str, rng.sample(rules.NUMBERS, 6)))
        text = join(transcript.encode(rules.play(["5000", typed, "7"], seed=trial)))
        start = after_typed(text, typed)
        yield None, greedy_right(model, tokenizer, text[:text.index("\n", start) + 1], start)  # its first work line


def valid_bonus_probe(model, tokenizer, seed: int = 4):
    """(None, accepted) per bonus that is not a winning number."""
    rng = random.Random(seed)
    for trial in range(PROBES):
        winning = rng.sample(rules.NUMBERS, 6)
        bonus = rng.choice([n for n in rules.NUMBERS if n not in winning])
        run = rules.play(["5000", ",".join(map(str, winning)), str(bonus)], seed=trial)
        yield None, bonus_flag_right(model, tokenizer, run, bonus, transcript.BONUS_HIT)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True)
    args = p.parse_args(argv)
    model = AutoModelForCausalLM.from_pretrained(args.model).eval()
    tokenizer = AutoTokenizer.from_pretrained(args.model)
    report = {}
    probes = (("winning", winning_probe), ("bonus", bonus_probe),
              ("valid winning", valid_winning_probe), ("valid bonus", valid_bonus_probe))
    for name, probe in probes:
        caught, asked = Counter(), Counter()
        for place, hit in probe(model, tokenizer):
            caught[place] += hit
            asked[place] += 1
        report[name] = {"right": sum(caught.values()), "asked": PROBES}
        if None not in asked:
            report[name]["by_place"] = {k: f"{caught[k]}/{asked[k]}" for k in sorted(asked)}
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
