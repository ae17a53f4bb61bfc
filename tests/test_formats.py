"""The text formats: the transcript (default) and the blog's seed format.

A format must print exactly the program's console text, read it back without ever raising,
and mark each span with the right Kind (typed lines are never learned).
"""
from __future__ import annotations

import dataclasses
import random
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import SPEC_LINES, SPEC_TICKETS, clean_run, random_run
from lotto_gpt import rules
from lotto_gpt.formats import FORMAT_NAMES, Kind, Segment, get_format, join, seed, transcript
from lotto_gpt.rules import Msg

SPEC_TRANSCRIPT = """\
구입금액을 입력해 주세요.
<in>8000

8개를 구매했습니다.
<t8>[8, 21, 23, 41, 42, 43]
<t7>[3, 5, 11, 16, 32, 38]
<t6>[7, 11, 16, 35, 36, 44]
<t5>[1, 8, 11, 31, 41, 42]
<t4>[13, 14, 16, 38, 42, 45]
<t3>[7, 11, 30, 40, 42, 43]
<t2>[2, 13, 22, 32, 38, 45]
<t1>[1, 3, 5, 14, 22, 45]

당첨 번호를 입력해 주세요.
<in>1,2,3,4,5,6
<b1><d1><b2><d2><b3><d3><b4><d4><b5><d5><b6><d6>
<d1><d2><d3><d4><d5><d6>

보너스 번호를 입력해 주세요.
<in>7
<d1><d2><d3><d4><d5><d6><b7><+7>
<d1><d2><d3><d4><d5><d6><b7><t8>[8, 21, 23, 41, 42, 43<x8><x21><x23><x41><x42><x43><c0>
<d1><d2><d3><d4><d5><d6><b7><t7>[3, 5, 11, 16, 32, 38<o3><o5><x11><x16><x32><x38><c2>
<d1><d2><d3><d4><d5><d6><b7><t6>[7, 11, 16, 35, 36, 44<+7><x11><x16><x35><x36><x44><c0>
<d1><d2><d3><d4><d5><d6><b7><t5>[1, 8, 11, 31, 41, 42<o1><x8><x11><x31><x41><x42><c1>
<d1><d2><d3><d4><d5><d6><b7><t4>[13, 14, 16, 38, 42, 45<x13><x14><x16><x38><x42><x45><c0>
<d1><d2><d3><d4><d5><d6><b7><t3>[7, 11, 30, 40, 42, 43<+7><x11><x30><x40><x42><x43><c0>
<d1><d2><d3><d4><d5><d6><b7><t2>[2, 13, 22, 32, 38, 45<o2><x13><x22><x32><x38><x45><c1>
<d1><d2><d3><d4><d5><d6><b7><t1>[1, 3, 5, 14, 22, 45<o1><o3><o5><x14><x22><x45><c3><#1>

당첨 통계
---
3개 일치 (5,000원) - 1개
4개 일치 (50,000원) - 0개
5개 일치 (1,500,000원) - 0개
5개 일치, 보너스 볼 일치 (30,000,000원) - 0개
6개 일치 (2,000,000,000원) - 0개
<n8>0<q0p11><r0>0<q0p10><r0>0<q0p9><r0>0<q0p8><r0>0<q0p7><r0>0<q0p6><r0>0<q0p5><r0>0<q0p4><r0>5<q0p3><r5>0<q6p2><r2>0<q2p1><r4>4<q5p0><r4>
총 수익률은 <p11><p10><p9><p8><p7><p6><p5><p4><p3><p2>6<p1>2.<p0>5%입니다.
"""

SPEC_SEED = """\
<IN>
구입금액=8000
당첨번호=1,2,3,4,5,6
보너스번호=7
</IN>
###
<OUT>
티켓수=8
구매번호:
[8,21,23,41,42,43]
[3,5,11,16,32,38]
[7,11,16,35,36,44]
[1,8,11,31,41,42]
[13,14,16,38,42,45]
[7,11,30,40,42,43]
[2,13,22,32,38,45]
[1,3,5,14,22,45]
3개일치 (5000원) = 1
4개일치 (50000원) = 0
5개일치 (1500000원) = 0
5개보너스일치 (30000000원) = 0
6개일치 (2000000000원) = 0
수익률=62.5%
</OUT>"""


