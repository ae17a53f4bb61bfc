"""Text protocols between the program and the model.

A format turns a structured `rules.Run` into text the model reads and writes, marking each
span with a `Kind` (typed by the user, printed by the program, a random ticket number,
a hidden work line, or the statistics tail), and parses model text back, never raising.

- `transcript` (default): the console session exactly as printed, plus hidden work lines.
- `seed`: the blog's IN/OUT block format, kept as the baseline to beat.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Kind(str, Enum):
    """What a span of text is, which decides its loss weight in training."""

    INPUT = "input"  # typed by the user: never learned
    PROGRAM = "program"  # prompts, messages, fixed text
    TICKET = "ticket"  # the random ticket lines (entropy floor: not learnable exactly)
    WORK = "work"  # hidden work lines (matching per ticket)
    TAIL = "tail"  # statistics, division and rate


@dataclass(frozen=True)
class Segment:
    text: str
    kind: Kind


def join(segments) -> str:
    return "".join(s.text for s in segments)


@dataclass
class Parsed:
    """What could be read back from a model's text. `problems` names each failed check.

    Fields are None when they could not be read. `problems` uses the blog's format
    categories (see metrics/lotto_judge) so both formats are judged the same way.
    """

    ticket_count: int | None = None
    tickets: list[tuple[int, ...] | None] = field(default_factory=list)  # None: unparsable line
    ticket_lines: list[str] = field(default_factory=list)
    counts: dict[str, int] | None = None
    rate: str | None = None  # e.g. "62.5%" as printed
    errors: list[str] = field(default_factory=list)  # [ERROR] lines printed, in order
    stdout: str | None = None  # the console text (transcript format only)
    ended: bool = False  # the text reached its proper end
    problems: list[str] = field(default_factory=list)


def get_format(name: str):
    from . import seed, transcript

    formats = {"transcript": transcript, "seed": seed}
    if name not in formats:
        raise ValueError(f"unknown format {name!r}; choose one of {sorted(formats)}")
    return formats[name]


FORMAT_NAMES = ("transcript", "seed")
