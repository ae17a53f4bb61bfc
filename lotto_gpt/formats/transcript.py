"""The default format: the console session as printed, plus hidden work lines.

Example (the spec's run; `<in>` marks a line the user types, it ends at the newline):

    구입금액을 입력해 주세요.
    <in>8000
                                                  (blank line printed after the input)
    8개를 구매했습니다.
    <t8>[8, 21, 23, 41, 42, 43]                   <tK>: hidden countdown index
    ...
    <t1>[1, 3, 5, 14, 22, 45]

    당첨 번호를 입력해 주세요.
    <in>1,2,3,3,5,6                               (a duplicate: checked up to it, the error after it)
    <b1><d1><b2><d2><b3><d3><b3><o3>[ERROR] 당첨 번호는 중복될 수 없습니다.
    당첨 번호를 입력해 주세요.
    <in>1,2,3,4,5,6
    <b1><d1><b2><d2><b3><d3><b4><d4><b5><d5><b6><d6>   work: each number asked, then written
    <d1><d2><d3><d4><d5><d6>                      work: the draw restated

    보너스 번호를 입력해 주세요.
    <in>3
    <d1><d2><d3><d4><d5><d6><b3><o3>[ERROR] 보너스 번호는 당첨 번호와 중복될 수 없습니다.
    보너스 번호를 입력해 주세요.
    <in>x
    <d1><d2><d3><d4><d5><d6>[ERROR] 보너스 번호는 숫자여야 합니다.   (any bonus error: the draw restated first)
    보너스 번호를 입력해 주세요.
    <in>7
    <d1><d2><d3><d4><d5><d6><b7><+7>              work: the draw block (the whole draw), the bonus's flag
    <d1>...<d6><b7><t8>[8, 21, 23, 41, 42, 43<x8><x21><x23><x41><x42><x43><c0>
    ...                                           work: draw block, copy, a flag per number, count
    <d1>...<d6><b7><t1>[1, 3, 5, 14, 22, 45<o1><o3><o5><x14><x22><x45><c3><#1>  ... and the tally

    당첨 통계
    ---
    3개 일치 (5,000원) - 1개
    ...
    <n8>0<q0p11><r0>...5<q0p3><r5>0<q6p2><r2>0<q2p1><r4>4<q5p0><r4>   work: long division
    총 수익률은 <p11>...<p3><p2>6<p1>2.<p0>5%입니다.                 the places `<pP>` are work, not printed

Why each work line (every step is a small local computation):
- `<tK>` counts down to 1 on the ticket lines, so "stop issuing" is a local decision, and
  gives each work line the handle of the ticket line it copies.
- the draw is restated in its own token family (`<dX>`, bonus `<bX>`) right after the line
  that typed it: "is n drawn" then compares two different symbols instead of parsing digits
  typed far away, and the restatement itself is a short local copy (placed after the bonus
  input, with errors and prompts between, it was still 19.5% wrong after 6,500 steps and
  14.8% after 9,000: BENCHMARKS.md, runs H3 and H4).
- a duplicate winning number is found on a check line before the restated draw, asked the way the
  bonus line asks: each typed number as a bonus token (`<b3>`), then its answer, `<d3>` (not yet on
  this line: written) or the drawn flag `<o3>` (already there: the `[ERROR]` follows on the same
  line). "Is `<b3>` among the `<d..>` before it?" is the bonus line's own question, with its tokens.
  Data v9-v14 restated `<d1><d2><d3><d3>` (a token telling itself from an earlier copy) and most
  models never wrote the error; session 26's check line in families of its own (`<u3><w3>`) formed
  it on some seeds only (BENCHMARKS.md, sessions 24-27). The draw is then restated plain, so every
  later copy reads six `<dX>` in a row (session 25 interleaved `<u3><d3>` in the only restated line,
  and one seed of two never formed the match lines' copy).
- the bonus line is the draw block, then the typed bonus's flag as a match line would write it:
  `<+7>` (the bonus) accepts it, `<o3>` (a winning number) is the duplicate, its `[ERROR]` after it.
  The decision is then the flag, which every match line trains six times (data v10; v9 wrote the
  error or the newline right after `<b3>`, and no run learned it: BENCHMARKS.md, session 17).
- every line after a typed bonus starts with the draw restated, the errors' lines too
  (`<d1>..<d6>[ERROR] ...`): the bonus line then copies the draw from the line one input above
  it, never from across a run of bad lines (data v15: the bonus line miscopied the draw in 15
  of 1,120 test sessions with a bad bonus line, in none of 6,880 without: BENCHMARKS.md, session 29).
- every match line starts with the draw block `<d..>x6<bX>` (a plain copy of the line
  above it): the numbers a flag is checked against are always among the last ~20 tokens,
  at nearly fixed offsets, instead of hundreds of tokens back.
- after its draw block, each match line goes on with the tokens of its ticket line (`<tK>`
  `[8` `, 21` ... `, 43`: the tokenizer fuses each number with the bracket or separator before
  it), so the copy is the plainest induction: find the earlier occurrence of the current token
  in line K, emit the token after it, at the same offset from `<tK>`. Two earlier designs
  failed here after ~3,000 steps (teacher-forced copy error 70-75%, even on the first number):
  flags between the numbers, and a copy in its own token family without the separators of the
  source line (the copy and its source then had different tokens at different offsets).
- then one flag per number at a fixed offset of six, a token that names the number and its
  fate (`<o21>` drawn, `<+21>` the bonus, `<x21>` neither). Measured (BENCHMARKS.md, "Format
  v5"): with a bare `<o>`/`<x>` the model has to compare two retrieved symbols, and ~91% of
  true hits stayed `<x>` in every v4 run; with the number in the flag token, "21 is drawn" can
  be read off linearly (the copy of 21 plus the draw tokens nearby): teacher-forced, 84% of
  hits were found after 4,200 steps, and 95% after 3,000 with the draw block in the line.
- `<cK>` counts the `<oX>` flags of the line (`<c5b>`: five plus the bonus), `<#K>` is the
  running tally of that rank, so each statistics count is a copy of the last tally.
- the rate in tenths of a percent is (prize + n // 2) // n: the dividend is written as
  12 digits, each followed by its quotient digit and the remainder, so every step reads only
  the previous remainder, the digit and the divisor `<nK>`. The quotient token names its digit
  and its power of ten (`<q6p2>`: 6 hundred tenths). The rate line names each place before its
  digit, from the highest (`<p11>`...`<p0>`): a place is the lookup of the quotient token of that
  place, a leading zero is the place token alone, a comma or the point is decided by the place.
  So the rate's length is no longer a count: with bare `<q6>` (data v13), and with the places on
  the quotient alone (session 25), the rate's digits were dropped, doubled or miscounted in 3-9 of
  500 sessions a run (`1,666.7%` as `166.7%`, `550.0%` as `50.0%`).
"""
from __future__ import annotations