def without_long_lines(run: rules.Run) -> rules.Run:
    """The run as the model sees it: the console shell answers lines over 64 characters."""
    attempts = [a for a in run.attempts if a.error != Msg.LINE_TOO_LONG]
    return dataclasses.replace(run, attempts=attempts)


def no_crash(parsed) -> bool:
    return not any(p.startswith("test_fail") for p in parsed.problems)


# ================================================================ registry

def test_get_format_by_name():
    assert get_format("transcript") is transcript
    assert get_format("seed") is seed
    assert set(FORMAT_NAMES) == {"transcript", "seed"}
    with pytest.raises(ValueError):
        get_format("json")


# ================================================================ transcript: text

def test_transcript_of_the_spec_example(spec_run):
    assert transcript.to_text(spec_run) == SPEC_TRANSCRIPT


def test_transcript_stdout_of_the_spec_example_is_the_console_text(spec_run):
    assert transcript.to_stdout(SPEC_TRANSCRIPT) == rules.console_text(spec_run)


def test_transcript_stdout_is_the_console_text_for_random_runs(many_runs):
    for run in many_runs:
        text = transcript.to_text(run)
        assert transcript.to_stdout(text) == rules.console_text(without_long_lines(run)), text


def test_transcript_stdout_equals_console_text_exactly_when_no_line_is_too_long(many_runs):
    checked = 0
    for run in many_runs:
        if Msg.LINE_TOO_LONG not in run.errors:
            assert transcript.to_stdout(transcript.to_text(run)) == rules.console_text(run)
            checked += 1
    assert checked > 100


def test_transcript_skips_lines_over_64_characters():
    long_line = "1" * 65
    run = rules.play([long_line] + SPEC_LINES, tickets=SPEC_TICKETS)
    assert run.errors == [Msg.LINE_TOO_LONG]
    text = transcript.to_text(run)
    assert long_line not in text and Msg.LINE_TOO_LONG not in text
    assert text == SPEC_TRANSCRIPT


def test_the_readme_shows_the_spec_run_as_the_format_writes_it():
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    example = readme.split("## The transcript format", 1)[1].split("```\n", 2)[1]
    assert example == SPEC_TRANSCRIPT


def test_transcript_of_a_bad_input_shows_the_typed_line_error_and_prompt():
    run = rules.play(["1000j"] + SPEC_LINES, tickets=SPEC_TICKETS)
    assert transcript.to_text(run).startswith(
        "구입금액을 입력해 주세요.\n<in>1000j\n[ERROR] 구입 금액은 숫자여야 합니다.\n구입금액을 입력해 주세요.\n<in>8000\n\n8개를"
    )


def test_a_duplicate_winning_number_is_checked_up_to_its_repeat_flagged_drawn_with_the_error_after_it():
    run = rules.play(["8000", "1,2,03,3,5,6", "1,2,3,4,5,6", "7"], tickets=SPEC_TICKETS)
    text = transcript.to_text(run)
    assert "<in>1,2,03,3,5,6\n<b1><d1><b2><d2><b3><d3><b3><o3>[ERROR] 당첨 번호는 중복될 수 없습니다.\n당첨 번호를 입력해 주세요.\n<in>" in text


def test_a_bonus_equal_to_a_winning_number_is_flagged_drawn_in_the_draw_block_with_the_error_after_it():
    run = rules.play(["8000", "1,2,3,4,5,6", " 3", "7"], tickets=SPEC_TICKETS)
    text = transcript.to_text(run)
    assert ("<in> 3\n<d1><d2><d3><d4><d5><d6><b3><o3>[ERROR] 보너스 번호는 당첨 번호와 중복될 수 없습니다.\n"
            "보너스 번호를 입력해 주세요.\n<in>7\n<d1><d2><d3><d4><d5><d6><b7><+7>\n") in text


def test_an_accepted_bonus_is_flagged_as_the_bonus_and_the_match_lines_copy_the_block_without_it():
    text = transcript.to_text(rules.play(["8000", "1,2,3,4,5,6", "7"], tickets=SPEC_TICKETS))
    assert "<in>7\n<d1><d2><d3><d4><d5><d6><b7><+7>\n<d1><d2><d3><d4><d5><d6><b7><t8>[8, 21" in text


