"""The rule engine against console-spec.md: it judges every model output, so it is tested
hardest. Each test states one behaviour of the spec; the property tests compare it with a
brute-force reference written here independently of `lotto_gpt.rules`.
"""
from __future__ import annotations

import random
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import SPEC_LINES, SPEC_TICKETS
from lotto_gpt import rules
from lotto_gpt.rules import Msg, Rank, Stage

EXAMPLES = 400


# ================================================================ the spec's text

SPEC_CONSOLE = """\
구입금액을 입력해 주세요.

8개를 구매했습니다.
[8, 21, 23, 41, 42, 43]
[3, 5, 11, 16, 32, 38]
[7, 11, 16, 35, 36, 44]
[1, 8, 11, 31, 41, 42]
[13, 14, 16, 38, 42, 45]
[7, 11, 30, 40, 42, 43]
[2, 13, 22, 32, 38, 45]
[1, 3, 5, 14, 22, 45]

당첨 번호를 입력해 주세요.

보너스 번호를 입력해 주세요.

당첨 통계
---
3개 일치 (5,000원) - 1개
4개 일치 (50,000원) - 0개
5개 일치 (1,500,000원) - 0개
5개 일치, 보너스 볼 일치 (30,000,000원) - 0개
6개 일치 (2,000,000,000원) - 0개
총 수익률은 62.5%입니다.
"""


def test_messages_are_the_spec_texts():
    assert Msg.ASK_MONEY == "구입금액을 입력해 주세요."
    assert Msg.ASK_WINNING == "당첨 번호를 입력해 주세요."
    assert Msg.ASK_BONUS == "보너스 번호를 입력해 주세요."
    assert Msg.MONEY_NOT_NUMBER == "[ERROR] 구입 금액은 숫자여야 합니다."
    assert Msg.MONEY_UNIT == "[ERROR] 구입 금액은 1,000원 단위여야 합니다."
    assert Msg.MONEY_LIMIT == "[ERROR] 구입 금액은 100,000원을 넘을 수 없습니다."
    assert Msg.WINNING_NOT_NUMBERS == "[ERROR] 당첨 번호는 쉼표로 구분된 숫자여야 합니다."
    assert Msg.WINNING_COUNT == "[ERROR] 당첨 번호는 6개여야 합니다."
    assert Msg.NUMBER_RANGE == "[ERROR] 로또 번호는 1부터 45 사이의 숫자여야 합니다."
    assert Msg.WINNING_DUPLICATE == "[ERROR] 당첨 번호는 중복될 수 없습니다."
    assert Msg.BONUS_NOT_NUMBER == "[ERROR] 보너스 번호는 숫자여야 합니다."
    assert Msg.BONUS_DUPLICATE == "[ERROR] 보너스 번호는 당첨 번호와 중복될 수 없습니다."
    assert Msg.LINE_TOO_LONG == "[ERROR] 입력은 64자를 넘을 수 없습니다."
    assert len(set(Msg.ERRORS)) == len(Msg.ERRORS) == 10


def test_statistics_labels_are_the_spec_texts():
    assert [rank.stats_line(0) for rank in rules.RANKS] == [
        "3개 일치 (5,000원) - 0개",
        "4개 일치 (50,000원) - 0개",
        "5개 일치 (1,500,000원) - 0개",
        "5개 일치, 보너스 볼 일치 (30,000,000원) - 0개",
        "6개 일치 (2,000,000,000원) - 0개",
    ]


# ================================================================ money: the error table

@pytest.mark.parametrize("line", ["", "   ", "abc", "1000j", "8000원", "만원"])
def test_money_not_digits_empty_or_letters(line):
    assert rules.parse_money(line) == (None, Msg.MONEY_NOT_NUMBER)


@pytest.mark.parametrize("line", ["-1000", "+1000", "-0"])
def test_money_not_digits_sign(line):
    assert rules.parse_money(line) == (None, Msg.MONEY_NOT_NUMBER)


@pytest.mark.parametrize("line", ["1000.0", "8000.", ".5", "1.5"])
def test_money_not_digits_decimal_point(line):
    assert rules.parse_money(line) == (None, Msg.MONEY_NOT_NUMBER)


@pytest.mark.parametrize("line", ["1,000", "8,000", "100,000"])
def test_money_not_digits_commas(line):
    assert rules.parse_money(line) == (None, Msg.MONEY_NOT_NUMBER)


@pytest.mark.parametrize("line", ["10 00", "8 000", " 1 000 "])
def test_money_not_digits_inner_spaces(line):
    assert rules.parse_money(line) == (None, Msg.MONEY_NOT_NUMBER)


