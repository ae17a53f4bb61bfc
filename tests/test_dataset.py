"""The synthetic dataset: reproducible, consistent with the rule engine, and built safely.

Small sizes throughout (the whole file runs in seconds); `data_scripts/build_dataset.py` is
called in-process where only its logic matters and as a real process where the exit code
and the absence of a traceback are the point.
"""
from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import load_script
from datasets import DatasetDict, load_from_disk

from lotto_gpt import data, rules
from lotto_gpt.data import DIVISION_LINES, DRAW_EPISODES, DataConfig, build_dataset_dict, config_problems, fingerprint
from lotto_gpt.formats import Kind, get_format, transcript

WHOLE_SESSIONS = {"purchase_share": 0.0, "tail_share": 0.0, "draw_share": 0.0, "division_share": 0.0}  # no row cut short

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "data_scripts" / "build_dataset.py"

build_script = load_script("data_scripts/build_dataset.py", "build_dataset")


@pytest.fixture(scope="module")
def transcript_rows():
    """400 default-mix transcript sessions (the cpu preset's data config)."""
    return build_dataset_dict({"train": 400}, seed=7, cfg=DataConfig())["train"]


@pytest.fixture(scope="module")
def seed_rows():
    """The seed preset's data config: seed format, money up to 20,000."""
    cfg = DataConfig(format="seed", max_money=20_000, small_share=1.0)
    return build_dataset_dict({"train": 200}, seed=7, cfg=cfg)["train"]


# ---------------------------------------------------------------- reproducibility

def test_same_seed_same_rows_and_fingerprint():
    cfg = DataConfig()
    a = build_dataset_dict({"train": 80, "validation": 20}, seed=3, cfg=cfg)
    b = build_dataset_dict({"train": 80, "validation": 20}, seed=3, cfg=cfg)
    for split in ("train", "validation"):
        assert a[split][:] == b[split][:]
        assert a[split]._fingerprint == b[split]._fingerprint == fingerprint(split, len(a[split]), 3, cfg)
    assert a["train"]._fingerprint != a["validation"]._fingerprint
    assert a["train"]["text"] != a["validation"]["text"][:80]  # splits are drawn independently


def test_num_proc_does_not_change_the_data():
    # 1,000 rows: the smallest split that build_dataset_dict really spreads over processes
    cfg = DataConfig()
    one = build_dataset_dict({"train": 1000}, seed=5, cfg=cfg, num_proc=1)["train"]
    two = build_dataset_dict({"train": 1000}, seed=5, cfg=cfg, num_proc=2)["train"]
    assert one[:] == two[:]
    assert one._fingerprint == two._fingerprint


def test_different_seed_or_config_gives_different_data():
    cfg = DataConfig()
    a = build_dataset_dict({"train": 30}, seed=1, cfg=cfg)["train"]
    b = build_dataset_dict({"train": 30}, seed=2, cfg=cfg)["train"]
    assert a._fingerprint != b._fingerprint
    assert sum(x != y for x, y in zip(a["text"], b["text"])) == 30
    c = build_dataset_dict({"train": 30}, seed=1, cfg=replace(cfg, forced_rank_share=0.0))["train"]
    assert c._fingerprint != a._fingerprint


# ---------------------------------------------------------------- rows match the rule engine

def _replay(row) -> rules.Run:
    return rules.play(row["lines"], tickets=[tuple(t) for t in row["tickets"]])


def _check_row(row, fmt_name: str) -> rules.Run:
    run = _replay(row)
    assert row["money"] == run.money
    assert row["n_tickets"] == run.n_tickets == len(row["tickets"])
    assert [list(t) for t in run.tickets] == row["tickets"]
    assert all(rules.is_valid_ticket(tuple(t)) for t in row["tickets"])
    assert row["n_bad_inputs"] == len(run.errors)
    if run.complete:
        assert row["winning"] == list(run.winning) and row["bonus"] == run.bonus
        assert row["counts"] == [run.counts[k] for k in rules.RANK_KEYS]
        assert row["prize"] == run.prize == rules.prize_total(run.counts)
        assert row["rate_tenths"] == run.rate_tenths
    else:
        assert row["counts"] == [0] * len(rules.RANK_KEYS)
    fmt = get_format(fmt_name)
    assert row["text"] == fmt.to_text(run)
    assert sum(row["segment_lengths"]) == len(row["text"])
    assert len(row["segment_lengths"]) == len(row["segment_kinds"])
    assert set(row["segment_kinds"]) <= {k.value for k in Kind}
    return run