import re

from .. import rules
from ..rules import Msg, RANKS, Run, Stage
from . import Kind, Parsed, Segment, join

NAME = "transcript"

IN = "<in>"
HIT, BONUS_HIT, MISS = "o", "+", "x"  # flag kinds; a flag token names its number too
DUPLICATE_ERRORS = (Msg.WINNING_DUPLICATE, Msg.BONUS_DUPLICATE)  # found on a restated line: `duplicate_work`
DIVIDEND_DIGITS = 12  # 100 tickets x 2,000,000,000 = 200,000,000,000 (12 digits)


def ticket_index(k: int) -> str:
    return f"<t{k}>"


def draw_token(n: int) -> str:
    return f"<d{n}>"


def bonus_token(n: int) -> str:
    return f"<b{n}>"


def count_token(matches: int, bonus: bool) -> str:
    return f"<c{matches}{'b' if bonus else ''}>"


def tally_token(k: int) -> str:
    return f"<#{k}>"


def divisor_token(n: int) -> str:
    return f"<n{n}>"


def quotient_token(d: int, power: int) -> str:
    return f"<q{d}p{power}>"


def remainder_token(r: int) -> str:
    return f"<r{r}>"


def place_token(power: int) -> str:
    return f"<p{power}>"


def flag_token(kind: str, number: int) -> str:
    return f"<{kind}{number}>"


def flag_tokens(kinds=(HIT, BONUS_HIT, MISS)) -> list[str]:
    """The flag tokens of these kinds, kind by kind, numbers ascending."""
    return [flag_token(kind, n) for kind in kinds for n in rules.NUMBERS]