@pytest.mark.parametrize("line", ["٣٠٠٠", "８０００", "1000²"])
def test_money_digits_are_ascii_digits_only(line):
    assert rules.parse_money(line) == (None, Msg.MONEY_NOT_NUMBER)


@pytest.mark.parametrize("line", ["\t1000", "1000\n", "\u00a01000"])
def test_money_only_the_space_character_is_trimmed(line):
    assert rules.parse_money(line) == (None, Msg.MONEY_NOT_NUMBER)


@pytest.mark.parametrize("line", ["0", "000", "999", "1", "1500", "8001", "99999"])
def test_money_zero_or_not_a_multiple_of_1000_is_a_unit_error(line):
    assert rules.parse_money(line) == (None, Msg.MONEY_UNIT)


@pytest.mark.parametrize("line", ["101000", "200000", "1000000", "9" * 20 + "000"])
def test_money_over_100000_is_a_limit_error(line):
    assert rules.parse_money(line) == (None, Msg.MONEY_LIMIT)


def test_money_100001_is_a_unit_error_not_a_limit_error():
    assert rules.parse_money("100001") == (None, Msg.MONEY_UNIT)


@pytest.mark.parametrize("line, money", [
    ("1000", 1000), ("8000", 8000), ("100000", 100000), ("01000", 1000), ("0008000", 8000),
    (" 8000", 8000), ("8000  ", 8000), ("   100000   ", 100000),
])
def test_money_accepted(line, money):
    assert rules.parse_money(line) == (money, None)


# ================================================================ winning numbers: the error table

@pytest.mark.parametrize("line", ["1,2,3,4,5,a", "a,b,c,d,e,f", "일,이,삼,사,오,육", "-1,2,3,4,5,6", "1.0,2,3,4,5,6"])
def test_winning_part_not_digits(line):
    assert rules.parse_winning(line) == (None, Msg.WINNING_NOT_NUMBERS)


@pytest.mark.parametrize("line", ["", "  ", "1,2,3,4,5,", ",1,2,3,4,5,6", "1,,2,3,4,5", "1, ,2,3,4,5"])
def test_winning_empty_part(line):
    assert rules.parse_winning(line) == (None, Msg.WINNING_NOT_NUMBERS)


@pytest.mark.parametrize("line", ["1;2;3;4;5;6", "1 2 3 4 5 6", "1.2.3.4.5.6", "1/2/3/4/5/6", "1，2，3，4，5，6"])
def test_winning_other_separator(line):
    assert rules.parse_winning(line) == (None, Msg.WINNING_NOT_NUMBERS)


def test_winning_not_digits_is_checked_before_the_count():
    assert rules.parse_winning("1,2,a") == (None, Msg.WINNING_NOT_NUMBERS)
    assert rules.parse_winning("1,2,3,4,5,6,x") == (None, Msg.WINNING_NOT_NUMBERS)


@pytest.mark.parametrize("line", ["1", "1,2,3", "1,2,3,4,5", "1,2,3,4,5,6,7", ",".join(["1"] * 20)])
def test_winning_not_six_parts(line):
    assert rules.parse_winning(line) == (None, Msg.WINNING_COUNT)


def test_winning_1_2_3_is_a_count_error():
    assert rules.parse_winning("1,2,3") == (None, Msg.WINNING_COUNT)


def test_winning_count_is_checked_before_range_and_duplicates():
    assert rules.parse_winning("0,1,1") == (None, Msg.WINNING_COUNT)
    assert rules.parse_winning("99,99,99,99,99,99,99") == (None, Msg.WINNING_COUNT)


@pytest.mark.parametrize("line", ["0,1,2,3,4,5", "1,2,3,4,5,46", "1,2,3,4,5,100", "0,1,2,3,4,99"])
def test_winning_number_out_of_1_to_45(line):
    assert rules.parse_winning(line) == (None, Msg.NUMBER_RANGE)


def test_winning_range_is_checked_before_duplicates():
    assert rules.parse_winning("1,1,2,3,4,46") == (None, Msg.NUMBER_RANGE)
    assert rules.parse_winning("0,0,1,2,3,4") == (None, Msg.NUMBER_RANGE)


@pytest.mark.parametrize("line", ["1,1,2,3,4,5", "45,1,2,3,4,45", "7,07,1,2,3,4"])
def test_winning_number_repeated(line):
    assert rules.parse_winning(line) == (None, Msg.WINNING_DUPLICATE)