def test_transcript_rows_match_the_rule_engine(transcript_rows):
    complete = 0
    sessions = [row for row in transcript_rows if row["part"] == "session"]  # cut rows: see below
    for row in sessions:
        run = _check_row(row, "transcript")
        complete += run.complete
        # the visible console text is exactly what the program prints for the lines the model
        # sees (lines over 64 characters are answered by the console shell, not the model)
        fmt = get_format("transcript")
        if run.complete:
            seen = [line for line in row["lines"] if rules.check_length(line) is None]
            assert fmt.to_stdout(row["text"]) == rules.console_text(rules.play(seen, tickets=run.tickets))
            assert transcript.rate_line(run.rate_tenths) in row["text"]
    assert complete == len(sessions)  # every session runs to its end


# ---------------------------------------------------------------- rows that hold part of a session


@pytest.fixture(scope="module")
def purchase_rows():
    """Purchase rows alone (--purchase_divisions 0: the divisions after them have tests of their own)."""
    cfg = DataConfig(purchase_share=1.0, draw_share=0.0, purchase_divisions=0)
    return build_dataset_dict({"train": 300}, seed=7, cfg=cfg)["train"]


@pytest.fixture(scope="module")
def tail_rows():
    return build_dataset_dict({"train": 200}, seed=7, cfg=DataConfig(purchase_share=0.0, tail_share=1.0, draw_share=0.0))["train"]


def test_a_purchase_row_is_a_session_cut_after_its_first_ticket(purchase_rows):
    fmt = get_format("transcript")
    for row in purchase_rows:
        assert row["part"] == "purchase"
        first = tuple(row["tickets"][0])
        run = rules.play(row["lines"], tickets=[first] * row["n_tickets"])  # any tickets after the first
        assert not run.complete and run.n_tickets == row["n_tickets"] == row["money"] // 1000
        assert row["n_bad_inputs"] == len(run.errors)
        assert fmt.to_text(run).startswith(row["text"])
        assert row["text"].endswith(f"\n{rules.bought_line(run.n_tickets)}\n<t{run.n_tickets}>{rules.format_ticket(first)}\n")
        assert sum(row["segment_lengths"]) == len(row["text"])


def test_a_purchase_row_can_keep_more_ticket_lines_for_the_countdown():
    cfg = DataConfig(purchase_share=1.0, purchase_tickets=3, purchase_divisions=0)
    fmt = get_format("transcript")
    for row in build_dataset_dict({"train": 60}, seed=3, cfg=cfg)["train"]:
        kept = min(3, row["n_tickets"])
        assert len(row["tickets"]) == kept
        run = rules.play(row["lines"], tickets=[tuple(t) for t in row["tickets"]] + [tuple(row["tickets"][0])] * (row["n_tickets"] - kept))
        assert fmt.to_text(run).startswith(row["text"])
        last = row["n_tickets"] - kept + 1
        assert row["text"].endswith(f"<t{last}>{rules.format_ticket(tuple(row['tickets'][-1]))}\n")


def test_a_long_row_is_a_whole_session_of_more_than_20_tickets():
    rows = build_dataset_dict({"train": 30}, seed=7, cfg=DataConfig(purchase_share=0.0, long_share=1.0))["train"]
    assert set(rows["part"]) == {"long"}
    for row in rows:
        run = _check_row(row, "transcript")
        assert run.complete and data.LONG_MIN_TICKETS <= run.n_tickets <= 100
    assert len({row["n_tickets"] for row in rows}) > 10  # drawn over the range, not one count


def test_long_share_without_amounts_above_20000_is_a_config_problem():
    problems = config_problems(DataConfig(long_share=0.1, max_money=20_000))
    assert len(problems) == 1 and "--long_share" in problems[0] and "21,000" in problems[0]
    assert config_problems(DataConfig(long_share=0.1)) == []


def test_long_rows_replace_sessions_and_leave_the_others_unchanged():
    with_long = build_dataset_dict({"train": 200}, seed=7, cfg=DataConfig(long_share=0.3))["train"]
    without = build_dataset_dict({"train": 200}, seed=7, cfg=DataConfig())["train"]
    assert 0.2 < Counter(with_long["part"])["long"] / 200 < 0.4
    for row, other in zip(with_long, without):
        assert row == other or row["part"] == "long"


def test_purchase_rows_draw_the_money_over_the_whole_range(purchase_rows):
    money = purchase_rows["money"]
    assert all(1_000 <= m <= 100_000 for m in money)
    assert 0.7 < sum(m > 20_000 for m in money) / len(money) < 0.9  # 80 of the 100 amounts


def test_purchase_rows_are_typed_with_variants_and_bad_inputs_like_sessions(purchase_rows):
    typed = [row["lines"][-1] for row in purchase_rows]
    # half are variants, and about a third of those come out plain (no zeros and no spaces drawn)
    assert 0.25 < sum(line != str(row["money"]) for line, row in zip(typed, purchase_rows)) / len(typed) < 0.45
    bad_share = sum(n > 0 for n in purchase_rows["n_bad_inputs"]) / len(purchase_rows)
    assert abs(bad_share - DataConfig().bad_input_share) < 0.1