def test_duplicate_errors_show_on_stdout_without_their_draw_tokens():
    run = rules.play(["8000", "1,2,3,3,5,6", "1,2,3,4,5,6", "6", "7"], tickets=SPEC_TICKETS)
    text = transcript.to_text(run)
    assert transcript.to_stdout(text) == rules.console_text(run)
    assert transcript.parse(text).errors == [Msg.WINNING_DUPLICATE, Msg.BONUS_DUPLICATE]


def test_other_errors_and_the_ablation_without_work_lines_restate_nothing():
    run = rules.play(["8000", "1,2,3,4,5,66", "1,2,3,4,5,6", "6", "7"], tickets=SPEC_TICKETS)
    assert "<in>1,2,3,4,5,66\n[ERROR]" in transcript.to_text(run)
    segments = transcript.encode(run, work=False)
    assert "<d" not in join(segments) and "<in>6\n[ERROR]" in join(segments)


def test_every_other_bonus_error_restates_the_draw_before_its_error_on_the_same_line():
    run = rules.play(["8000", "1,2,3,4,5,6", "x", "0", "7"], tickets=SPEC_TICKETS)
    text = transcript.to_text(run)
    assert f"<in>x\n<d1><d2><d3><d4><d5><d6>{Msg.BONUS_NOT_NUMBER}\n" in text
    assert f"<in>0\n<d1><d2><d3><d4><d5><d6>{Msg.NUMBER_RANGE}\n" in text
    assert transcript.to_stdout(text) == rules.console_text(run)
    assert transcript.parse(text).errors == [Msg.BONUS_NOT_NUMBER, Msg.NUMBER_RANGE]
    assert "<in>x\n[ERROR]" in join(transcript.encode(run, work=False))


def test_incomplete_transcript_ends_waiting_for_input():
    run = rules.play(["8000", "1,2,3,4,5,6"], tickets=SPEC_TICKETS)
    text = transcript.to_text(run)
    assert text.endswith("보너스 번호를 입력해 주세요.\n<in>")
    assert transcript.to_text(rules.play([])) == "구입금액을 입력해 주세요.\n<in>"


def test_transcript_segments_join_to_the_text(many_runs):
    for run in many_runs[:100]:
        segments = transcript.encode(run)
        assert all(isinstance(s, Segment) and s.text for s in segments)
        assert join(segments) == transcript.to_text(run)


# ================================================================ transcript: Kind marking

def test_typed_lines_are_input_and_nothing_else_is(many_runs):
    for run in many_runs:
        typed = [a.line + "\n" for a in run.attempts if a.error != Msg.LINE_TOO_LONG]
        inputs = [s.text for s in transcript.encode(run) if s.kind is Kind.INPUT]
        assert inputs == typed


def test_ticket_lines_are_ticket_kind_and_their_index_is_work():
    run = rules.play(SPEC_LINES, tickets=SPEC_TICKETS)
    segments = transcript.encode(run)
    tickets = [s.text for s in segments if s.kind is Kind.TICKET]
    assert tickets == [rules.format_ticket(t) + "\n" for t in SPEC_TICKETS]
    for i, s in enumerate(segments):
        if s.kind is Kind.TICKET:
            assert segments[i - 1].kind is Kind.WORK and re.fullmatch(r"<t\d+>", segments[i - 1].text)


def test_statistics_division_and_rate_are_tail_and_work_lines_are_work(spec_run):
    segments = transcript.encode(spec_run)
    tail = "".join(s.text for s in segments if s.kind is Kind.TAIL)
    assert tail.startswith("3개 일치 (5,000원) - 1개\n")
    assert tail.endswith("총 수익률은 <p11><p10><p9><p8><p7><p6><p5><p4><p3><p2>6<p1>2.<p0>5%입니다.\n")
    assert "<n8>" in tail
    work = "".join(s.text for s in segments if s.kind is Kind.WORK)
    assert "<in>1,2,3,4,5,6\n<b1><d1><b2><d2><b3><d3><b4><d4><b5><d5><b6><d6>\n<d1><d2><d3><d4><d5><d6>\n\n" in transcript.to_text(spec_run)
    assert "<d1><d2><d3><d4><d5><d6>\n" in work and "\n<d1><d2><d3><d4><d5><d6><b7><+7>\n" in work
    assert "<d1><d2><d3><d4><d5><d6><b7><t1>[1, 3, 5, 14, 22, 45<o1><o3><o5><x14><x22><x45><c3><#1>\n" in work
    program = "".join(s.text for s in segments if s.kind is Kind.PROGRAM)
    assert "<in>" in program and Msg.ASK_MONEY in program and "8000" not in program