@pytest.mark.parametrize("line, numbers", [
    ("1,2,3,4,5,6", (1, 2, 3, 4, 5, 6)),
    (" 1 , 2,3,4,5,6 ", (1, 2, 3, 4, 5, 6)),
    ("1, 2, 3, 4, 5, 6", (1, 2, 3, 4, 5, 6)),
    ("45,44,43,42,41,40", (45, 44, 43, 42, 41, 40)),
    ("07,1,2,3,4,5", (7, 1, 2, 3, 4, 5)),
    ("1,2,3,4,5,045", (1, 2, 3, 4, 5, 45)),
])
def test_winning_accepted_in_typed_order(line, numbers):
    assert rules.parse_winning(line) == (numbers, None)


# ================================================================ bonus: the error table

WINNING = (1, 2, 3, 4, 5, 6)


@pytest.mark.parametrize("line", ["", " ", "a", "-7", "+7", "7.0", "1 2", "7,8", "칠", "٧"])
def test_bonus_not_digits(line):
    assert rules.parse_bonus(line, WINNING) == (None, Msg.BONUS_NOT_NUMBER)


@pytest.mark.parametrize("line", ["0", "46", "100", "00"])
def test_bonus_out_of_1_to_45(line):
    assert rules.parse_bonus(line, WINNING) == (None, Msg.NUMBER_RANGE)


@pytest.mark.parametrize("line", ["1", "6", "06", " 3 "])
def test_bonus_in_winning(line):
    assert rules.parse_bonus(line, WINNING) == (None, Msg.BONUS_DUPLICATE)


@pytest.mark.parametrize("line, bonus", [("7", 7), ("07", 7), (" 45 ", 45), ("0045", 45)])
def test_bonus_accepted(line, bonus):
    assert rules.parse_bonus(line, WINNING) == (bonus, None)


# ================================================================ any line over 64 characters

def test_line_of_exactly_64_characters_is_read():
    assert rules.parse_money(" " * 60 + "8000") == (8000, None)
    assert rules.parse_winning("1,2,3,4,5,6".ljust(64)) == ((1, 2, 3, 4, 5, 6), None)
    assert rules.parse_bonus("7".rjust(64), WINNING) == (7, None)


def test_line_of_65_characters_is_too_long_at_every_stage():
    line = " " * 61 + "8000"
    assert len(line) == 65
    assert rules.parse_money(line) == (None, Msg.LINE_TOO_LONG)
    assert rules.parse_winning("1,2,3,4,5,6".ljust(65)) == (None, Msg.LINE_TOO_LONG)
    assert rules.parse_bonus("7".rjust(65), WINNING) == (None, Msg.LINE_TOO_LONG)


def test_line_length_is_checked_before_anything_else():
    assert rules.parse_money("x" * 65) == (None, Msg.LINE_TOO_LONG)
    assert rules.parse_money("1" * 65) == (None, Msg.LINE_TOO_LONG)
    assert rules.parse_winning(",".join(["1"] * 33)) == (None, Msg.LINE_TOO_LONG)
    assert rules.parse_bonus("1" * 65, WINNING) == (None, Msg.LINE_TOO_LONG)


def test_line_length_counts_characters_not_bytes():
    assert rules.parse_money("가" * 64) == (None, Msg.MONEY_NOT_NUMBER)
    assert rules.parse_money("가" * 65) == (None, Msg.LINE_TOO_LONG)


def test_check_length():
    assert rules.check_length("x" * 64) is None
    assert rules.check_length("x" * 65) == Msg.LINE_TOO_LONG


# ================================================================ ranks, prizes, rate

def test_prize_table():
    assert [(r.matches, r.bonus, r.prize) for r in rules.RANKS] == [
        (3, False, 5_000), (4, False, 50_000), (5, False, 1_500_000), (5, True, 30_000_000), (6, False, 2_000_000_000),
    ]
    assert rules.RANK_KEYS == ("3", "4", "5", "5b", "6")


@pytest.mark.parametrize("ticket, rank", [
    ((1, 2, 3, 4, 5, 6), Rank.FIRST),
    ((1, 2, 3, 4, 5, 7), Rank.SECOND),
    ((1, 2, 3, 4, 5, 8), Rank.THIRD),
    ((1, 2, 3, 4, 7, 8), Rank.FOURTH),
    ((1, 2, 3, 4, 8, 9), Rank.FOURTH),
    ((1, 2, 3, 7, 8, 9), Rank.FIFTH),
    ((1, 2, 3, 8, 9, 10), Rank.FIFTH),
    ((1, 2, 7, 8, 9, 10), None),
    ((1, 2, 8, 9, 10, 11), None),
    ((7, 40, 41, 42, 43, 44), None),
])
def test_rank_of(ticket, rank):
    assert rules.rank_of(ticket, WINNING, 7) is rank