def test_a_tail_row_is_the_end_of_a_session_after_its_count_line(tail_rows):
    fmt = get_format("transcript")
    for row in tail_rows:
        run = _replay(row)
        assert row["counts"] == [run.counts[k] for k in rules.RANK_KEYS] and row["prize"] == run.prize
        whole = fmt.to_text(run)
        end = whole[whole.index(f"\n{rules.Msg.STATS_HEADER}\n"):]
        context = f"{rules.bought_line(run.n_tickets)}\n\n{rules.Msg.STATS_HEADER}\n{rules.Msg.STATS_RULE}\n"
        assert row["part"] == "tail" and run.complete
        assert row["text"] == rules.bought_line(run.n_tickets) + "\n" + end
        assert row["segment_kinds"][0] == Kind.INPUT.value and row["segment_lengths"][0] == len(context)
        assert transcript.rate_line(run.rate_tenths) in row["text"]


@pytest.fixture(scope="module")
def draw_rows():
    return build_dataset_dict({"train": 100}, seed=7, cfg=DataConfig(purchase_share=0.0, draw_share=1.0))["train"]


def _draw_episodes(typed: list[str]) -> list:
    """The typed draw lines of a draw row split back into runs, one per episode."""
    runs, start = [], 0
    while start < len(typed):
        end = next(k for k in range(start + 1, len(typed) + 1)
                   if rules.play(["1000", *typed[start:k]], tickets=[(1, 2, 3, 4, 5, 6)]).complete)
        runs.append(rules.play(["1000", *typed[start:end]], tickets=[(1, 2, 3, 4, 5, 6)]))
        start = end
    return runs


def test_a_draw_row_is_draw_episodes_each_the_programs_text_from_the_winning_prompt_to_the_restated_bonus(draw_rows):
    fmt = get_format("transcript")
    for row in draw_rows:
        runs = _draw_episodes(row["lines"])
        assert row["part"] == "draw" and len(runs) == DRAW_EPISODES
        expected = ""
        for run in runs:
            whole = fmt.to_text(run)
            restated = fmt.bonus_check(run.winning, run.bonus) + "\n"
            expected += whole[whole.index(rules.Msg.ASK_WINNING):whole.index(restated) + len(restated)]
        assert row["text"] == expected
        assert row["winning"] == list(runs[-1].winning) and row["bonus"] == runs[-1].bonus
        assert row["n_bad_inputs"] == sum(len(run.errors) for run in runs) and row["tickets"] == []
        assert sum(row["segment_lengths"]) == len(row["text"])


def test_each_draw_episode_starts_with_its_prompt_as_context(draw_rows):
    for row in draw_rows.select(range(20)):
        pos, starts = 0, []
        for length, kind in zip(row["segment_lengths"], row["segment_kinds"]):
            if row["text"][pos:pos + length] == rules.Msg.ASK_WINNING + "\n":
                starts.append(kind)
            pos += length
        assert starts == [Kind.INPUT.value] * DRAW_EPISODES


def test_draw_episodes_hold_variants_bad_lines_and_bonus_duplicates(draw_rows):
    runs = [run for row in draw_rows for run in _draw_episodes(row["lines"])]
    assert 0.4 < sum(bool(run.errors) for run in runs) / len(runs) < 0.6  # DRAW_BAD_SHARE
    typed_winning = [next(a.line for a in run.attempts if a.stage is rules.Stage.WINNING and a.error is None) for run in runs]
    # --variant_share 0.5; six numbers almost never all come out plain
    assert 0.4 < sum(line != ",".join(map(str, run.winning)) for line, run in zip(typed_winning, runs)) / len(runs) < 0.6
    errors = [error for run in runs for error in run.errors]
    assert rules.Msg.BONUS_DUPLICATE in errors and rules.Msg.WINNING_DUPLICATE in errors


def test_cut_rows_are_only_in_the_train_split_of_the_transcript_format():
    for cfg in (DataConfig(purchase_share=1.0, draw_share=0.0), DataConfig(purchase_share=0.0, tail_share=1.0, draw_share=0.0),
                DataConfig(purchase_share=0.0, draw_share=1.0), DataConfig(purchase_share=0.0, division_share=1.0),
                DataConfig(purchase_share=0.0, long_share=1.0)):
        built = build_dataset_dict({"train": 20, "validation": 20}, seed=1, cfg=cfg)
        assert "session" not in built["train"]["part"] and set(built["validation"]["part"]) == {"session"}
        seed_cfg = replace(cfg, format="seed", max_money=20_000, small_share=1.0)
        assert set(build_dataset_dict({"train": 20}, seed=1, cfg=seed_cfg)["train"]["part"]) == {"session"}


