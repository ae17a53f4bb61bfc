"""The blog's format (shared/seeds/), reproduced faithfully as the baseline to beat.

The draw is typed *before* the tickets and there are no bad inputs:

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
    ...
    3개일치 (5000원) = 1
    ...
    수익률=62.5%
    </OUT>
"""
from __future__ import annotations

import re

from .. import rules
from ..rules import RANKS, Run
from . import Kind, Parsed, Segment, join

NAME = "seed"
SEPARATOR = "###"


def label(rank: rules.Rank) -> str:
    name = "5개보너스일치" if rank.bonus else f"{rank.matches}개일치"
    return f"{name} ({rank.prize}원)"


def format_rate(tenths: int) -> str:
    return f"{tenths // 10}.{tenths % 10}%"  # the blog printed no thousands separators


def input_block(money: int, winning, bonus: int) -> str:
    return (
        f"<IN>\n구입금액={money}\n당첨번호={','.join(map(str, winning))}\n"
        f"보너스번호={bonus}\n</IN>\n{SEPARATOR}\n"
    )


def encode(run: Run, work: bool = True) -> list[Segment]:
    """A complete run without bad inputs (the blog had none). The blog's format has no hidden
    work lines, so `work` changes nothing (it is the formats' common signature)."""
    if not run.complete or run.errors:
        raise ValueError("the seed format holds only complete runs without bad inputs")
    seg = [Segment(input_block(run.money, run.winning, run.bonus), Kind.INPUT)]
    seg.append(Segment(f"<OUT>\n티켓수={run.n_tickets}\n구매번호:\n", Kind.PROGRAM))
    seg.append(Segment("".join(f"[{','.join(map(str, t))}]\n" for t in run.tickets), Kind.TICKET))
    counts = run.counts
    tail = "".join(f"{label(rank)} = {counts[rank.key]}\n" for rank in RANKS)
    tail += f"수익률={format_rate(run.rate_tenths)}\n"
    seg.append(Segment(tail, Kind.TAIL))
    seg.append(Segment("</OUT>", Kind.PROGRAM))
    return seg


def to_text(run: Run) -> str:
    return join(encode(run))


def prompt(run: Run) -> str:
    return input_block(run.money, run.winning, run.bonus)


def work_vocabulary() -> list[str]:
    return []


def program_vocabulary() -> list[str]:
    return []


_COUNT = re.compile(r"티켓수=(\d+)")
_TICKET = re.compile(r"\[(\d+(?:,\d+)*)\]")
_LABELS = {rank.key: re.compile(re.escape(label(rank)) + r" = (\d+)") for rank in RANKS}
_RATE = re.compile(r"수익률=(\d+\.\d%)")


def parse(text: str) -> Parsed:
    """Read an OUT block back (the blog's checks). Never raises."""
    parsed = Parsed()
    try:
        _parse_into(text, parsed)
    except Exception as exc:
        parsed.problems.append(f"test_fail: {type(exc).__name__}: {exc}")
    return parsed


def _parse_into(text: str, parsed: Parsed) -> None:
    if SEPARATOR in text:
        text = text.split(SEPARATOR, 1)[1]
    lines = [line.strip() for line in text.split("\n")]
    counts = [m for m in map(_COUNT.fullmatch, lines) if m]
    if len(counts) != 1:
        parsed.problems.append("ticket_count_parse_error")
    else:
        parsed.ticket_count = int(counts[0].group(1))
    if "구매번호:" not in lines:
        parsed.problems.append("ticket_lines_format_error")
        return
    block = []
    for line in lines[lines.index("구매번호:") + 1:]:
        if not line.startswith("["):
            break
        block.append(line)
    parsed.ticket_lines = block
    parsed.tickets = [
        tuple(int(x) for x in m.group(1).split(",")) if (m := _TICKET.fullmatch(line)) else None
        for line in block
    ]
    if not block or any(t is None for t in parsed.tickets):
        parsed.problems.append("ticket_lines_format_error")
    found = {}
    for key, pattern in _LABELS.items():
        matches = [m for m in map(pattern.fullmatch, lines) if m]
        if len(matches) == 1:
            found[key] = int(matches[0].group(1))
    rates = [m for m in map(_RATE.fullmatch, lines) if m]
    if len(found) == len(_LABELS):
        parsed.counts = found
    if len(rates) == 1:
        parsed.rate = rates[0].group(1)
    parsed.ended = text.rstrip().endswith("</OUT>")
    if parsed.counts is None or parsed.rate is None:
        parsed.problems.append("result_labels_parse_error")