def test_the_bonus_only_matters_with_five_matches():
    assert rules.rank_of((1, 2, 3, 4, 5, 7), WINNING, 7) is Rank.SECOND
    assert rules.rank_of((1, 2, 3, 4, 5, 7), WINNING, 8) is Rank.THIRD
    assert rules.rank_of((1, 2, 3, 4, 7, 9), WINNING, 7) is Rank.FOURTH
    assert rules.rank_of((1, 2, 3, 7, 8, 9), WINNING, 7) is Rank.FIFTH


def test_count_ranks_and_prize_total():
    tickets = [(1, 2, 3, 4, 5, 6), (1, 2, 3, 4, 5, 7), (1, 2, 3, 4, 5, 8), (1, 2, 3, 7, 8, 9), (1, 2, 3, 9, 10, 11)]
    counts = rules.count_ranks(tickets, WINNING, 7)
    assert counts == {"3": 2, "4": 0, "5": 1, "5b": 1, "6": 1}
    assert rules.prize_total(counts) == 2 * 5_000 + 1_500_000 + 30_000_000 + 2_000_000_000


def test_rate_of_the_spec_example_is_62_5():
    assert rules.rate_tenths(5_000, 8) == 625
    assert rules.format_rate(625) == "62.5%"
    assert rules.rate_line(625) == "총 수익률은 62.5%입니다."


def test_rate_of_no_prize_is_0_0():
    assert rules.format_rate(rules.rate_tenths(0, 100)) == "0.0%"


def test_rate_of_a_single_jackpot_ticket():
    assert rules.format_rate(rules.rate_tenths(2_000_000_000, 1)) == "200,000,000.0%"


def test_rate_has_thousands_separators():
    assert rules.format_rate(rules.rate_tenths(30_000_000, 3)) == "1,000,000.0%"
    assert rules.format_rate(10_000) == "1,000.0%"
    assert rules.format_rate(9_999) == "999.9%"


def test_rate_rounds_half_up():
    assert rules.rate_tenths(5_000, 16) == 313  # 312.5 -> 313, not banker's 312
    assert rules.format_rate(rules.rate_tenths(5_000, 16)) == "31.3%"
    assert rules.rate_tenths(5_000, 80) == 63  # 62.5 -> 63
    assert rules.rate_tenths(5_000, 3) == 1667  # 1666.67
    assert rules.rate_tenths(5_000, 7) == 714  # 714.28


# ================================================================ console text of whole runs

def test_spec_example_console_text(spec_run):
    assert rules.console_text(spec_run) == SPEC_CONSOLE
    assert spec_run.complete and spec_run.stage is None
    assert spec_run.money == 8000 and spec_run.n_tickets == 8
    assert spec_run.counts == {"3": 1, "4": 0, "5": 0, "5b": 0, "6": 0}
    assert spec_run.prize == 5_000 and spec_run.rate_tenths == 625
    assert spec_run.errors == []


def test_jackpot_run_prints_200_000_000_0_percent():
    run = rules.play(["1000", "1,2,3,4,5,6", "7"], tickets=[(1, 2, 3, 4, 5, 6)])
    text = rules.console_text(run)
    assert "6개 일치 (2,000,000,000원) - 1개\n" in text
    assert text.endswith("총 수익률은 200,000,000.0%입니다.\n")


def test_run_without_prizes_prints_0_0_percent():
    run = rules.play(["2000", "1,2,3,4,5,6", "7"], tickets=[(10, 11, 12, 13, 14, 15), (1, 2, 20, 21, 22, 23)])
    assert rules.console_text(run).endswith("총 수익률은 0.0%입니다.\n")


def test_second_prize_run_prints_thousands_separators():
    run = rules.play(["3000", "1,2,3,4,5,6", "7"], tickets=[(1, 2, 3, 4, 5, 7), (10, 11, 12, 13, 14, 15), (20, 21, 22, 23, 24, 25)])
    text = rules.console_text(run)
    assert "5개 일치, 보너스 볼 일치 (30,000,000원) - 1개\n" in text
    assert text.endswith("총 수익률은 1,000,000.0%입니다.\n")


def test_bad_input_prints_the_error_then_the_same_prompt_without_a_blank_line():
    run = rules.play(["1000j"] + SPEC_LINES, tickets=SPEC_TICKETS)
    assert rules.console_text(run).startswith(
        "구입금액을 입력해 주세요.\n"
        "[ERROR] 구입 금액은 숫자여야 합니다.\n"
        "구입금액을 입력해 주세요.\n"
        "\n"
        "8개를 구매했습니다.\n"
        "[8, 21, 23, 41, 42, 43]\n"
    )
    assert rules.console_text(run).endswith("총 수익률은 62.5%입니다.\n")
    assert run.errors == [Msg.MONEY_NOT_NUMBER]