def test_cut_rows_replace_sessions_and_leave_the_others_unchanged(transcript_rows):
    parts = Counter(transcript_rows["part"])
    assert abs(parts["purchase"] / len(transcript_rows) - DataConfig().purchase_share) < 0.03  # sd ~0.0085
    assert abs(parts["tail"] / len(transcript_rows) - DataConfig().tail_share) < 0.03
    without = build_dataset_dict({"train": 400}, seed=7, cfg=DataConfig(**WHOLE_SESSIONS))["train"]
    assert set(without["part"]) == {"session"}
    for row, other in zip(transcript_rows, without):
        if row["part"] == "session":
            assert row == other


@pytest.mark.parametrize("part", ["draw", "division"])
def test_draw_and_division_rows_replace_sessions_and_leave_the_others_unchanged(part):
    with_part = build_dataset_dict({"train": 200}, seed=7, cfg=DataConfig(**{f"{part}_share": 0.3}))["train"]
    without = build_dataset_dict({"train": 200}, seed=7, cfg=DataConfig())["train"]
    assert 0.2 < Counter(with_part["part"])[part] / 200 < 0.4
    for row, other in zip(with_part, without):
        assert row == other or row["part"] == part


def division_of(line: str) -> tuple[int, int]:
    """(prize, n) of a long division line: the divisor `<nK>`, then the digits of prize + n // 2."""
    n = int(line[2:line.index(">")])
    return int("".join(re.findall(r"(\d)<q", line))) - n // 2, n


@pytest.fixture(scope="module")
def division_rows():
    return build_dataset_dict({"train": 60}, seed=7, cfg=DataConfig(purchase_share=0.0, division_share=1.0))["train"]


def test_a_division_row_is_the_long_divisions_of_sessions_with_a_prize(division_rows):
    fmt = get_format("transcript")
    lines = [line for row in division_rows for line in row["text"].splitlines()]
    assert {row["part"] for row in division_rows} == {"division"}
    assert all(len(row["text"].splitlines()) == DIVISION_LINES for row in division_rows)
    pairs = set()
    for line in lines:
        prize, n = division_of(line)
        assert line == fmt.division_line(prize, n)
        pairs.add((prize, n))
    # sessions that won something (a division of 0 is all `0<q0><r0>`), their divisors drawn like the sessions'
    assert all(prize > 0 for prize, _ in pairs)
    assert max(n for _, n in pairs) > 20 and min(n for _, n in pairs) <= 20


def test_in_a_division_row_the_divisor_and_digits_are_context_and_quotients_and_remainders_targets(division_rows):
    for row in division_rows.select(range(10)):
        pos = 0
        for length, kind in zip(row["segment_lengths"], row["segment_kinds"]):
            piece = row["text"][pos:pos + length]
            pos += length
            if kind == Kind.INPUT.value:
                assert re.fullmatch(r"<n\d+>|\d", piece), piece
            else:
                assert kind == Kind.TAIL.value and re.fullmatch(r"<q\dp\d+><r\d+>|\n", piece), piece
        assert pos == len(row["text"])


def test_purchase_divisions_follow_the_purchase_row_which_stays_as_it_was(purchase_rows):
    fmt = get_format("transcript")
    with_divisions = build_dataset_dict({"train": 40}, seed=7, cfg=DataConfig(purchase_share=1.0, draw_share=0.0,
                                                                                purchase_divisions=2))["train"]
    for row, plain in zip(with_divisions, purchase_rows):
        assert row["text"].startswith(plain["text"])
        assert {k: v for k, v in row.items() if not k.startswith(("text", "segment_"))} == \
            {k: v for k, v in plain.items() if not k.startswith(("text", "segment_"))}
        assert row["segment_lengths"][:len(plain["segment_lengths"])] == plain["segment_lengths"]
        divisions = row["text"][len(plain["text"]):].splitlines()
        assert len(divisions) == 2
        for line in divisions:  # a session with a prize: not all `0<q0><r0>`
            prize, n = division_of(line)
            assert prize > 0 and line == fmt.division_line(prize, n)
        added = zip(row["segment_lengths"][len(plain["segment_lengths"]):],
                    row["segment_kinds"][len(plain["segment_kinds"]):])
        assert {kind for _, kind in added} == {Kind.INPUT.value, Kind.TAIL.value}


def test_division_rate_writes_the_rate_line_after_each_division_as_a_target():
    cfg = DataConfig(purchase_share=1.0, draw_share=0.0, purchase_divisions=2, division_rate=True)
    plain = build_dataset_dict({"train": 20}, seed=7, cfg=replace(cfg, division_rate=False))["train"]
    for row, without in zip(build_dataset_dict({"train": 20}, seed=7, cfg=cfg)["train"], plain):
        lines = row["text"].splitlines()
        assert lines[:-4] + lines[-4::2] == without["text"].splitlines()  # a line after each division, nothing else
        for line, rate in zip(lines[-4::2], lines[-3::2]):  # the rate of the division's prize and count
            assert rate == transcript.rate_line(rules.rate_tenths(*division_of(line)))
        assert row["segment_kinds"][-1] == Kind.TAIL.value and row["text"].endswith("%입니다.\n")


