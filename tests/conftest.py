"""Shared fixtures: the spec's example run and a seeded generator of random runs.

Random runs mix good and bad typed lines at every stage (including lines over 64 characters,
Korean, emoji and control characters) and stop early now and then, so every format and the
tokenizer see complete runs, runs with retries and runs whose lines ran out.
"""
from __future__ import annotations

import importlib.util
import os
import random
import string
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from lotto_gpt import rules

# One fixed, modest hypothesis budget for the whole suite (each file picks max_examples).
settings.register_profile(
    "lotto",
    deadline=None,
    derandomize=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "lotto"))

# The spec's example (console-spec.md, "A normal run").
SPEC_TICKETS = [
    (8, 21, 23, 41, 42, 43),
    (3, 5, 11, 16, 32, 38),
    (7, 11, 16, 35, 36, 44),
    (1, 8, 11, 31, 41, 42),
    (13, 14, 16, 38, 42, 45),
    (7, 11, 30, 40, 42, 43),
    (2, 13, 22, 32, 38, 45),
    (1, 3, 5, 14, 22, 45),
]
SPEC_LINES = ["8000", "1,2,3,4,5,6", "7"]

_JUNK_CHARS = string.ascii_letters + string.digits + " ,.-+;:[]<>#\t" + "가나다한국어" + "😀" + "\x00\x07"


def _junk(rng: random.Random, size: int) -> str:
    return "".join(rng.choice(_JUNK_CHARS) for _ in range(size))


def _spaced(rng: random.Random, text: str) -> str:
    """Pad with spaces (ignored by the program) now and then."""
    if rng.random() < 0.2:
        return " " * rng.randint(1, 3) + text + " " * rng.randint(0, 3)
    return text


def random_money_line(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.55:
        return _spaced(rng, str(rng.choice([rng.randint(1, 10), rng.randint(1, 100)]) * 1000))
    return rng.choice([
        "", "abc", "-1000", "+1000", "1000.0", "1,000", "10 00", "1000j", "0", "999", "1500",
        "100001", "101000", "200000", "만원", "8000원", "\x00", "😀",
        "9" * 80, _junk(rng, rng.randint(65, 90)), _junk(rng, rng.randint(1, 12)),
    ])


def random_winning(rng: random.Random) -> tuple[int, ...]:
    return tuple(rng.sample(range(1, 46), 6))


def random_winning_line(rng: random.Random) -> str:
    if rng.random() < 0.6:
        sep = rng.choice([",", ", ", " , "])
        return _spaced(rng, sep.join(str(n) for n in random_winning(rng)))
    return rng.choice([
        "", "1,2,3", "1,2,3,4,5", "1,2,3,4,5,6,7", "1,2,3,4,5,", "1;2;3;4;5;6", "1 2 3 4 5 6",
        "a,b,c,d,e,f", "0,1,2,3,4,5", "1,2,3,4,5,46", "1,1,2,3,4,5", "1,1,2,3,4,46",
        "-1,2,3,4,5,6", "1.0,2,3,4,5,6", "일,이,삼,사,오,육",
        ",".join(["1"] * 40), _junk(rng, rng.randint(65, 90)), _junk(rng, rng.randint(1, 20)),
    ])


def random_bonus_line(rng: random.Random, winning) -> str:
    if rng.random() < 0.6:
        return _spaced(rng, str(rng.choice([n for n in range(1, 46) if n not in winning])))
    return rng.choice([
        "", "a", "-7", "7.0", "1 2", "0", "46", "100", str(rng.choice(winning)),
        "0" * 70 + "7", _junk(rng, rng.randint(1, 10)),
    ])


def random_run(rng: random.Random, max_lines: int | None = None) -> rules.Run:
    """A run with random good and bad lines; stops after `max_lines` typed lines if given."""
    run = rules.Run()
    while not run.complete and (max_lines is None or len(run.attempts) < max_lines):
        stage = run.stage
        if stage is rules.Stage.MONEY:
            line = random_money_line(rng)
        elif stage is rules.Stage.WINNING:
            line = random_winning_line(rng)
        else:
            line = random_bonus_line(rng, run.winning)
        run.feed(line, rng=rng)
    return run


def random_runs(seed: int, n: int) -> list[rules.Run]:
    """`n` seeded runs; about one in five stops early (the lines ran out)."""
    rng = random.Random(seed)
    runs = []
    for _ in range(n):
        max_lines = rng.randint(0, 5) if rng.random() < 0.2 else None
        runs.append(random_run(rng, max_lines))
    return runs


def clean_run(rng: random.Random, max_tickets: int = 100) -> rules.Run:
    """A complete run without bad inputs (what the seed format can hold)."""
    money = rng.randint(1, max_tickets) * 1000
    winning = random_winning(rng)
    bonus = rng.choice([n for n in range(1, 46) if n not in winning])
    return rules.play([str(money), ",".join(map(str, winning)), str(bonus)], rng=rng)


@pytest.fixture
def spec_run() -> rules.Run:
    return rules.play(SPEC_LINES, tickets=SPEC_TICKETS)


@pytest.fixture(scope="session")
def many_runs() -> list[rules.Run]:
    return random_runs(seed=20240601, n=300)


@pytest.fixture(scope="session")
def lotto_tokenizer():
    from lotto_gpt.formats import transcript
    from lotto_gpt.tokenizer import build_tokenizer

    return build_tokenizer("lotto", transcript)


def load_script(relative_path: str, name: str):
    """A script of the repository (train.py, eval.py, data_scripts/..., benchmarks/...) as a module."""
    spec = importlib.util.spec_from_file_location(name, Path(__file__).resolve().parents[1] / relative_path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there while it loads
    spec.loader.exec_module(module)
    return module


def save_tiny_model(path, fmt: str = "transcript"):
    """A tiny randomly initialised model + tokenizer saved as train.py saves them (garbage out)."""
    from lotto_gpt.formats import get_format
    from lotto_gpt.modeling import ModelArguments, build_model
    from lotto_gpt.tokenizer import build_tokenizer

    tok = build_tokenizer("lotto", get_format(fmt))
    model = build_model(ModelArguments(n_layer=1, n_embd=32, n_head=2), tok)
    model.config.lotto_format = fmt
    model.save_pretrained(path)
    tok.save_pretrained(path)
    return path


@pytest.fixture(scope="module")
def one_torch_thread():
    """Tiny models: one thread is as fast, and far faster when other jobs share the CPU."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