def test_bad_inputs_at_every_stage_retry_that_stage():
    run = rules.play(["abc", "0", "8000", "1,2,3", "1,2,3,4,5,6", "6", "46", "7"], tickets=SPEC_TICKETS)
    assert run.complete
    assert run.errors == [Msg.MONEY_NOT_NUMBER, Msg.MONEY_UNIT, Msg.WINNING_COUNT, Msg.BONUS_DUPLICATE, Msg.NUMBER_RANGE]
    assert [a.stage for a in run.attempts] == [Stage.MONEY] * 3 + [Stage.WINNING] * 2 + [Stage.BONUS] * 3
    text = rules.console_text(run)
    assert (
        "당첨 번호를 입력해 주세요.\n"
        "[ERROR] 당첨 번호는 6개여야 합니다.\n"
        "당첨 번호를 입력해 주세요.\n"
        "\n"
        "보너스 번호를 입력해 주세요.\n"
        "[ERROR] 보너스 번호는 당첨 번호와 중복될 수 없습니다.\n"
        "보너스 번호를 입력해 주세요.\n"
        "[ERROR] 로또 번호는 1부터 45 사이의 숫자여야 합니다.\n"
        "보너스 번호를 입력해 주세요.\n"
        "\n"
        "당첨 통계\n"
    ) in text


def test_too_long_line_prints_its_error_and_the_same_prompt():
    run = rules.play(["x" * 65, "8000"], tickets=SPEC_TICKETS)
    assert rules.console_text(run).startswith(
        "구입금액을 입력해 주세요.\n[ERROR] 입력은 64자를 넘을 수 없습니다.\n구입금액을 입력해 주세요.\n\n8개를"
    )


def test_run_without_lines_prints_only_the_first_prompt():
    run = rules.play([])
    assert rules.console_text(run) == "구입금액을 입력해 주세요.\n"
    assert not run.complete and run.stage is Stage.MONEY


def test_run_whose_lines_run_out_ends_after_the_last_prompt():
    run = rules.play(["8000", "1,2,3,4,5,6"], tickets=SPEC_TICKETS)
    assert not run.complete and run.stage is Stage.BONUS
    assert rules.console_text(run) == SPEC_CONSOLE.split("보너스 번호를 입력해 주세요.\n")[0] + "보너스 번호를 입력해 주세요.\n"

    run = rules.play(["8000", "1,2"], tickets=SPEC_TICKETS)
    assert run.stage is Stage.WINNING
    assert rules.console_text(run).endswith(
        "\n당첨 번호를 입력해 주세요.\n[ERROR] 당첨 번호는 6개여야 합니다.\n당첨 번호를 입력해 주세요.\n"
    )

    run = rules.play(["abc"])
    assert rules.console_text(run) == "구입금액을 입력해 주세요.\n[ERROR] 구입 금액은 숫자여야 합니다.\n구입금액을 입력해 주세요.\n"
    assert run.tickets == [] and run.n_tickets == 0


def test_lines_after_a_complete_run_are_not_read():
    run = rules.play(SPEC_LINES + ["more", "lines"], tickets=SPEC_TICKETS)
    assert len(run.attempts) == 3
    assert rules.console_text(run) == SPEC_CONSOLE


def test_feeding_a_complete_run_raises():
    run = rules.play(SPEC_LINES, tickets=SPEC_TICKETS)
    with pytest.raises(ValueError):
        run.feed("1000")


def test_blank_line_after_each_accepted_input_and_after_the_ticket_block(spec_run):
    lines = rules.console_lines(spec_run)
    blanks = [i for i, line in enumerate(lines) if line == ""]
    assert [lines[i + 1] for i in blanks] == ["8개를 구매했습니다.", Msg.ASK_WINNING, Msg.ASK_BONUS, Msg.STATS_HEADER]
    assert lines[blanks[1] - 1] == "[1, 3, 5, 14, 22, 45]"


# ================================================================ tickets

def test_seeded_ticket_issuing_is_reproducible():
    lines = ["100000", "1,2,3,4,5,6", "7"]
    a, b = rules.play(lines, seed=123), rules.play(lines, seed=123)
    assert a.tickets == b.tickets and len(a.tickets) == 100
    assert rules.console_text(a) == rules.console_text(b)
    assert rules.play(lines, seed=124).tickets != a.tickets


def test_issued_tickets_are_six_distinct_ascending_numbers_in_1_to_45():
    rng = random.Random(7)
    seen = set()
    for _ in range(2000):
        ticket = rules.issue_ticket(rng)
        assert len(ticket) == 6 and list(ticket) == sorted(set(ticket))
        assert all(isinstance(n, int) and 1 <= n <= 45 for n in ticket)
        assert rules.is_valid_ticket(ticket)
        seen.update(ticket)
    assert seen == set(range(1, 46))