def test_purchase_rows_of_the_ablation_without_work_lines_hold_no_division():
    cfg = DataConfig(purchase_share=1.0, draw_share=0.0, work_lines=False)
    assert cfg.purchase_divisions > 0
    assert not any("<n" in row["text"] for row in build_dataset_dict({"train": 20}, seed=7, cfg=cfg)["train"])


def test_division_rows_in_the_ablation_without_work_lines_are_a_config_problem():
    assert any("--division_share must be 0 with --work_lines false" in p
               for p in config_problems(DataConfig(division_share=0.1, work_lines=False)))
    assert config_problems(DataConfig(division_share=0.1)) == []


def test_negative_purchase_divisions_is_a_config_problem():
    assert any("--purchase_divisions" in p for p in config_problems(DataConfig(purchase_divisions=-1)))


def test_the_end_of_a_purchase_draw_or_division_row_is_never_a_target(purchase_rows, draw_rows, division_rows, tail_rows,
                                                                      lotto_tokenizer):
    from lotto_gpt.data import KIND_IDS, tokenize_rows

    for rows in (purchase_rows, draw_rows, division_rows):
        cut = tokenize_rows(rows[:5], lotto_tokenizer)
        assert {kinds[-1] for kinds in cut["kind_ids"]} == {KIND_IDS[Kind.INPUT.value]}  # EOS: context only
    ends = tokenize_rows(tail_rows[:5], lotto_tokenizer)  # a tail row ends where its session ends
    assert {kinds[-1] for kinds in ends["kind_ids"]} == {KIND_IDS[Kind.PROGRAM.value]}


def test_typed_text_is_marked_as_input(transcript_rows):
    for row in transcript_rows.select(range(50)):
        pos, typed = 0, []
        for length, kind in zip(row["segment_lengths"], row["segment_kinds"]):
            if row["part"] == "purchase" and "\n<t" in row["text"][:pos]:
                break  # the long divisions after a purchase's ticket line: context, but nothing typed
            given_ticket = row["tickets_given"] and row["text"][pos] == "["
            if kind == Kind.INPUT.value and not given_ticket:
                typed.append(row["text"][pos:pos + length].rstrip("\n"))
            pos += length
        shown = [line for line in row["lines"] if rules.check_length(line) is None]
        assert typed == shown


def test_forced_rank_rows_contain_a_ticket_of_that_rank(transcript_rows, seed_rows):
    for rows in (transcript_rows, seed_rows):
        forced = [row for row in rows if row["forced_rank"]]
        assert forced
        for row in forced:
            ranks = {rules.rank_of(t, row["winning"], row["bonus"]) for t in row["tickets"]}
            assert row["forced_rank"] in {r.key for r in ranks if r is not None}
            key = rules.RANK_KEYS.index(row["forced_rank"])
            assert row["counts"][key] >= 1
    # all five ranks are forced, in about forced_rank_share of the sessions with learned tickets
    learned = [r for r, given in zip(transcript_rows["forced_rank"], transcript_rows["tickets_given"]) if not given]
    share = sum(bool(r) for r in learned) / len(learned)
    assert abs(share - DataConfig().forced_rank_share) < 0.1
    by_rank = Counter(r for r in transcript_rows["forced_rank"] if r)
    assert set(by_rank) == set(rules.RANK_KEYS)


def test_forced_rank_share_zero_and_one():
    none = build_dataset_dict({"train": 100}, seed=1, cfg=DataConfig(forced_rank_share=0.0))["train"]
    assert not any(none["forced_rank"])
    cfg = DataConfig(forced_rank_share=1.0, given_tickets_share=0.0, **WHOLE_SESSIONS)
    every = build_dataset_dict({"train": 100}, seed=1, cfg=cfg)["train"]
    assert all(every["forced_rank"])
    assert all(sum(c) >= 1 for c in every["counts"])


@pytest.fixture(scope="module")
def given_rows():
    return build_dataset_dict({"train": 200}, seed=1, cfg=DataConfig(given_tickets_share=1.0, **WHOLE_SESSIONS))["train"]


def test_given_tickets_rows_match_the_rule_engine(given_rows):
    for row in given_rows:
        assert row["tickets_given"] and not row["forced_rank"]
        _check_row(row, "transcript")


def test_given_tickets_are_never_a_training_target(given_rows):
    for row in given_rows.select(range(20)):
        assert Kind.TICKET.value not in row["segment_kinds"]
        pos = 0
        for length, kind in zip(row["segment_lengths"], row["segment_kinds"]):
            piece = row["text"][pos:pos + length]
            if piece.startswith("[") and piece.endswith("]\n"):  # a printed ticket line
                assert kind == Kind.INPUT.value
            pos += length