# ================================================================ transcript: prompt

def test_prompt_ends_right_after_the_last_typed_line(many_runs):
    for run in many_runs:
        typed = [a.line for a in run.attempts if a.error != Msg.LINE_TOO_LONG]
        if not typed:
            continue
        text, prompt = transcript.to_text(run), transcript.prompt(run)
        assert text.startswith(prompt)
        assert prompt.endswith(transcript.IN + typed[-1] + "\n")
        assert prompt.count(transcript.IN) == len(typed)


def test_prompt_of_the_spec_example(spec_run):
    prompt = transcript.prompt(spec_run)
    assert prompt == SPEC_TRANSCRIPT.split("<in>7\n")[0] + "<in>7\n"
    assert SPEC_TRANSCRIPT[len(prompt):].startswith("<d1><d2><d3><d4><d5><d6><b7><+7>\n")


# ================================================================ transcript: work lines

WORK_LINE = re.compile(r"((?:<d\d+>){6}<b\d+>)<t(\d+)>\[(\d+(?:, \d+){5})((?:<[ox+]\d+>){6})<c([0-6])(b?)>(?:<#(\d+)>)?")
DIVISION_LINE = re.compile(r"<n(\d+)>((?:\d<q\dp\d+><r\d+>){12})")


def work_lines(text: str) -> list[str]:
    after = text.rsplit("\n" + transcript.IN, 1)[1].split("\n", 1)[1]
    return after.split("\n\n", 1)[0].split("\n")


def test_work_lines_are_right_for_random_complete_runs(many_runs):
    complete = [r for r in many_runs if r.complete]
    assert len(complete) > 100
    for run in complete:
        text = transcript.to_text(run)
        lines = work_lines(text)
        draw = "".join(f"<d{n}>" for n in run.winning)
        block = draw + f"<b{run.bonus}>"
        assert lines[0] == block + f"<+{run.bonus}>"  # the whole draw, restated after the bonus input, flagged
        assert text.count(draw + "\n") == 1  # and the six numbers right after their own line
        # besides the duplicates' own lines (pinned by the duplicate tests above)
        duplicates = "".join(transcript.duplicate_work(a, run.winning) for a in run.attempts
                             if a.error in transcript.DUPLICATE_ERRORS)
        # and the draw restated before every other bonus error (data v16)
        bonus_errors = sum(a.stage is rules.Stage.BONUS and a.error not in (*transcript.DUPLICATE_ERRORS, None,
                                                                            Msg.LINE_TOO_LONG) for a in run.attempts)
        # the check line, the draw line and a block per line
        assert text.count("<d") == 6 * (3 + len(run.tickets) + bonus_errors) + duplicates.count("<d")
        assert len(lines) == 1 + len(run.tickets)
        tallies = {k: 0 for k in rules.RANK_KEYS}
        n = len(run.tickets)
        for i, (line, ticket) in enumerate(zip(lines[1:], run.tickets)):
            m = WORK_LINE.fullmatch(line)
            assert m, line
            assert m.group(1) == block  # every line starts with the draw it is checked against
            assert int(m.group(2)) == n - i
            copied = [int(x) for x in m.group(3).split(", ")]
            flags = re.findall(r"<([ox+])(\d+)>", m.group(4))
            assert tuple(copied) == ticket and len(flags) == 6
            for x, (f, y) in zip(copied, flags):
                expected = "o" if x in run.winning else "+" if x == run.bonus else "x"
                assert f == expected and int(y) == x  # each flag names its number
            hits = sum(1 for x in ticket if x in run.winning)
            assert int(m.group(5)) == hits
            assert m.group(6) == ("b" if hits == 5 and run.bonus in ticket else "")
            key = f"{hits}{m.group(6)}" if hits >= 3 else None
            if key is None:
                assert m.group(7) is None
            else:
                tallies[key] += 1
                assert int(m.group(7)) == tallies[key]
        assert tallies == run.counts