def test_money_decides_the_number_of_tickets():
    for money in (1000, 8000, 37000, 100000):
        run = rules.play([str(money)], seed=1)
        assert len(run.tickets) == money // 1000 == run.n_tickets
        assert rules.console_lines(run)[2] == f"{money // 1000}개를 구매했습니다."


def test_given_tickets_are_used(spec_run):
    assert spec_run.tickets == SPEC_TICKETS


def test_wrong_number_of_given_tickets_raises():
    with pytest.raises(ValueError):
        rules.play(["8000"], tickets=SPEC_TICKETS[:7])
    with pytest.raises(ValueError):
        rules.play(["1000"], tickets=SPEC_TICKETS)


@pytest.mark.parametrize("bad", [(1, 2, 3, 4, 5), (6, 5, 4, 3, 2, 1), (1, 1, 2, 3, 4, 5), (0, 1, 2, 3, 4, 5), (1, 2, 3, 4, 5, 46)])
def test_invalid_given_ticket_raises(bad):
    with pytest.raises(ValueError):
        rules.play(["1000"], tickets=[bad])


def test_is_valid_ticket():
    assert rules.is_valid_ticket((1, 2, 3, 4, 5, 45))
    assert not rules.is_valid_ticket((1, 2, 3, 4, 5))
    assert not rules.is_valid_ticket((2, 1, 3, 4, 5, 6))
    assert not rules.is_valid_ticket((1, 2, 3, 4, 5, 5))
    assert not rules.is_valid_ticket((1, 2, 3, 4, 5, 6.0))
    assert not rules.is_valid_ticket((0, 2, 3, 4, 5, 6))


def test_format_ticket():
    assert rules.format_ticket((1, 3, 5, 14, 22, 45)) == "[1, 3, 5, 14, 22, 45]"


# ================================================================ brute-force references (independent of rules.py)

REF_PRIZES = {"3": 5000, "4": 50000, "5": 1500000, "5b": 30000000, "6": 2000000000}
REF_ERR_LONG = "[ERROR] 입력은 64자를 넘을 수 없습니다."
ASCII_DIGITS = "0123456789"


def ref_rank_key(ticket, winning, bonus):
    hits = 0
    for x in ticket:
        for w in winning:
            if x == w:
                hits += 1
    has_bonus = False
    for x in ticket:
        if x == bonus:
            has_bonus = True
    if hits == 6:
        return "6"
    if hits == 5 and has_bonus:
        return "5b"
    if hits == 5:
        return "5"
    if hits == 4:
        return "4"
    if hits == 3:
        return "3"
    return None


def ref_counts(tickets, winning, bonus):
    counts = {"3": 0, "4": 0, "5": 0, "5b": 0, "6": 0}
    for t in tickets:
        key = ref_rank_key(t, winning, bonus)
        if key is not None:
            counts[key] += 1
    return counts