def test_given_tickets_hit_the_draw_about_half_the_time(given_rows):
    hits = [len(set(t) & set(row["winning"])) for row in given_rows for t in row["tickets"]]
    assert abs(sum(hits) / (6 * len(hits)) - 0.5) < 0.05  # 0..6 hits equally often
    assert set(hits) == set(range(7))
    with_bonus = [row["bonus"] in t for row in given_rows for t in row["tickets"]]
    assert 0.3 < sum(with_bonus) / len(with_bonus) < 0.6


def test_given_tickets_share_zero_leaves_the_rows_unchanged():
    # the share draws its coin only when it is positive: datasets built before it are reproduced
    rows = build_dataset_dict({"train": 50}, seed=4, cfg=DataConfig(given_tickets_share=0.0))["train"]
    assert not any(rows["tickets_given"])
    assert Kind.TICKET.value in rows[0]["segment_kinds"]
    mixed = build_dataset_dict({"train": 200}, seed=4, cfg=DataConfig(given_tickets_share=0.5))["train"]
    assert 0.35 < sum(mixed["tickets_given"]) / 200 < 0.65


def test_bad_input_share_is_respected(transcript_rows):
    share = sum(n > 0 for n in transcript_rows["n_bad_inputs"]) / len(transcript_rows)
    assert abs(share - DataConfig().bad_input_share) < 0.07  # 400 rows: sd <= 0.025
    clean = build_dataset_dict({"train": 100}, seed=1, cfg=DataConfig(bad_input_share=0.0))["train"]
    assert not any(clean["n_bad_inputs"])
    assert not any("[ERROR]" in t for t in clean["text"])
    bad = build_dataset_dict({"train": 100}, seed=1, cfg=DataConfig(bad_input_share=1.0, **WHOLE_SESSIONS))["train"]
    assert all(n > 0 for n in bad["n_bad_inputs"])
    for row in bad:  # lines over 64 characters are answered by the console shell, not shown
        shown = [e for e in _replay(row).errors if e != rules.Msg.LINE_TOO_LONG]
        assert ("[ERROR]" in row["text"]) == bool(shown)


def test_every_bad_line_is_rejected_by_the_program():
    rng = random.Random(0)
    winning = (1, 2, 3, 4, 5, 6)
    for _ in range(3000):
        assert rules.parse_money(data.bad_money(rng))[1] is not None
        assert rules.parse_winning(data.bad_winning(rng))[1] is not None
        assert rules.parse_bonus(data.bad_bonus(winning, rng), winning)[1] is not None


def test_junk_trains_every_utf8_byte_but_the_lead_bytes_of_held_out_scripts():
    rng = random.Random(0)
    seen = {b for _ in range(100_000) for b in data.junk_char(rng).encode()}
    greek_cyrillic, hebrew_arabic, cjk = range(0xCE, 0xD4), range(0xD7, 0xDC), range(0xE5, 0xEA)
    unused = {0xC0, 0xC1, 0xF1, 0xF2} | set(range(0xF5, 0x100))  # invalid in UTF-8, or planes with no characters
    held_out = set(greek_cyrillic) | set(hebrew_arabic) | set(cjk)
    assert {b for b in range(0x80, 0x100)} - seen == held_out | unused


def test_junk_never_glues_a_space_to_a_number():
    rng = random.Random(1)
    assert not any(data.junk_char(rng, space=False).isspace() for _ in range(20_000))


def test_without_work_lines_a_row_is_the_console_and_the_ticket_countdown():
    from lotto_gpt import judge
    from lotto_gpt.formats import transcript

    cfg = DataConfig(work_lines=False, **WHOLE_SESSIONS)
    bare = build_dataset_dict({"train": 60}, seed=2, cfg=cfg)["train"]
    full = build_dataset_dict({"train": 60}, seed=2, cfg=DataConfig(**WHOLE_SESSIONS))["train"]
    assert bare["lines"] == full["lines"] and bare["tickets"] == full["tickets"]
    for b, f in zip(bare, full):
        assert transcript.to_stdout(b["text"]) == transcript.to_stdout(f["text"])
        assert not any(tag in b["text"] for tag in ("<d", "<o", "<x", "<n", "<q", "<c"))
        assert ("<t1>" in b["text"]) == ("<t1>" in f["text"])
        assert judge.judge(b["text"], judge.make_reference(b["lines"])).ok


def test_the_seed_format_has_no_work_lines_to_leave_out():
    cfg = DataConfig(format="seed", max_money=20_000, small_share=1.0)
    with_work = build_dataset_dict({"train": 20}, seed=2, cfg=cfg)["train"]["text"]
    assert build_dataset_dict({"train": 20}, seed=2, cfg=replace(cfg, work_lines=False))["train"]["text"] == with_work