def test_count_token_marks_five_plus_bonus():
    run = rules.play(["3000", "1,2,3,4,5,6", "7"], tickets=[(1, 2, 3, 4, 5, 7), (1, 2, 3, 4, 5, 8), (1, 2, 3, 4, 7, 8)])
    lines = work_lines(transcript.to_text(run))
    assert lines == [
        "<d1><d2><d3><d4><d5><d6><b7><+7>",
        "<d1><d2><d3><d4><d5><d6><b7><t3>[1, 2, 3, 4, 5, 7<o1><o2><o3><o4><o5><+7><c5b><#1>",
        "<d1><d2><d3><d4><d5><d6><b7><t2>[1, 2, 3, 4, 5, 8<o1><o2><o3><o4><o5><x8><c5><#1>",
        "<d1><d2><d3><d4><d5><d6><b7><t1>[1, 2, 3, 4, 7, 8<o1><o2><o3><o4><+7><x8><c4><#1>",
    ]


def test_tally_counts_each_rank_separately():
    tickets = [(1, 2, 3, 10, 11, 12), (1, 2, 3, 4, 10, 11), (1, 2, 3, 13, 14, 15), (1, 2, 3, 4, 5, 6)]
    run = rules.play(["4000", "1,2,3,4,5,6", "7"], tickets=tickets)
    tails = [re.search(r"<c\d+b?>(<#\d+>)?$", line).group(0) for line in work_lines(transcript.to_text(run))[1:]]
    assert tails == ["<c3><#1>", "<c4><#1>", "<c3><#2>", "<c6><#1>"]


