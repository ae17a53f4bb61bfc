"""The lotto program (`console-spec.md`), exactly: the single judge of every model output.

Everything else imports its facts from here: prices, the prize table, the message texts,
validation order, ticket issuing, ranks, the return rate and the console text of a run.
No floating point anywhere: the rate is computed in integer tenths of a percent.
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from enum import Enum

TICKET_PRICE = 1_000
MAX_MONEY = 100_000
MAX_TICKETS = MAX_MONEY // TICKET_PRICE
NUMBERS = range(1, 46)
NUMBERS_PER_TICKET = 6
MAX_LINE_CHARS = 64


class Msg:
    """Every line the program prints that is not data."""

    ASK_MONEY = "구입금액을 입력해 주세요."
    ASK_WINNING = "당첨 번호를 입력해 주세요."
    ASK_BONUS = "보너스 번호를 입력해 주세요."
    BOUGHT_SUFFIX = "개를 구매했습니다."  # "8개를 구매했습니다."
    STATS_HEADER = "당첨 통계"
    STATS_RULE = "---"
    COUNT_SUFFIX = "개"  # "... - 1개"
    RATE_PREFIX = "총 수익률은 "
    RATE_SUFFIX = "입니다."

    MONEY_NOT_NUMBER = "[ERROR] 구입 금액은 숫자여야 합니다."
    MONEY_UNIT = "[ERROR] 구입 금액은 1,000원 단위여야 합니다."
    MONEY_LIMIT = "[ERROR] 구입 금액은 100,000원을 넘을 수 없습니다."
    WINNING_NOT_NUMBERS = "[ERROR] 당첨 번호는 쉼표로 구분된 숫자여야 합니다."
    WINNING_COUNT = "[ERROR] 당첨 번호는 6개여야 합니다."
    NUMBER_RANGE = "[ERROR] 로또 번호는 1부터 45 사이의 숫자여야 합니다."
    WINNING_DUPLICATE = "[ERROR] 당첨 번호는 중복될 수 없습니다."
    BONUS_NOT_NUMBER = "[ERROR] 보너스 번호는 숫자여야 합니다."
    BONUS_DUPLICATE = "[ERROR] 보너스 번호는 당첨 번호와 중복될 수 없습니다."
    LINE_TOO_LONG = "[ERROR] 입력은 64자를 넘을 수 없습니다."

    ERRORS = (
        MONEY_NOT_NUMBER, MONEY_UNIT, MONEY_LIMIT, WINNING_NOT_NUMBERS, WINNING_COUNT,
        NUMBER_RANGE, WINNING_DUPLICATE, BONUS_NOT_NUMBER, BONUS_DUPLICATE, LINE_TOO_LONG,
    )


class Stage(str, Enum):
    """The three questions the program asks, in order."""

    MONEY = "money"
    WINNING = "winning"
    BONUS = "bonus"

    @property
    def prompt(self) -> str:
        return {Stage.MONEY: Msg.ASK_MONEY, Stage.WINNING: Msg.ASK_WINNING, Stage.BONUS: Msg.ASK_BONUS}[self]


STAGES = (Stage.MONEY, Stage.WINNING, Stage.BONUS)


class Rank(Enum):
    """Prize table, lowest rank first (the order of the statistics lines)."""

    FIFTH = (3, False, 5_000)
    FOURTH = (4, False, 50_000)
    THIRD = (5, False, 1_500_000)
    SECOND = (5, True, 30_000_000)
    FIRST = (6, False, 2_000_000_000)

    def __init__(self, matches: int, bonus: bool, prize: int):
        self.matches = matches
        self.bonus = bonus
        self.prize = prize

    @property
    def key(self) -> str:
        """Short name used in data fields and work tokens: '3', '4', '5', '5b', '6'."""
        return f"{self.matches}{'b' if self.bonus else ''}"

    @property
    def label(self) -> str:
        bonus = ", 보너스 볼 일치" if self.bonus else ""
        return f"{self.matches}개 일치{bonus} ({self.prize:,}원)"

    def stats_line(self, count: int) -> str:
        return f"{self.label} - {count}{Msg.COUNT_SUFFIX}"


RANKS = tuple(Rank)
RANK_KEYS = tuple(r.key for r in RANKS)


def rank_of(ticket, winning, bonus: int) -> Rank | None:
    """The rank of one ticket, or None for no prize. The bonus only matters with 5 matches."""
    matches = len(set(ticket) & set(winning))
    if matches == 6:
        return Rank.FIRST
    if matches == 5:
        return Rank.SECOND if bonus in ticket else Rank.THIRD
    if matches == 4:
        return Rank.FOURTH
    if matches == 3:
        return Rank.FIFTH
    return None


def count_ranks(tickets, winning, bonus: int) -> dict[str, int]:
    counts = {key: 0 for key in RANK_KEYS}
    for ticket in tickets:
        rank = rank_of(ticket, winning, bonus)
        if rank is not None:
            counts[rank.key] += 1
    return counts


def prize_total(counts: dict[str, int]) -> int:
    return sum(rank.prize * counts[rank.key] for rank in RANKS)


def rate_tenths(prize: int, n_tickets: int) -> int:
    """Return rate in tenths of a percent, rounded half up.

    prize / (n * 1000) * 100 * 10 = prize / n, and round-half-up(p / n) = (p + n // 2) // n
    for integers (for odd n, r >= (n + 1) / 2 is the same test as 2r >= n).
    """
    return (prize + n_tickets // 2) // n_tickets


def format_rate(tenths: int) -> str:
    return f"{tenths // 10:,}.{tenths % 10}%"


def rate_line(tenths: int) -> str:
    return f"{Msg.RATE_PREFIX}{format_rate(tenths)}{Msg.RATE_SUFFIX}"


def format_ticket(ticket) -> str:
    return "[" + ", ".join(str(n) for n in ticket) + "]"


def bought_line(n_tickets: int) -> str:
    return f"{n_tickets}{Msg.BOUGHT_SUFFIX}"


# ---------------------------------------------------------------- input validation

_DIGITS = re.compile(r"[0-9]+")  # ASCII only: str.isdigit() would accept '²' and '٣'


def _is_digits(text: str) -> bool:
    return _DIGITS.fullmatch(text) is not None


def _trim(text: str) -> str:
    return text.strip(" ")


def check_length(line: str) -> str | None:
    """The console shell's check, before anything else sees the line."""
    return Msg.LINE_TOO_LONG if len(line) > MAX_LINE_CHARS else None


def parse_money(line: str) -> tuple[int | None, str | None]:
    """(money, None) or (None, error line). Checks run in the spec's order."""
    if (error := check_length(line)) is not None:
        return None, error
    text = _trim(line)
    if not _is_digits(text):
        return None, Msg.MONEY_NOT_NUMBER
    money = int(text)
    if money == 0 or money % TICKET_PRICE:
        return None, Msg.MONEY_UNIT
    if money > MAX_MONEY:
        return None, Msg.MONEY_LIMIT
    return money, None


def typed_numbers(line: str) -> tuple[int, ...]:
    """The numbers of a winning or bonus line whose comma-separated parts are all digits, in typed order."""
    return tuple(int(_trim(part)) for part in _trim(line).split(","))


def parse_winning(line: str) -> tuple[tuple[int, ...] | None, str | None]:
    if (error := check_length(line)) is not None:
        return None, error
    parts = [_trim(part) for part in _trim(line).split(",")]
    if not all(_is_digits(part) for part in parts):
        return None, Msg.WINNING_NOT_NUMBERS
    if len(parts) != NUMBERS_PER_TICKET:
        return None, Msg.WINNING_COUNT
    numbers = tuple(int(part) for part in parts)  # typed_numbers(line), from the parts already split
    if any(n not in NUMBERS for n in numbers):
        return None, Msg.NUMBER_RANGE
    if len(set(numbers)) != len(numbers):
        return None, Msg.WINNING_DUPLICATE
    return numbers, None


def parse_bonus(line: str, winning) -> tuple[int | None, str | None]:
    if (error := check_length(line)) is not None:
        return None, error
    text = _trim(line)
    if not _is_digits(text):
        return None, Msg.BONUS_NOT_NUMBER
    (bonus,) = typed_numbers(text)
    if bonus not in NUMBERS:
        return None, Msg.NUMBER_RANGE
    if bonus in winning:
        return None, Msg.BONUS_DUPLICATE
    return bonus, None


# ---------------------------------------------------------------- tickets

def issue_ticket(rng: random.Random) -> tuple[int, ...]:
    """Six distinct numbers, uniform over 1..45, ascending."""
    return tuple(sorted(rng.sample(NUMBERS, NUMBERS_PER_TICKET)))


def is_valid_ticket(ticket) -> bool:
    return (
        len(ticket) == NUMBERS_PER_TICKET
        and all(isinstance(n, int) and n in NUMBERS for n in ticket)
        and list(ticket) == sorted(set(ticket))
    )


# ---------------------------------------------------------------- a whole run

@dataclass(frozen=True)
class Attempt:
    """One typed line: the stage that asked for it and the error it caused (None = accepted)."""

    stage: Stage
    line: str
    error: str | None = None


@dataclass
class Run:
    """A structured session: every typed line in order, the tickets, and the outcome.

    A run is complete when the bonus was accepted; otherwise the lines ran out at `stage`.
    """

    attempts: list[Attempt] = field(default_factory=list)
    money: int | None = None
    tickets: list[tuple[int, ...]] = field(default_factory=list)
    winning: tuple[int, ...] | None = None
    bonus: int | None = None

    @property
    def complete(self) -> bool:
        return self.bonus is not None

    @property
    def stage(self) -> Stage | None:
        """The stage waiting for input, None when complete."""
        if self.money is None:
            return Stage.MONEY
        if self.winning is None:
            return Stage.WINNING
        if self.bonus is None:
            return Stage.BONUS
        return None

    @property
    def n_tickets(self) -> int:
        return 0 if self.money is None else self.money // TICKET_PRICE

    @property
    def counts(self) -> dict[str, int]:
        return count_ranks(self.tickets, self.winning, self.bonus)

    @property
    def prize(self) -> int:
        return prize_total(self.counts)

    @property
    def rate_tenths(self) -> int:
        return rate_tenths(self.prize, self.n_tickets)

    @property
    def errors(self) -> list[str]:
        return [a.error for a in self.attempts if a.error is not None]

    def feed(self, line: str, tickets=None, rng: random.Random | None = None) -> Attempt:
        """Process one typed line at the current stage (the program's main loop, one step)."""
        stage = self.stage
        if stage is None:
            raise ValueError("the run is already complete")
        if stage is Stage.MONEY:
            money, error = parse_money(line)
            if error is None:
                self.money = money
                self.tickets = _tickets_for(self.n_tickets, tickets, rng)
        elif stage is Stage.WINNING:
            self.winning, error = parse_winning(line)
        else:
            self.bonus, error = parse_bonus(line, self.winning)
        attempt = Attempt(stage, line, error)
        self.attempts.append(attempt)
        return attempt


def _tickets_for(n: int, tickets, rng: random.Random | None) -> list[tuple[int, ...]]:
    if tickets is None:
        rng = rng if rng is not None else random.Random()
        return [issue_ticket(rng) for _ in range(n)]
    tickets = [tuple(t) for t in tickets]
    if len(tickets) != n:
        raise ValueError(f"{len(tickets)} tickets given for {n * TICKET_PRICE:,} won ({n} tickets)")
    for ticket in tickets:
        if not is_valid_ticket(ticket):
            raise ValueError(f"invalid ticket {list(ticket)}: six distinct ascending numbers in 1..45")
    return tickets


def play(lines, tickets=None, seed: int | None = None, rng: random.Random | None = None) -> Run:
    """Run the program on typed lines until they run out or the run completes."""
    run = Run()
    rng = rng if rng is not None else random.Random(seed)
    for line in lines:
        if run.complete:
            break
        run.feed(line, tickets=tickets, rng=rng)
    return run


def console_lines(run: Run) -> list[str]:
    """Exactly what the program prints (stdout, no echo of typed lines), line by line."""
    out = [Stage.MONEY.prompt]
    for attempt in run.attempts:
        if attempt.error is not None:
            out += [attempt.error, attempt.stage.prompt]
            continue
        out.append("")  # blank line after each accepted input
        if attempt.stage is Stage.MONEY:
            out.append(bought_line(run.n_tickets))
            out += [format_ticket(t) for t in run.tickets]
            out += ["", Stage.WINNING.prompt]
        elif attempt.stage is Stage.WINNING:
            out.append(Stage.BONUS.prompt)
        else:
            counts = run.counts
            out += [Msg.STATS_HEADER, Msg.STATS_RULE]
            out += [rank.stats_line(counts[rank.key]) for rank in RANKS]
            out.append(rate_line(run.rate_tenths))
    return out


def console_text(run: Run) -> str:
    return "\n".join(console_lines(run)) + "\n"