def test_money_range_is_respected():
    cfg = DataConfig(min_money=5_000, max_money=12_000, small_share=0.5)
    rows = build_dataset_dict({"train": 300}, seed=1, cfg=cfg)["train"]
    money = rows["money"]
    assert all(5_000 <= m <= 12_000 and m % 1000 == 0 for m in money)
    assert min(money) == 5_000 and max(money) == 12_000
    wide = build_dataset_dict({"train": 400}, seed=1, cfg=DataConfig(small_share=0.6))["train"]["money"]
    assert all(1_000 <= m <= 100_000 for m in wide)
    assert max(wide) > 20_000  # the 40% drawn from the whole range reach beyond the blog's 20,000
    small = sum(m <= 20_000 for m in wide) / len(wide)
    assert abs(small - (0.6 + 0.4 * 20 / 100)) < 0.07  # small_share, plus wide draws that land low


def test_seed_format_has_no_bad_inputs(seed_rows):
    assert not any(seed_rows["n_bad_inputs"])
    assert all(m <= 20_000 for m in seed_rows["money"])
    for row in seed_rows:
        run = _check_row(row, "seed")
        assert run.complete and not run.errors
        assert row["text"].startswith("<IN>\n") and row["text"].endswith("</OUT>")
        assert row["lines"][0] == str(row["money"])  # typed plainly (no variants in the seed format)


# ---------------------------------------------------------------- the build script

def test_script_builds_and_saves(tmp_path, capsys):
    out = tmp_path / "ds"
    build_script.main(["--output_dir", str(out), "--train_size", "40", "--validation_size", "8",
                       "--test_size", "6", "--seed", "4", "--num_proc", "1"])
    loaded = load_from_disk(str(out))
    assert {k: len(v) for k, v in loaded.items()} == {"train": 40, "validation": 8, "test": 6}
    same = build_dataset_dict({"train": 40, "validation": 8, "test": 6}, seed=4, cfg=DataConfig())
    for split in loaded:
        assert loaded[split][:] == same[split][:]
    info = json.loads((out / build_script.BUILD_INFO).read_text())
    assert info["seed"] == 4 and info["config"]["format"] == "transcript"
    assert info["fingerprints"] == {k: v._fingerprint for k, v in same.items()}
    assert "built" in capsys.readouterr().out
    assert sorted(os.listdir(tmp_path)) == ["ds"]  # no staging folder left behind


def test_script_refuses_to_overwrite(tmp_path):
    out = tmp_path / "ds"
    out.mkdir()
    (out / "precious.txt").write_text("keep me")
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--output_dir", str(out), "--train_size", "5", "--num_proc", "1"],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    assert "refusing to overwrite" in proc.stderr and "--overwrite" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert (out / "precious.txt").read_text() == "keep me"
    assert os.listdir(out) == ["precious.txt"]


def test_script_empty_output_dir_is_fine(tmp_path):
    out = tmp_path / "ds"
    out.mkdir()
    build_script.main(["--output_dir", str(out), "--train_size", "5", "--validation_size", "0",
                       "--test_size", "0", "--num_proc", "1"])
    assert list(load_from_disk(str(out))) == ["train"]