def ref_rate(prize, n_tickets):
    """(tenths, printed rate) from the spec's words: prize / money x 100, half-up to 0.1."""
    money = n_tickets * 1000
    exact = Fraction(prize, money) * 100
    tenths = int((exact * 10 + Fraction(1, 2)) // 1)
    with localcontext() as ctx:
        ctx.prec = 80  # enough digits that quantize sees the exact value's first decimals
        dec = (Decimal(prize) * 100 / Decimal(money)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    assert int(dec * 10) == tenths
    whole, frac = str(dec).split(".")
    groups = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    return tenths, ",".join(groups) + "." + frac + "%"


def ref_is_digits(text):
    if text == "":
        return False
    for ch in text:
        if ch not in ASCII_DIGITS:
            return False
    return True


def ref_trim(text):
    start, end = 0, len(text)
    while start < end and text[start] == " ":
        start += 1
    while end > start and text[end - 1] == " ":
        end -= 1
    return text[start:end]


def ref_money(line):
    if len(line) > 64:
        return None, REF_ERR_LONG
    text = ref_trim(line)
    if not ref_is_digits(text):
        return None, "[ERROR] 구입 금액은 숫자여야 합니다."
    value = int(text)
    if value == 0 or value % 1000 != 0:
        return None, "[ERROR] 구입 금액은 1,000원 단위여야 합니다."
    if value > 100000:
        return None, "[ERROR] 구입 금액은 100,000원을 넘을 수 없습니다."
    return value, None


def ref_split_commas(text):
    parts, current = [], ""
    for ch in text:
        if ch == ",":
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    return parts


def ref_winning(line):
    if len(line) > 64:
        return None, REF_ERR_LONG
    parts = [ref_trim(p) for p in ref_split_commas(line)]
    for p in parts:
        if not ref_is_digits(p):
            return None, "[ERROR] 당첨 번호는 쉼표로 구분된 숫자여야 합니다."
    if len(parts) != 6:
        return None, "[ERROR] 당첨 번호는 6개여야 합니다."
    numbers = [int(p) for p in parts]
    for n in numbers:
        if n < 1 or n > 45:
            return None, "[ERROR] 로또 번호는 1부터 45 사이의 숫자여야 합니다."
    for i in range(6):
        for j in range(i + 1, 6):
            if numbers[i] == numbers[j]:
                return None, "[ERROR] 당첨 번호는 중복될 수 없습니다."
    return tuple(numbers), None


def ref_bonus(line, winning):
    if len(line) > 64:
        return None, REF_ERR_LONG
    text = ref_trim(line)
    if not ref_is_digits(text):
        return None, "[ERROR] 보너스 번호는 숫자여야 합니다."
    value = int(text)
    if value < 1 or value > 45:
        return None, "[ERROR] 로또 번호는 1부터 45 사이의 숫자여야 합니다."
    if value in winning:
        return None, "[ERROR] 보너스 번호는 당첨 번호와 중복될 수 없습니다."
    return value, None


# ================================================================ strategies

numbers_1_45 = st.integers(1, 45)


@st.composite
def draws(draw):
    """Six winning numbers and a bonus outside them."""
    seven = draw(st.lists(numbers_1_45, min_size=7, max_size=7, unique=True))
    return tuple(seven[:6]), seven[6]


@st.composite
def ticket_near(draw, winning, bonus):
    """A valid ticket sharing a chosen number of numbers with the draw (so every rank occurs)."""
    k = draw(st.integers(0, 6))
    take_bonus = draw(st.booleans()) and k < 6
    chosen = set(draw(st.permutations(winning))[:k])
    if take_bonus:
        chosen.add(bonus)
    others = [n for n in range(1, 46) if n not in winning and n != bonus]
    rest = draw(st.permutations(others))
    chosen.update(rest[: 6 - len(chosen)])
    return tuple(sorted(chosen))


@st.composite
def draws_and_tickets(draw, max_tickets=100):
    winning, bonus = draw(draws())
    ticket = st.one_of(ticket_near(winning, bonus), st.lists(numbers_1_45, min_size=6, max_size=6, unique=True).map(lambda t: tuple(sorted(t))))
    tickets = draw(st.lists(ticket, min_size=1, max_size=max_tickets))
    return winning, bonus, tickets


MIXED_ALPHABET = ASCII_DIGITS * 3 + ",  -.+aZx가한\t٣²０"
mixed_text = st.text(alphabet=MIXED_ALPHABET, max_size=24)


def padded(inner):
    return st.tuples(st.integers(0, 3), inner, st.integers(0, 3)).map(lambda t: " " * t[0] + t[1] + " " * t[2])


number_text = st.one_of(
    st.integers(0, 120).map(str),
    st.integers(0, 120).map(lambda n: f"{n:03d}"),
    st.integers(0, 10**12).map(str),
)
money_text = st.one_of(
    st.integers(0, 120).map(lambda k: str(k * 1000)),
    st.integers(0, 200_000).map(str),
    st.integers(0, 120).map(lambda k: "0" * (k % 3) + str(k * 1000)),
)
money_lines = st.one_of(
    padded(money_text), mixed_text, padded(mixed_text), st.text(max_size=8),
    st.text(alphabet=MIXED_ALPHABET, min_size=60, max_size=70),
    st.integers(55, 70).flatmap(lambda n: padded(money_text).map(lambda s: s.rjust(n))),
)
winning_lines = st.one_of(
    st.tuples(
        st.lists(padded(number_text), min_size=0, max_size=8),
        st.sampled_from([",", ", ", " ,", ";", " ", ",,"]),
    ).map(lambda t: t[1].join(t[0])),
    st.lists(numbers_1_45, min_size=6, max_size=6, unique=True).map(lambda ns: ",".join(map(str, ns))),
    st.lists(numbers_1_45, min_size=5, max_size=7).map(lambda ns: ",".join(map(str, ns))),
    st.lists(st.integers(0, 50), min_size=6, max_size=6).map(lambda ns: ",".join(map(str, ns))),
    mixed_text,
    st.text(alphabet=MIXED_ALPHABET, min_size=60, max_size=70),
)
bonus_lines = st.one_of(padded(number_text), padded(numbers_1_45.map(str)), mixed_text, st.text(max_size=6))


# ================================================================ property tests

@settings(max_examples=EXAMPLES)
@given(draws_and_tickets())
def test_rank_of_matches_brute_force(case):
    winning, bonus, tickets = case
    for ticket in tickets:
        rank = rules.rank_of(ticket, winning, bonus)
        assert (rank.key if rank else None) == ref_rank_key(ticket, winning, bonus)


@settings(max_examples=EXAMPLES)
@given(draws_and_tickets())
def test_count_ranks_prize_and_rate_match_brute_force(case):
    winning, bonus, tickets = case
    counts = rules.count_ranks(tickets, winning, bonus)
    assert counts == ref_counts(tickets, winning, bonus)
    prize = sum(REF_PRIZES[k] * v for k, v in counts.items())
    assert rules.prize_total(counts) == prize
    tenths, printed = ref_rate(prize, len(tickets))
    assert rules.rate_tenths(prize, len(tickets)) == tenths
    assert rules.format_rate(tenths) == printed


@settings(max_examples=EXAMPLES)
@given(st.integers(1, 100).flatmap(lambda n: st.tuples(st.just(n), st.lists(st.sampled_from(list(REF_PRIZES.values()) + [0] * 3), min_size=n, max_size=n))))
def test_rate_of_any_prize_mix_matches_fraction_and_decimal(case):
    n, prizes = case
    prize = sum(prizes)
    tenths, printed = ref_rate(prize, n)
    assert rules.rate_tenths(prize, n) == tenths
    assert rules.format_rate(rules.rate_tenths(prize, n)) == printed


@settings(max_examples=EXAMPLES)
@given(draws_and_tickets(max_tickets=100))
def test_whole_run_matches_brute_force(case):
    winning, bonus, tickets = case
    lines = [str(len(tickets) * 1000), ",".join(map(str, winning)), str(bonus)]
    run = rules.play(lines, tickets=tickets)
    counts = ref_counts(tickets, winning, bonus)
    tenths, printed = ref_rate(sum(REF_PRIZES[k] * v for k, v in counts.items()), len(tickets))
    out = rules.console_lines(run)
    assert out[-8:-1] == [
        "당첨 통계", "---",
        f"3개 일치 (5,000원) - {counts['3']}개",
        f"4개 일치 (50,000원) - {counts['4']}개",
        f"5개 일치 (1,500,000원) - {counts['5']}개",
        f"5개 일치, 보너스 볼 일치 (30,000,000원) - {counts['5b']}개",
        f"6개 일치 (2,000,000,000원) - {counts['6']}개",
    ]
    assert out[-1] == f"총 수익률은 {printed}입니다."
    assert out[3: 3 + len(tickets)] == ["[" + ", ".join(str(n) for n in t) + "]" for t in tickets]


@settings(max_examples=1000)
@given(money_lines)
def test_parse_money_matches_the_spec_table(line):
    assert rules.parse_money(line) == ref_money(line)


@settings(max_examples=1000)
@given(winning_lines)
def test_parse_winning_matches_the_spec_table(line):
    assert rules.parse_winning(line) == ref_winning(line)


@settings(max_examples=1000)
@given(bonus_lines, draws())
def test_parse_bonus_matches_the_spec_table(line, draw):
    winning, _ = draw
    assert rules.parse_bonus(line, winning) == ref_bonus(line, winning)


@settings(max_examples=300)
@given(st.lists(st.one_of(money_lines, winning_lines, bonus_lines), max_size=10), st.integers(0, 2**32))
def test_any_lines_give_a_consistent_run(lines, seed):
    run = rules.play(lines, seed=seed)
    assert len(run.attempts) <= len(lines)
    for attempt in run.attempts:
        assert attempt.error is None or attempt.error in Msg.ERRORS
    accepted = [a.stage for a in run.attempts if a.error is None]
    assert accepted == list(rules.STAGES[: len(accepted)])
    assert run.n_tickets == len(run.tickets)
    assert all(rules.is_valid_ticket(t) for t in run.tickets)
    text = rules.console_text(run)
    expected_prompt = run.stage.prompt if run.stage else None
    if expected_prompt:
        assert text.endswith(expected_prompt + "\n")
    else:
        assert text.endswith("입니다.\n")
    # every error line is followed by the prompt of its stage
    out = rules.console_lines(run)
    errors = [a for a in run.attempts if a.error]
    positions = [i for i, line in enumerate(out) if line.startswith("[ERROR]")]
    assert [out[i] for i in positions] == [a.error for a in errors]
    assert [out[i + 1] for i in positions] == [a.stage.prompt for a in errors]


def test_typed_numbers_are_read_in_typed_order_with_spaces_and_leading_zeros():
    assert rules.typed_numbers(" 07, 3,3 ,45") == (7, 3, 3, 45)
    assert rules.typed_numbers("09") == (9,)