def work_vocabulary() -> list[str]:
    """Every hidden token this format writes (each becomes one token of the tokenizer)."""
    n_max = rules.MAX_TICKETS
    tokens = [IN] + flag_tokens()
    tokens += [ticket_index(k) for k in range(1, n_max + 1)]
    tokens += [draw_token(n) for n in rules.NUMBERS] + [bonus_token(n) for n in rules.NUMBERS]
    tokens += [count_token(m, False) for m in range(7)] + [count_token(5, True)]
    tokens += [tally_token(k) for k in range(1, n_max + 1)]
    tokens += [divisor_token(n) for n in range(1, n_max + 1)]
    tokens += [quotient_token(d, p) for p in range(DIVIDEND_DIGITS) for d in range(10)]
    tokens += [remainder_token(r) for r in range(n_max)] + [place_token(p) for p in range(DIVIDEND_DIGITS)]
    return tokens


def program_vocabulary() -> list[str]:
    """Fixed program texts, each one token: the model never spells Korean."""
    texts = [s.prompt for s in rules.STAGES] + list(Msg.ERRORS)
    texts += [Msg.BOUGHT_SUFFIX, Msg.STATS_HEADER, Msg.STATS_RULE, Msg.RATE_PREFIX, Msg.RATE_SUFFIX]
    texts += [f"{rank.label} - " for rank in RANKS] + [Msg.COUNT_SUFFIX]
    return texts


# ---------------------------------------------------------------- encoder

def flag(number: int, winning, bonus: int) -> str:
    if number in winning:
        return flag_token(HIT, number)
    return flag_token(BONUS_HIT if number == bonus else MISS, number)


def draw_line(winning) -> str:
    return "".join(draw_token(n) for n in winning)


def check_line(numbers) -> str:
    """Each typed winning number asked as a bonus token, then written as a draw token (`<b1><d1><b2><d2>...`)."""
    return "".join(bonus_token(n) + draw_token(n) for n in numbers)


def draw_block(run: Run) -> str:
    return draw_line(run.winning) + bonus_token(run.bonus)


def match_lines(run: Run) -> list[str]:
    """Per ticket: the draw block, index, the copied numbers, their flags, the count and the tally."""
    lines, tallies = [], {key: 0 for key in rules.RANK_KEYS}
    n, block = len(run.tickets), draw_block(run)
    for i, ticket in enumerate(run.tickets):
        rank = rules.rank_of(ticket, run.winning, run.bonus)
        hits = len(set(ticket) & set(run.winning))
        line = block + ticket_index(n - i)
        line += rules.format_ticket(ticket)[:-1]  # the ticket line's tokens, without "]"
        line += "".join(flag(x, run.winning, run.bonus) for x in ticket)
        line += count_token(hits, hits == 5 and run.bonus in ticket)
        if rank is not None:
            tallies[rank.key] += 1
            line += tally_token(tallies[rank.key])
        lines.append(line)
    return lines


def division_line(prize: int, n: int) -> str:
    """(prize + n // 2) // n by long division over a fixed 12-digit dividend."""
    dividend = f"{prize + n // 2:0{DIVIDEND_DIGITS}d}"
    assert len(dividend) == DIVIDEND_DIGITS, dividend
    out, remainder = divisor_token(n), 0
    for power, digit in zip(range(DIVIDEND_DIGITS - 1, -1, -1), dividend):
        x = remainder * 10 + int(digit)
        out += f"{digit}{quotient_token(x // n, power)}{remainder_token(x % n)}"
        remainder = x % n
    return out


def rate_line(tenths: int) -> str:
    """The program's rate line with every quotient place named before its digit (`<pP>`, work: not printed),
    from the highest: leading zeros are the place alone (`<p11>...<p2>6<p1>2.<p0>5`)."""
    rate = rules.format_rate(tenths)
    digits = sum(c.isdigit() for c in rate)
    places = iter(range(digits - 1, -1, -1))
    leading = "".join(place_token(p) for p in range(DIVIDEND_DIGITS - 1, digits - 1, -1))
    placed = "".join(place_token(next(places)) + c if c.isdigit() else c for c in rate)
    return f"{Msg.RATE_PREFIX}{leading}{placed}{Msg.RATE_SUFFIX}"