def test_division_line_is_a_correct_long_division(many_runs):
    for run in [r for r in many_runs if r.complete]:
        text = transcript.to_text(run)
        found = [m for m in map(DIVISION_LINE.fullmatch, text.split("\n")) if m]
        assert len(found) == 1
        m = found[0]
        n = int(m.group(1))
        assert n == run.n_tickets
        steps = re.findall(r"(\d)<q(\d)p(\d+)><r(\d+)>", m.group(2))
        assert [int(p) for _, _, p, _ in steps] == list(range(11, -1, -1))  # each quotient digit's power of ten
        steps = [(d, q, r) for d, q, _, r in steps]
        dividend = "".join(d for d, _, _ in steps)
        assert int(dividend) == run.prize + n // 2 and len(dividend) == 12
        remainder = 0
        for d, q, r in steps:
            x = remainder * 10 + int(d)
            assert (int(q), int(r)) == (x // n, x % n)
            remainder = int(r)
        assert int("".join(q for _, q, _ in steps)) == run.rate_tenths
        # the division line comes right before the rate line
        lines = text.split("\n")
        assert lines[lines.index(m.group(0)) + 1] == transcript.rate_line(run.rate_tenths)


def test_division_line_of_the_largest_prize():
    assert transcript.division_line(200_000_000_000, 100).startswith("<n100>2<q0p11><r2>0<q0p10><r20>")
    line = transcript.division_line(2_000_000_000, 1)
    assert int("".join(re.findall(r"<q(\d)p\d+>", line))) == 2_000_000_000


def test_ticket_lines_count_down(many_runs):
    for run in [r for r in many_runs if r.money is not None][:50]:
        text = transcript.to_text(run)
        indices = [int(k) for k in re.findall(r"^<t(\d+)>\[[\d, ]*\]$", text, flags=re.M)]
        assert indices == list(range(run.n_tickets, 0, -1))


def test_work_vocabulary_covers_every_token_written(many_runs):
    vocab = set(transcript.work_vocabulary())
    assert len(vocab) == len(transcript.work_vocabulary())
    for run in many_runs:
        text = transcript.to_text(run)
        for line in text.split("\n"):
            if line.startswith(transcript.IN):
                continue  # typed text may contain anything
            for token in re.findall(r"<[^<>\s]+>", line):
                assert token in vocab, token


# ================================================================ transcript: parse

def test_parse_recovers_a_complete_run(many_runs):
    for run in [r for r in many_runs if r.complete]:
        parsed = transcript.parse(transcript.to_text(run))
        assert parsed.problems == []
        assert parsed.ticket_count == run.n_tickets
        assert parsed.tickets == run.tickets
        assert parsed.ticket_lines == [rules.format_ticket(t) for t in run.tickets]
        assert parsed.counts == run.counts
        assert parsed.rate == rules.format_rate(run.rate_tenths)
        assert parsed.errors == [e for e in run.errors if e != Msg.LINE_TOO_LONG]
        assert parsed.ended
        assert parsed.stdout == rules.console_text(without_long_lines(run))


def test_parse_of_the_spec_example(spec_run):
    parsed = transcript.parse(SPEC_TRANSCRIPT)
    assert (parsed.ticket_count, parsed.rate, parsed.problems, parsed.ended) == (8, "62.5%", [], True)
    assert parsed.tickets == SPEC_TICKETS
    assert parsed.counts == {"3": 1, "4": 0, "5": 0, "5b": 0, "6": 0}


def test_parse_reports_problems_of_incomplete_runs(many_runs):
    for run in [r for r in many_runs if not r.complete]:
        parsed = transcript.parse(transcript.to_text(run))
        assert no_crash(parsed)
        assert parsed.problems and not parsed.ended
        if run.money is not None:
            assert parsed.ticket_count == run.n_tickets and parsed.tickets == run.tickets
            assert parsed.problems == ["result_labels_parse_error"]
        else:
            assert parsed.problems == ["ticket_count_parse_error"]


def test_parse_survives_every_truncation_of_a_run():
    run = rules.play(["abc", "12000", "1,2,3", "1,2,3,4,5,6", "1", "7"], seed=5)
    text = transcript.to_text(run)
    complete_at = len(text.rstrip("\n"))
    for cut in range(len(text) + 1):
        parsed = transcript.parse(text[:cut])
        assert no_crash(parsed), cut
        if cut < complete_at:
            assert parsed.problems, cut
            assert not parsed.ended
        else:
            assert parsed.problems == [] and parsed.ended


def test_parse_reports_wrong_ticket_lines():
    text = SPEC_TRANSCRIPT.replace("<t5>[1, 8, 11, 31, 41, 42]", "<t5>[1, 8, 11, 31, 41,42]")
    parsed = transcript.parse(text)
    assert "ticket_lines_format_error" in parsed.problems
    assert parsed.tickets[3] is None


def test_parse_reports_a_missing_rate():
    parsed = transcript.parse(SPEC_TRANSCRIPT.replace("<p0>5%", "<p0>5"))
    assert parsed.problems == ["result_labels_parse_error"] and parsed.rate is None


@settings(max_examples=500)
@given(st.text(max_size=400))
def test_parse_never_raises_on_garbage(text):
    parsed = transcript.parse(text)
    assert no_crash(parsed)
    assert parsed.problems


@settings(max_examples=500)
@given(st.lists(st.tuples(st.integers(0, len(SPEC_TRANSCRIPT)), st.integers(0, 30), st.text(max_size=12)), min_size=1, max_size=6))
def test_parse_never_raises_on_edited_transcripts(edits):
    text = SPEC_TRANSCRIPT
    for at, delete, insert in edits:
        text = text[:at] + insert + text[at + delete:]
    parsed = transcript.parse(text)
    assert no_crash(parsed)
    assert transcript.to_stdout(text) is not None


@settings(max_examples=300)
@given(st.lists(st.sampled_from(SPEC_TRANSCRIPT.split("\n")), max_size=60))
def test_parse_never_raises_on_shuffled_lines(lines):
    parsed = transcript.parse("\n".join(lines))
    assert no_crash(parsed)


# ================================================================ seed format

def test_seed_text_of_the_spec_example(spec_run):
    assert seed.to_text(spec_run) == SPEC_SEED


def test_seed_prompt_is_the_input_block(spec_run):
    prompt = seed.prompt(spec_run)
    assert prompt == SPEC_SEED.split("<OUT>")[0]
    assert seed.to_text(spec_run).startswith(prompt)


def test_seed_kinds(spec_run):
    segments = seed.encode(spec_run)
    assert join(segments) == SPEC_SEED
    assert [s.kind for s in segments] == [Kind.INPUT, Kind.PROGRAM, Kind.TICKET, Kind.TAIL, Kind.PROGRAM]
    assert segments[0].text == seed.prompt(spec_run)


def test_seed_parse_recovers_the_spec_example():
    parsed = seed.parse(SPEC_SEED)
    assert parsed.problems == []
    assert parsed.ticket_count == 8
    assert parsed.tickets == SPEC_TICKETS
    assert parsed.counts == {"3": 1, "4": 0, "5": 0, "5b": 0, "6": 0}
    assert parsed.rate == "62.5%"
    assert parsed.ended


def test_seed_parse_recovers_random_runs():
    rng = random.Random(11)
    for _ in range(200):
        run = clean_run(rng)
        parsed = seed.parse(seed.to_text(run))
        assert parsed.problems == []
        assert parsed.ticket_count == run.n_tickets
        assert parsed.tickets == run.tickets
        assert parsed.counts == run.counts
        assert parsed.rate == seed.format_rate(run.rate_tenths)
        assert parsed.ended


def test_seed_rate_has_no_thousands_separators():
    run = rules.play(["1000", "1,2,3,4,5,6", "7"], tickets=[(1, 2, 3, 4, 5, 6)])
    assert seed.to_text(run).endswith("6개일치 (2000000000원) = 1\n수익률=200000000.0%\n</OUT>")
    assert seed.parse(seed.to_text(run)).rate == "200000000.0%"


def test_seed_encode_refuses_bad_inputs_and_incomplete_runs():
    with pytest.raises(ValueError):
        seed.encode(rules.play(["1000j"] + SPEC_LINES, tickets=SPEC_TICKETS))
    with pytest.raises(ValueError):
        seed.encode(rules.play(["8000", "1,2,3,4,5,6"], tickets=SPEC_TICKETS))
    with pytest.raises(ValueError):
        seed.encode(rules.play(["x" * 65] + SPEC_LINES, tickets=SPEC_TICKETS))


def test_seed_parse_survives_every_truncation():
    for cut in range(len(SPEC_SEED) + 1):
        parsed = seed.parse(SPEC_SEED[:cut])
        assert no_crash(parsed), cut
        if cut < len(SPEC_SEED):
            assert parsed.problems or not parsed.ended, cut


@settings(max_examples=500)
@given(st.text(max_size=400))
def test_seed_parse_never_raises_on_garbage(text):
    parsed = seed.parse(text)
    assert no_crash(parsed)
    assert parsed.problems


@settings(max_examples=300)
@given(st.lists(st.tuples(st.integers(0, len(SPEC_SEED)), st.integers(0, 30), st.text(max_size=12)), min_size=1, max_size=6))
def test_seed_parse_never_raises_on_edited_text(edits):
    text = SPEC_SEED
    for at, delete, insert in edits:
        text = text[:at] + insert + text[at + delete:]
    assert no_crash(seed.parse(text))


def test_random_run_helper_is_reproducible():
    a = random_run(random.Random(3))
    b = random_run(random.Random(3))
    assert transcript.to_text(a) == transcript.to_text(b)


@pytest.mark.parametrize("tenths", [0, 5, 625, 9_999, 16_667, 1_000_000, 2_000_000_000])
def test_the_rate_line_without_its_places_is_the_programs_rate_line(tenths):
    assert transcript.without_places(transcript.rate_line(tenths)) == rules.rate_line(tenths)


def test_the_rate_line_names_every_place_before_its_digit_and_leading_zeros_are_the_place_alone():
    assert transcript.rate_line(16_667).startswith("총 수익률은 <p11><p10><p9><p8><p7><p6><p5><p4>1,<p3>6<p2>6<p1>6.<p0>7%")
    places = re.findall(r"<p(\d+)>", transcript.rate_line(5))
    assert places == [str(p) for p in range(11, -1, -1)]
    assert transcript.rate_line(5).endswith("<p2><p1>0.<p0>5%입니다.")


def test_the_console_text_leaves_the_rate_lines_places_out(spec_run):
    assert transcript.to_stdout(transcript.to_text(spec_run)).endswith("\n총 수익률은 62.5%입니다.\n")