def test_overwrite_swaps_in_only_after_success(tmp_path, monkeypatch):
    out = tmp_path / "ds"
    common = ["--output_dir", str(out), "--validation_size", "0", "--test_size", "0", "--num_proc", "1"]
    build_script.main(common + ["--train_size", "5", "--seed", "1"])
    before = load_from_disk(str(out))["train"][:]

    # a build that fails half-way leaves the old dataset as it was, and no litter
    def broken(cfg, args):
        raise RuntimeError("disk full")

    monkeypatch.setattr(build_script, "build", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        build_script.main(common + ["--train_size", "7", "--seed", "2", "--overwrite"])
    assert load_from_disk(str(out))["train"][:] == before

    # so does a failure while saving
    monkeypatch.undo()

    def failing_save(self, *args, **kwargs):
        raise OSError("no space left on device")

    monkeypatch.setattr(DatasetDict, "save_to_disk", failing_save)
    with pytest.raises(OSError):
        build_script.main(common + ["--train_size", "7", "--seed", "2", "--overwrite"])
    assert load_from_disk(str(out))["train"][:] == before
    assert sorted(os.listdir(tmp_path)) == ["ds"]

    # a successful --overwrite replaces it completely
    monkeypatch.undo()
    build_script.main(common + ["--train_size", "7", "--seed", "2", "--overwrite"])
    after = load_from_disk(str(out))
    assert len(after["train"]) == 7 and after["train"][:5] != before
    assert sorted(os.listdir(tmp_path)) == ["ds"]


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--min_money", "5000", "--max_money", "3000"], "larger than --max_money"),
        (["--min_money", "1500"], "multiple of 1,000"),
        (["--max_money", "101000"], "1,000..100,000"),
        (["--min_money", "0"], "multiple of 1,000"),
        (["--bad_input_share", "1.5"], "bad_input_share must be a fraction in 0..1"),
        (["--forced_rank_share", "-0.1"], "forced_rank_share must be a fraction in 0..1"),
        (["--small_share", "2"], "small_share"),
        (["--variant_share", "-1"], "variant_share"),
        (["--purchase_share", "1.5"], "purchase_share must be a fraction in 0..1"),
        (["--tail_share", "-0.2"], "tail_share must be a fraction in 0..1"),
        (["--purchase_share", "0.6", "--tail_share", "0.6"], "must be at most 1"),
        (["--purchase_tickets", "0"], "--purchase_tickets must be at least 1"),
        (["--draw_share", "2"], "draw_share must be a fraction in 0..1"),
        (["--purchase_share", "0.5", "--draw_share", "0.6"], "must be at most 1"),
        (["--format", "yaml"], "--format must be one of"),
        (["--train_size", "0"], "train_size"),
        (["--test_size", "-3"], "test_size must be >= 0"),
        (["--num_proc", "0"], "num_proc"),
        (["--push_to_hub"], "--hub_dataset_id"),
        (["--train_size", "many"], "invalid int value"),
        (["--no_such_flag", "1"], "no_such_flag"),
    ],
)
def test_bad_flags_are_usage_errors(flags, message, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        build_script.main(["--output_dir", str(tmp_path / "ds")] + flags)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "usage:" in err and message in err
    assert not (tmp_path / "ds").exists()


def test_bad_flags_exit_2_without_traceback(tmp_path):
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--output_dir", str(tmp_path / "ds"), "--min_money", "3000",
         "--max_money", "2500", "--bad_input_share", "7"],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )
    assert proc.returncode == 2
    assert "error:" in proc.stderr and "Traceback" not in proc.stderr
    assert "max_money" in proc.stderr and "bad_input_share" in proc.stderr


def test_help_documents_every_flag():
    text = " ".join(build_script.make_parser().format_help().split())
    for flag in ["--train_size", "--validation_size", "--test_size", "--seed", "--format", "--min_money",
                 "--max_money", "--small_share", "--bad_input_share", "--forced_rank_share", "--variant_share",
                 "--num_proc", "--output_dir", "--overwrite", "--push_to_hub", "--hub_dataset_id"]:
        assert flag in text
    assert "share of sessions with at least one bad input" in text
    assert "one ticket hits a rank" in text


def test_push_to_hub_path(tmp_path, monkeypatch):
    pushed = {}

    def fake_push(self, repo_id, **kwargs):
        pushed.update(repo_id=repo_id, splits={k: len(v) for k, v in self.items()}, **kwargs)

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(DatasetDict, "push_to_hub", fake_push)
    build_script.main(["--output_dir", str(tmp_path / "ds"), "--train_size", "6", "--validation_size", "2",
                       "--test_size", "2", "--num_proc", "1", "--push_to_hub", "--hub_dataset_id", "me/lotto"])
    assert pushed["repo_id"] == "me/lotto"
    assert pushed["splits"] == {"train": 6, "validation": 2, "test": 2}
    assert pushed["private"] is False


def _bad_draw_errors(duplicate_share: float, n: int = 300) -> list:
    """The errors of the bad winning and bonus lines typed for `n` draws, every draw stage bad."""
    rng, cfg = random.Random(3), DataConfig(duplicate_share=duplicate_share)
    errors = []
    for _ in range(n):
        winning, bonus = data.uniform_draw(rng)
        lines = data.type_lines(1000, winning, bonus, {rules.Stage.WINNING, rules.Stage.BONUS}, rng, cfg)
        errors += rules.play(lines, tickets=[(1, 2, 3, 4, 5, 6)]).errors
    return errors


def test_duplicate_share_sets_how_many_bad_draw_lines_are_duplicates():
    def duplicates(errors):
        return sum(e in (rules.Msg.WINNING_DUPLICATE, rules.Msg.BONUS_DUPLICATE) for e in errors) / len(errors)

    assert duplicates(_bad_draw_errors(1.0)) == 1.0
    assert 0.15 < duplicates(_bad_draw_errors(0.25)) - duplicates(_bad_draw_errors(0.0)) < 0.35


def test_a_duplicate_winning_line_repeats_a_number_anywhere_in_the_line():
    rng = random.Random(5)
    places = Counter()
    for _ in range(300):
        numbers = rules.typed_numbers(data.duplicate_winning(rng, variant=True))
        assert rules.parse_winning(",".join(map(str, numbers)))[1] == rules.Msg.WINNING_DUPLICATE
        places[next(i for i, n in enumerate(numbers) if n in numbers[:i])] += 1
    assert set(places) == {1, 2, 3, 4, 5}