def bonus_check(winning, bonus: int) -> str:
    """The draw block with a typed bonus, then that bonus's flag: `<+7>` accepts it, `<o3>` is a duplicate."""
    return draw_line(winning) + bonus_token(bonus) + flag(bonus, winning, bonus)


def duplicate_work(attempt, winning) -> str:
    """The draw restated up to the duplicate that the error names (the error follows on the same line).

    Winning: the check line (`check_line`) up to the first number already written, which is asked and answered
    with its drawn flag (`<b1><d1><b2><d2><b3><d3><b3><o3>`). Bonus: `bonus_check`.
    Without them the model had to see a duplicate in the typed line at once: 2 x 96 failed every
    test-suite session with a duplicate (10-11 of 500), on four seeds (BENCHMARKS.md, session 17)."""
    numbers = rules.typed_numbers(attempt.line)
    if attempt.error == Msg.WINNING_DUPLICATE:
        repeat = next(i for i, n in enumerate(numbers) if n in numbers[:i])
        return check_line(numbers[:repeat]) + bonus_token(numbers[repeat]) + flag_token(HIT, numbers[repeat])
    return bonus_check(winning, numbers[0])


def encode(run: Run, work: bool = True) -> list[Segment]:
    """The run as segments. An incomplete run ends with IN: the model waits for input there.
    `work=False` leaves out the hidden work (draw restated, match lines, long division), for
    the ablation that measures what it buys; the `<tK>` countdown stays (generation reads it)."""
    seg: list[Segment] = []

    def put(text: str, kind: Kind = Kind.PROGRAM):
        seg.append(Segment(text, kind))

    put(Stage.MONEY.prompt + "\n")
    for attempt in run.attempts:
        if attempt.error == Msg.LINE_TOO_LONG:
            continue  # the console shell answers these; the model never sees them
        put(IN)
        put(attempt.line + "\n", Kind.INPUT)
        if attempt.error is not None:
            if work and attempt.error in DUPLICATE_ERRORS:
                put(duplicate_work(attempt, run.winning), Kind.WORK)  # the error follows on the same line
            elif work and attempt.stage is Stage.BONUS:
                put(draw_line(run.winning), Kind.WORK)  # every bonus error restates the draw: see the docstring
            put(f"{attempt.error}\n{attempt.stage.prompt}\n")
            continue
        put("\n")
        if attempt.stage is Stage.MONEY:
            n = run.n_tickets
            put(rules.bought_line(n) + "\n")
            for i, ticket in enumerate(run.tickets):
                put(ticket_index(n - i), Kind.WORK)
                put(rules.format_ticket(ticket) + "\n", Kind.TICKET)
            put("\n" + Stage.WINNING.prompt + "\n")
        elif attempt.stage is Stage.WINNING:
            # restated next to its source: a short, local copy (the blank line comes after it)
            seg.pop()
            if work:
                put(check_line(run.winning) + "\n" + draw_line(run.winning) + "\n", Kind.WORK)
            put("\n" + Stage.BONUS.prompt + "\n")
        else:
            # the blank line after the bonus input comes after the hidden work
            seg.pop()
            if work:
                lines = [bonus_check(run.winning, run.bonus)] + match_lines(run)
                put("".join(line + "\n" for line in lines), Kind.WORK)
            put("\n" + Msg.STATS_HEADER + "\n" + Msg.STATS_RULE + "\n")
            counts = run.counts
            stats = "".join(rank.stats_line(counts[rank.key]) + "\n" for rank in RANKS)
            division = division_line(run.prize, run.n_tickets) + "\n" if work else ""
            rate = rate_line(run.rate_tenths) if work else rules.rate_line(run.rate_tenths)
            put(stats + division + rate + "\n", Kind.TAIL)
    if not run.complete:
        put(IN)
    return seg


def to_text(run: Run) -> str:
    return join(encode(run))


def prompt(run: Run) -> str:
    """Text to continue from: everything up to and including the last typed line."""
    segments = encode(run)
    last_input = max((i for i, s in enumerate(segments) if s.kind is Kind.INPUT), default=-1)
    return join(segments[: last_input + 1])


# ---------------------------------------------------------------- parser

_WORK_TOKEN = re.compile(r"<(?:t\d+|[db]\d+|c\d+b?|#\d+|n\d+|q\d+p\d+|r\d+|[ox+]\d+)>")
_TICKET_LINE = re.compile(r"<t\d+>(\[[^<]*)")  # a ticket line; a match line starts with <d..>
_DUPLICATE_FOUND = re.compile(r"(?:<[db]\d+>)+(?:<o\d+>)?(\[ERROR\].*)")
_PLACE = re.compile(r"<p\d+>")  # inside the rate line (`rate_line`)
_NUMBER_LIST = re.compile(r"\[(\d+(?:, \d+)*)\]")
_BOUGHT = re.compile(r"(\d+)" + re.escape(Msg.BOUGHT_SUFFIX))
RATE_LINE = re.compile(re.escape(Msg.RATE_PREFIX) + r"([0-9,]+\.\d%)" + re.escape(Msg.RATE_SUFFIX))  # places taken out
_STATS = {rank.key: re.compile(re.escape(f"{rank.label} - ") + r"(\d+)" + Msg.COUNT_SUFFIX) for rank in RANKS}


def stdout_lines(text: str) -> tuple[list[str], list[str]]:
    """(console lines, typed lines): typed lines and hidden work dropped, index tokens stripped."""
    out, typed = [], []
    for line in text.split("\n"):
        if line.startswith(IN):
            typed.append(line[len(IN):])
            continue
        ticket = _TICKET_LINE.fullmatch(line)
        if ticket:
            out.append(ticket.group(1))
        elif _WORK_TOKEN.match(line):
            found = _DUPLICATE_FOUND.fullmatch(line)  # a duplicate's error on its draw line (`duplicate_work`)
            if found:
                out.append(found.group(1))
        else:
            out.append(without_places(line))
    return out, typed


def without_places(text: str) -> str:
    """The text with the rate line's place tokens (`rate_line`) taken out: what the console prints."""
    return _PLACE.sub("", text)


def to_stdout(text: str) -> str:
    """The console text the user sees for a (possibly model-written) transcript."""
    lines, _ = stdout_lines(text)
    if lines and lines[-1] == "":
        lines = lines[:-1]
    return "\n".join(lines) + "\n" if lines else ""


def parse_ticket(line: str) -> tuple[int, ...] | None:
    match = _NUMBER_LIST.fullmatch(line)
    return tuple(int(x) for x in match.group(1).split(", ")) if match else None


def parse(text: str) -> Parsed:
    """Read the visible results back from transcript text. Never raises."""
    parsed = Parsed()
    try:
        _parse_into(text, parsed)
    except Exception as exc:  # the judge must survive any text; record instead of raising
        parsed.problems.append(f"test_fail: {type(exc).__name__}: {exc}")
    return parsed


def _parse_into(text: str, parsed: Parsed) -> None:
    lines, _ = stdout_lines(text)
    parsed.stdout = to_stdout(text)
    parsed.errors = [line for line in lines if line.startswith("[ERROR]")]
    bought = [i for i, line in enumerate(lines) if _BOUGHT.fullmatch(line)]
    if not bought:
        parsed.problems.append("ticket_count_parse_error")
        return
    start = bought[-1]
    parsed.ticket_count = int(_BOUGHT.fullmatch(lines[start]).group(1))
    block = []
    for line in lines[start + 1:]:
        if line == "" or not line.startswith("["):
            break
        block.append(line)
    parsed.ticket_lines = block
    parsed.tickets = [parse_ticket(line) for line in block]
    if not block or any(t is None for t in parsed.tickets):
        parsed.problems.append("ticket_lines_format_error")
    counts = {}
    for key, pattern in _STATS.items():
        found = [pattern.fullmatch(line) for line in lines]
        found = [m for m in found if m]
        if len(found) == 1:
            counts[key] = int(found[0].group(1))
    rates = [m for m in (RATE_LINE.fullmatch(line) for line in lines) if m]
    if len(counts) == len(_STATS):
        parsed.counts = counts
    if len(rates) == 1:
        parsed.rate = rates[0].group(1)
        parsed.ended = text.rstrip("\n").endswith(Msg.RATE_SUFFIX)
    if parsed.counts is None or parsed.rate is None:
        parsed.problems.append("result_labels_parse_error")
