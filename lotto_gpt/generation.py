"""The console machine: a causal LM playing the lotto program, batched, with `generate()`.

    machine = LottoMachine.from_pretrained("out/model")
    plays = machine.play_many([Session(["8000", "1,2,3,4,5,6", "7"], seed=1)], batch_size=64)
    print(plays[0].stdout)           # exactly what the program prints
    plays[0].tickets, plays[0].counts, plays[0].return_rate, plays[0].complete

    # interactive (a console or an HTTP server): one play, one typed line at a time
    play = machine.start(seed=1)     # prints the first prompt, then waits
    new_output = machine.send(play, "8000")

Transcript protocol: the model's text starts after BOS; it writes program text until it
emits `<in>` (waiting for input) or EOS. The machine then appends the next typed line and
"\\n" and lets it continue; when the typed lines run out at an `<in>`, the play ends there.
Each turn is one batched `generate()` over the plays still running (left padding, KV cache
within the turn; the prompt of a turn is the play's token ids so far, never re-tokenized).

Decoding is greedy, except inside a ticket line of the ticket block (the lines after the
"N개를 구매했습니다." line: `<tK>` up to `]`; seed format: the lines after "구매번호:", from
`[`), where the next token is sampled at temperature 1 from the model's distribution (`ticket_temperature`
changes it, for measurements: benchmarks/ticket_temperature.py). Ticket
lines may be constrained to the *syntax* of a ticket (six distinct ascending numbers in
1..45, then `]`): nothing else is imposed, so every count, rank and rate comes from the
model (the work lines that copy a ticket later are greedy like everything else). The
sampling is done inside the logits processor with one `torch.Generator` per play, seeded by
the play's seed: a play's tickets do not depend on the batch size or on which plays share
its batch. The processor returns a
one-hot row for every play, so `generate()` runs in greedy mode and any decoding mode would
give the same tokens.

Turn length: each turn may write at most `max_new_tokens` (the model's generation_config, else
3,400: enough for 100 tickets). With `budget="auto"` (the default) a turn is also cut at twice
what the program itself would print in that turn plus 64 tokens, a runaway guard so that one
looping play does not hold its whole batch for thousands of steps; it never changes a token.
The model's own generation_config never reaches `generate()` (a saved `min_new_tokens` would
suppress EOS and `<in>`): each call gets a clean greedy config.

Lines over 64 characters are answered by the console shell (the machine), never shown to
the model: `[ERROR] 입력은 64자를 넘을 수 없습니다.` and the prompt again, in `stdout` only.

Given tickets (like the mocked random numbers of the Java tests): the ticket block is
teacher-forced, token by token, right after the model's `N개를 구매했습니다.` line
(seed format: after `구매번호:`).

Seed format (the blog's baseline): the prompt is `seed.prompt(run)` (the IN block and
`###`), and the model writes the OUT block in one call, until EOS.
"""
from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass, field

import torch
from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    GenerationConfig,
    LogitsProcessor,
    LogitsProcessorList,
    StoppingCriteria,
    StoppingCriteriaList,
)

from . import rules
from .formats import get_format
from .formats import seed as seed_fmt
from .formats import transcript
from .integrity import check_model_dir
from .judge import console_stdout
from .tokenizer import first_number_tokens, next_number_tokens

DEFAULT_TURN_TOKENS = 3400  # 100 tickets: the ticket turn is ~1,500 tokens, the last turn ~1,800
STOP_INPUT, STOP_EOS, STOP_LENGTH = "input", "eos", "length"


# ---------------------------------------------------------------- sessions and plays

@dataclass
class Session:
    """What a user does: the lines typed, in order; optionally the tickets to issue and a seed."""

    lines: list[str]
    tickets: list | None = None
    seed: int | None = None


@dataclass(eq=False)
class Play:
    """One session being played (and its result). Text fields are read from the token ids."""

    lines: list[str]
    seed: int
    fmt: str
    ids: list[int]
    tickets_given: list | None = None
    n_fed: int = 0  # typed lines used so far, long ones included
    stop: str | None = None  # None (running), "input" (waiting for input), "eos", "length"
    turns: int = 0
    n_generated: int = 0
    force_ids: list[int] | None = None
    force_state: str = "none"  # none | pending | active | done | failed
    force_pos: int = 0
    generator: torch.Generator | None = field(default=None, repr=False)
    _decode: object = field(default=None, repr=False)
    _cache: tuple = field(default=(None, None, None), repr=False)

    # -- text views
    @property
    def text(self) -> str:
        """The model's text (typed lines included, as the model saw them; no BOS/EOS)."""
        key, text, _ = self._cache
        if key != len(self.ids):
            text = self._decode(self.ids)
            self._cache = (len(self.ids), text, None)
        return text

    @property
    def parsed(self):
        text = self.text
        key, _, parsed = self._cache
        if parsed is None:
            parsed = get_format(self.fmt).parse(text)
            self._cache = (key, text, parsed)
        return parsed

    @property
    def stdout(self) -> str:
        """Exactly what the program prints (seed format: the OUT block)."""
        if self.fmt == "seed":
            text = self.text
            sep = seed_fmt.SEPARATOR + "\n"
            return text.split(sep, 1)[1] if sep in text else text
        return console_stdout(self.text, self.lines[: self.n_fed])

    # -- results
    @property
    def tickets(self) -> list:
        return list(self.parsed.tickets)

    @property
    def counts(self) -> dict | None:
        return self.parsed.counts

    @property
    def prize_total(self) -> int | None:
        counts = self.counts
        return None if counts is None else rules.prize_total(counts)

    @property
    def return_rate(self) -> str | None:
        return self.parsed.rate

    @property
    def errors(self) -> list[str]:
        """The [ERROR] lines printed, the console shell's included, in order."""
        if self.fmt == "seed":
            return []
        return [line for line in self.stdout.split("\n") if line.startswith("[ERROR]")]

    @property
    def complete(self) -> bool:
        """The model ended the program properly (results printed, then EOS)."""
        return self.stop == STOP_EOS and self.parsed.ended

    @property
    def waiting(self) -> bool:
        return self.stop == STOP_INPUT

    @property
    def lines_left(self) -> list[str]:
        return self.lines[self.n_fed:]


def ticket_block(fmt: str, tickets) -> str:
    """The ticket lines as the format prints them (what given tickets force)."""
    if fmt == "seed":
        return "".join(f"[{','.join(map(str, t))}]\n" for t in tickets)
    n = len(tickets)
    return "".join(transcript.ticket_index(n - i) + rules.format_ticket(t) + "\n" for i, t in enumerate(tickets))


def _normalize(session) -> Session:
    if isinstance(session, Session):
        return session
    if isinstance(session, dict):
        return Session(list(session.get("lines", [])), session.get("tickets"), session.get("seed"))
    return Session(list(session))


# ---------------------------------------------------------------- vocabulary facts

def _byte_level_table() -> dict[str, int]:
    """GPT-2's byte-to-printable-character table, inverted (character -> byte)."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    chars, extra = {}, 0
    for b in range(256):
        if b in keep:
            chars[chr(b)] = b
        else:
            chars[chr(256 + extra)] = b
            extra += 1
    return chars


def _token_bytes(tokenizer) -> list[bytes]:
    """The UTF-8 bytes each token stands for (byte-fallback `<0xNN>` and byte-level BPE included),
    so a line split over byte tokens is read exactly. Special tokens stand for nothing."""
    special = set(tokenizer.all_special_ids)
    pieces = tokenizer.convert_ids_to_tokens(list(range(len(tokenizer))))
    decoder = getattr(getattr(tokenizer, "backend_tokenizer", None), "decoder", None)
    byte_level = "ByteLevel" in repr(decoder)
    table = _byte_level_table() if byte_level else {}
    texts = tokenizer.batch_decode([[i] for i in range(len(tokenizer))], skip_special_tokens=False,
                                   clean_up_tokenization_spaces=False)
    out = []
    for i, (piece, text) in enumerate(zip(pieces, texts)):
        if i in special or piece is None:
            out.append(b"")
        elif re.fullmatch(r"<0x[0-9A-Fa-f]{2}>", piece):
            out.append(bytes([int(piece[3:5], 16)]))
        elif byte_level and all(c in table for c in piece):
            out.append(bytes(table[c] for c in piece))
        else:
            out.append(text.encode("utf-8"))
    return out


class _Vocab:
    """What the processor needs to know about the tokenizer, computed once."""

    def __init__(self, tokenizer, fmt: str):
        self.fmt = fmt
        self.bytes = _token_bytes(tokenizer)
        vocab = tokenizer.get_vocab()
        self.eos = tokenizer.eos_token_id
        self.in_id = vocab.get(transcript.IN) if fmt == "transcript" else None
        self.stop_ids = {self.eos} | ({self.in_id} if self.in_id is not None else set())
        if fmt == "transcript":
            # the text of a ticket line so far, after its index: "", "[8", "[8, 21", ...
            self.ticket_line = re.compile(r"<t\d+>((?:\[\d+)?(?:, \d+)*)$")
            self.block_start = re.compile(r"\d+" + re.escape(rules.Msg.BOUGHT_SUFFIX))
            self.ticket_full = re.compile(r"<t\d+>\[[\d, ]*\]")
        else:
            self.ticket_line = re.compile(r"(|\[[^\]]*)$")  # from the line start: BPE may fuse "[" and digits
            self.block_start = re.compile(re.escape("구매번호:"))
            self.ticket_full = re.compile(r"\[[\d,]*\]")
        # the lotto tokenizer's ticket-line tokens: `[N` first, `, N` for the others, then `]`
        self.first_ids = [vocab.get(n) for n in first_number_tokens()]
        self.next_ids = [vocab.get(n) for n in next_number_tokens()]
        self.close_id = vocab.get("]")
        self.constrained = fmt == "transcript" and self._probe(tokenizer)

    def _probe(self, tokenizer) -> bool:
        """Syntax constraints need one token per ticket-line number and `]` (the lotto tokenizer)."""
        if None in self.first_ids or None in self.next_ids or self.close_id is None:
            return False
        numbers = (1, 9, 10, 23, 44, 45)
        ids = tokenizer(rules.format_ticket(numbers), add_special_tokens=False)["input_ids"]
        want = [self.first_ids[0]] + [self.next_ids[n - 1] for n in numbers[1:]] + [self.close_id]
        return ids == want


# ---------------------------------------------------------------- generate() hooks

class StopAtTokens(StoppingCriteria):
    """Stops each row at its first `<in>` (waiting for input) or EOS, or at its own token limit."""

    def __init__(self, stop_ids, prompt_width: int | None = None, limits=None):
        self.stop_ids = torch.tensor(sorted(stop_ids))
        self.eos_token_id = self.stop_ids  # tells generate() to pad the rows that stopped
        self.prompt_width = prompt_width
        self.limits = None if limits is None else torch.tensor(limits)

    def __call__(self, input_ids, scores, **kwargs):
        done = torch.isin(input_ids[:, -1], self.stop_ids.to(input_ids.device))
        if self.limits is not None:
            done |= (input_ids.shape[1] - self.prompt_width) >= self.limits.to(input_ids.device)
        return done


class TicketLineProcessor(LogitsProcessor):
    """Greedy everywhere; inside a ticket line, sampling at `temperature` (per-play generator; 1: the
    model's own distribution, else its logits divided by it).

    With `constrained`, a ticket line follows the ticket syntax only: each number is above the
    previous one and leaves room for the rest (n <= 45 - numbers still to come), `]` after the
    sixth. Forced ticket blocks are written token by token.
    Returns a one-hot row (0 at the chosen token, -inf elsewhere) for every row.
    """

    def __init__(self, vocab: _Vocab, plays: list[Play], constrained: bool = True, temperature: float = 1.0):
        self.v = vocab
        self.temperature = temperature
        self.plays = plays
        self.constrained = constrained and vocab.constrained
        self.seen = None
        self.line, self.prev, self.done, self.in_block = [], [], [], []
        for play in plays:
            before, line = self._split_tail(play.ids)
            self.prev.append(before)
            self.line.append(line)
            self.done.append(False)
            self.in_block.append(self._block_goes_on(True, before.decode("utf-8", "replace")))  # a ticket line before: in the block
            if line == b"":
                self._line_ended(len(self.line) - 1, before)

    def _split_tail(self, ids) -> tuple[bytes, bytes]:
        """(previous line, current line) from the end of the token ids."""
        parts, k = [], len(ids) - 1
        newlines = 0
        while k >= 0 and newlines < 2:
            b = self.v.bytes[ids[k]]
            parts.append(b)
            newlines += b.count(b"\n")
            k -= 1
        tail = b"".join(reversed(parts)).split(b"\n")
        return (tail[-2] if len(tail) > 1 else b""), tail[-1]

    def _block_goes_on(self, in_block: bool, text: str) -> bool:
        """After the finished line `text`: still in (or starting) the ticket block? Any other line ends it."""
        return bool(self.v.block_start.fullmatch(text) or (in_block and self.v.ticket_full.fullmatch(text)))

    def _line_ended(self, r: int, line: bytes) -> None:
        play = self.plays[r]
        text = line.decode("utf-8", "replace")
        self.in_block[r] = self._block_goes_on(self.in_block[r], text)
        if play.force_state == "pending" and self.v.block_start.fullmatch(text):  # given tickets go here
            play.force_state, play.force_pos = "active", 0

    def _ingest(self, r: int, tok: int) -> None:
        play = self.plays[r]
        if tok in self.v.stop_ids:
            self.done[r] = True
            return
        if play.force_state == "active":
            if tok == play.force_ids[play.force_pos]:
                play.force_pos += 1
                if play.force_pos == len(play.force_ids):
                    play.force_state = "done"
            else:
                play.force_state = "failed"
        b = self.v.bytes[tok]
        if b"\n" not in b:
            self.line[r] += b
            return
        parts = (self.line[r] + b).split(b"\n")
        for finished in parts[:-1]:
            self.prev[r] = finished
            self._line_ended(r, finished)
        self.line[r] = parts[-1]

    def _sample(self, rows: list[int], allowed: list, scores: torch.Tensor) -> list[int]:
        """One token per row, at the temperature from the row's scores restricted to `allowed`
        (None: all tokens), by inverse CDF with one uniform draw from the row's own generator."""
        sub = scores[torch.tensor(rows, device=scores.device)].float() / self.temperature
        mask = torch.zeros_like(sub, dtype=torch.bool)
        r_idx, c_idx = [], []
        for i, ids in enumerate(allowed):
            if ids is None:
                mask[i] = True
            else:
                r_idx += [i] * len(ids)
                c_idx += ids
        if r_idx:
            mask[torch.tensor(r_idx, device=sub.device), torch.tensor(c_idx, device=sub.device)] = True
        sub = sub.masked_fill(~mask, float("-inf"))
        dead = ~torch.isfinite(sub).any(dim=-1)  # the model gave every allowed token -inf
        if dead.any():
            sub[dead] = torch.where(mask[dead], 0.0, float("-inf"))
        cdf = torch.softmax(sub, dim=-1).double().cumsum(dim=-1)
        u = torch.tensor([float(torch.rand((), generator=self.plays[r].generator)) for r in rows],
                         dtype=torch.float64, device=cdf.device)
        picked = torch.searchsorted(cdf, (u * cdf[:, -1])[:, None], right=True).squeeze(1)
        return picked.clamp(max=sub.shape[1] - 1).tolist()

    def _allowed(self, body: str) -> list[int]:
        """The tokens that keep a ticket line valid, given its text so far ("", "[8", "[8, 21")."""
        numbers = [int(x) for x in body.lstrip("[").split(", ")] if body else []
        k = len(numbers)
        if k >= rules.NUMBERS_PER_TICKET:
            return [self.v.close_id]
        low = numbers[-1] + 1 if numbers else 1
        high = 45 - (rules.NUMBERS_PER_TICKET - 1 - k)
        if low > high:
            return [self.v.close_id]
        ids = self.v.next_ids if numbers else self.v.first_ids
        return [ids[n - 1] for n in range(low, high + 1)]

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        length = input_ids.shape[1]
        if self.seen is None:
            self.seen = length
        elif length > self.seen:
            new = input_ids[:, self.seen:length].tolist()
            for r, toks in enumerate(new):
                for tok in toks:
                    if not self.done[r]:
                        self._ingest(r, tok)
            self.seen = length
        chosen = scores.argmax(dim=-1).tolist()
        rows, allowed = [], []
        for r, play in enumerate(self.plays):
            if self.done[r]:
                continue
            if play.force_state == "active":
                chosen[r] = play.force_ids[play.force_pos]
                continue
            line = self.line[r]
            m = self.v.ticket_line.match(line.decode("utf-8", "replace")) if self.in_block[r] else None
            if m is None:
                continue
            ids = self._allowed(m.group(1)) if self.constrained else None
            if ids is not None and len(ids) == 1:
                chosen[r] = ids[0]
            else:
                rows.append(r)
                allowed.append(ids)
        if rows:
            for r, tok in zip(rows, self._sample(rows, allowed, scores)):
                chosen[r] = tok
        out = torch.full_like(scores, float("-inf"))
        out.scatter_(1, torch.tensor(chosen, device=scores.device)[:, None], 0.0)
        return out


# ---------------------------------------------------------------- loading

PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle")


def check_model_source(path) -> None:
    """Refuse what `from_pretrained` must not load, with a clear message (OSError subclasses).

    A local folder needs `config.json` and safetensors weights; pickle-only weights are
    refused; a truncated or garbled file (config, tokenizer, weights) raises `ModelFileError`
    naming it, before anything is loaded. A path that is not a folder must look like a Hub id
    (`owner/name`).
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        names = os.listdir(path)
        safe = [n for n in names if n.endswith(".safetensors") or n.endswith(".safetensors.index.json")]
        pickles = sorted(n for n in names if n.endswith(PICKLE_SUFFIXES) and n != "training_args.bin")
        if not safe and pickles:
            raise OSError(
                f"{path} holds only pickle weights ({', '.join(pickles)}); lotto-gpt loads safetensors only, "
                "because unpickling can run arbitrary code. Convert a model you trust with "
                "`AutoModelForCausalLM.from_pretrained(folder).save_pretrained(folder)` (writes model.safetensors)."
            )
        if "config.json" not in names:
            raise OSError(f"{path} is not a model folder: no config.json")
        if not safe:
            raise OSError(f"{path} has no model.safetensors")
        check_model_dir(path)  # ModelFileError naming a truncated or garbled file
        return
    if os.path.exists(path):
        raise OSError(f"{path} is not a model folder")
    try:
        from huggingface_hub.utils import validate_repo_id

        validate_repo_id(path)
        local_looking = path.startswith((".", "~")) or os.path.isabs(path) or path.count("/") != 1
    except Exception:
        local_looking = True
    if local_looking:
        raise FileNotFoundError(f"no model folder at {path} (and it is not a Hub id like owner/name)")


# ---------------------------------------------------------------- the machine

class LottoMachine:
    """A causal LM driven as the lotto console program."""

    def __init__(self, model, tokenizer, fmt: str | None = None, max_new_tokens: int | None = None,
                 constrained_tickets: bool = True, budget: str = "auto", ticket_temperature: float = 1.0):
        self.model = model
        self.tokenizer = tokenizer
        self.fmt = fmt or getattr(model.config, "lotto_format", None) or transcript.NAME
        get_format(self.fmt)  # validates the name
        self.vocab = _Vocab(tokenizer, self.fmt)
        if self.fmt == "transcript" and self.vocab.in_id is None:
            raise ValueError(f"the tokenizer has no {transcript.IN!r} token: not a transcript-format model")
        gen_max = getattr(getattr(model, "generation_config", None), "max_new_tokens", None)
        self.turn_tokens = max_new_tokens or gen_max or DEFAULT_TURN_TOKENS
        self.max_length = self._max_length()
        self.constrained_tickets = constrained_tickets
        # the ticket lines' sampling temperature: 1 samples the model's own distribution (a temperature fitted
        # by likelihood made the tickets less uniform: benchmarks/ticket_temperature.py)
        number = isinstance(ticket_temperature, (int, float)) and not isinstance(ticket_temperature, bool)
        if not (number and 0 < ticket_temperature < float("inf")):
            raise ValueError(f"ticket_temperature must be a positive number (got {ticket_temperature!r})")
        self.ticket_temperature = float(ticket_temperature)
        if budget not in ("auto", "fixed"):
            raise ValueError("budget is 'auto' or 'fixed'")
        self.budget = budget
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        self._lock = threading.Lock()

    @classmethod
    def from_pretrained(cls, path: str, fmt: str | None = None, max_new_tokens: int | None = None,
                        device: str | None = None, budget: str = "auto", ticket_temperature: float = 1.0,
                        **model_kwargs) -> "LottoMachine":
        """Model and tokenizer from a local folder or a Hub id (safetensors only, no remote code).

        A folder holding only pickle weights (`pytorch_model.bin`, ...) is refused: loading a
        pickle can run code. A path that is not a folder is read as a Hub id (the HF cache
        serves it offline); a path that cannot be a Hub id raises FileNotFoundError.
        """
        check_model_source(path)
        tokenizer = AutoTokenizer.from_pretrained(path, trust_remote_code=False)
        model = AutoModelForCausalLM.from_pretrained(path, use_safetensors=True, trust_remote_code=False,
                                                     **model_kwargs)
        if device:
            model.to(device)
        model.eval()
        return cls(model, tokenizer, fmt=fmt, max_new_tokens=max_new_tokens, budget=budget,
                   ticket_temperature=ticket_temperature)

    def _max_length(self) -> int:
        cfg = self.model.config
        limits = [getattr(cfg, name, None) for name in ("max_position_embeddings", "n_positions")]
        tok_max = getattr(self.tokenizer, "model_max_length", None)
        if tok_max and tok_max < 1_000_000:
            limits.append(tok_max)
        limits = [x for x in limits if x]
        return min(limits) if limits else 4096

    # -- building plays
    def _encode(self, text: str, special: bool) -> list[int]:
        return self.tokenizer(text, add_special_tokens=special)["input_ids"]

    def _decode_fn(self):
        tok, bos = self.tokenizer, self.tokenizer.bos_token_id

        def decode(ids):
            start = 1 if ids and ids[0] == bos else 0
            return tok.decode(ids[start:], skip_special_tokens=False, clean_up_tokenization_spaces=False)

        return decode

    def new_play(self, session, index: int = 0) -> Play:
        s = _normalize(session)
        lines = list(s.lines)
        for line in lines:
            if "\n" in line or "\r" in line:
                raise ValueError(f"a typed line cannot hold a line break: {line!r}")
        seed = s.seed if s.seed is not None else index
        tickets = [tuple(t) for t in s.tickets] if s.tickets is not None else None
        if self.fmt == "seed":
            run = rules.play(lines, tickets=tickets, seed=seed)
            if not run.complete or run.errors:
                raise ValueError("the seed format plays complete sessions without bad inputs")
            ids = self._encode(seed_fmt.prompt(run), special=True)
            lines = [a.line for a in run.attempts]
            n_fed = len(lines)
        else:
            rules.play(lines, tickets=tickets, seed=seed)  # ValueError: wrong count or invalid ticket
            ids = self._encode("", special=True)
            n_fed = 0
        if not ids:
            ids = [self.tokenizer.bos_token_id if self.tokenizer.bos_token_id is not None else self.pad_id]
        play = Play(lines=lines, seed=seed, fmt=self.fmt, ids=ids, tickets_given=tickets, n_fed=n_fed,
                    generator=torch.Generator().manual_seed(seed), _decode=self._decode_fn())
        if tickets is not None:
            play.force_ids = self._encode(ticket_block(self.fmt, tickets), special=False)
            play.force_state = "pending"
        return play

    # -- playing
    def play(self, lines, tickets=None, seed: int | None = None) -> Play:
        return self.play_many([Session(list(lines), tickets, seed)], batch_size=1)[0]

    def play_many(self, sessions, batch_size: int = 32, progress=False) -> list[Play]:
        """Play every session to its end; returns one `Play` per session, in order.

        A session is a `Session`, a dict with `lines` (and `tickets`, `seed`), or a list of
        lines. A session without a seed gets its index in `sessions` as seed.
        """
        plays = [self.new_play(s, i) for i, s in enumerate(sessions)]
        self._drive(plays, batch_size, progress)
        return plays

    def resume_many(self, plays: list[Play], more_lines, batch_size: int = 32, progress=False) -> list[Play]:
        """Type more lines into plays (e.g. a draw chosen after seeing the tickets) and go on.

        Plays that ended (EOS, length) keep their result; plays waiting for input continue.
        """
        more_lines = list(more_lines)
        if len(more_lines) != len(plays):
            raise ValueError(f"{len(more_lines)} line lists for {len(plays)} plays")
        for play, lines in zip(plays, more_lines):
            if play.fmt == "seed" and lines:
                raise ValueError("a seed-format play takes all its lines at the start")
            for line in lines:
                if "\n" in line or "\r" in line:
                    raise ValueError(f"a typed line cannot hold a line break: {line!r}")
            play.lines.extend(lines)
            if play.tickets_given is not None:
                rules.play(play.lines, tickets=play.tickets_given, seed=play.seed)
        self._drive(plays, batch_size, progress)
        return plays

    def start(self, seed: int | None = None, tickets=None) -> Play:
        """An interactive play: runs until the program first waits for input."""
        play = self.new_play(Session([], tickets, seed))
        self._drive([play], 1, False)
        return play

    def send(self, play: Play, line: str) -> str:
        """Type one line into an interactive play; returns the new console output."""
        before = play.stdout
        self.resume_many([play], [[line]], batch_size=1)
        after = play.stdout
        return after[len(before):] if after.startswith(before) else after

    # -- the loop
    def _feed(self, play: Play) -> bool:
        """At an `<in>`: answer long lines, append the next line. False when no line is left."""
        while play.n_fed < len(play.lines):
            line = play.lines[play.n_fed]
            play.n_fed += 1
            if rules.check_length(line) is not None:
                continue  # the shell's error, shown in stdout only
            play.ids = play.ids + self._encode(line + "\n", special=False)
            return True
        return False

    def _runnable(self, play: Play) -> bool:
        if play.stop is None:
            return True
        if play.stop == STOP_INPUT and play.n_fed < len(play.lines):
            if self._feed(play):
                play.stop = None
                return True
        return False

    @staticmethod
    def _hint(play: Play) -> tuple:
        """Sort key for batching: plays likely to write as many tickets go together."""
        n = 0
        if play.n_fed:
            money, _ = rules.parse_money(play.lines[play.n_fed - 1])
            n = (money or 0) // rules.TICKET_PRICE
        return (n, len(play.ids))

    def _drive(self, plays: list[Play], batch_size: int, progress) -> None:
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = progress if not isinstance(progress, bool) else tqdm(total=len(plays), desc="sessions", unit="s")
        finished: set[int] = set()
        while True:
            active = []
            for p in plays:
                if id(p) in finished:
                    continue
                if self._runnable(p):
                    active.append(p)
                else:
                    finished.add(id(p))
                    if bar is not None:
                        bar.update(1)
            if not active:
                break
            active.sort(key=self._hint)
            for start in range(0, len(active), batch_size):
                self._turn(active[start:start + batch_size])
        if bar is not None and isinstance(progress, bool):
            bar.close()

    def _generation_config(self, max_new_tokens: int) -> GenerationConfig:
        """Greedy, nothing else: the ticket-line processor does all the choosing."""
        return GenerationConfig(
            max_new_tokens=max_new_tokens, do_sample=False, num_beams=1, use_cache=True,
            eos_token_id=self.tokenizer.eos_token_id, pad_token_id=self.pad_id,
            bos_token_id=self.tokenizer.bos_token_id, min_length=0, repetition_penalty=1.0,
            no_repeat_ngram_size=0,
        )

    def _turn_budget(self, play: Play) -> int:
        """Tokens this turn may write: `max_new_tokens`, or with budget="auto" a runaway guard.

        "auto" allows twice what the program itself prints (hidden work included) in this turn,
        plus 64 tokens, never more than `max_new_tokens`: a model that writes more is wrong
        anyway, and one looping row no longer holds its whole batch for thousands of steps.
        The guard only ends a turn; it never changes a token.
        """
        if self.budget == "fixed":
            return self.turn_tokens
        try:
            fed = play.lines[: play.n_fed]
            if self.fmt == "seed":
                run = rules.play(fed, seed=0)
                expected = len(self._encode(seed_fmt.to_text(run), True)) - len(self._encode(seed_fmt.prompt(run), True))
            else:
                run = rules.play(fed, seed=0)
                full = len(self._encode(transcript.to_text(run), True))
                expected = full - len(self._encode(transcript.prompt(run), True))
        except Exception:
            return self.turn_tokens
        return min(self.turn_tokens, 2 * max(expected, 0) + 64)

    @torch.no_grad()
    def _turn(self, plays: list[Play]) -> None:
        """One batched generate() call: every play writes until `<in>`, EOS or its token limit."""
        limits = []
        for p in plays:
            room = self.max_length - len(p.ids)
            limits.append(min(self._turn_budget(p), room))
        runnable = [(p, lim) for p, lim in zip(plays, limits) if lim > 0]
        for p, lim in zip(plays, limits):
            if lim <= 0:
                p.stop = STOP_LENGTH
        if not runnable:
            return
        plays = [p for p, _ in runnable]
        limits = [lim for _, lim in runnable]
        width = max(len(p.ids) for p in plays)
        device = self.model.device
        input_ids = torch.full((len(plays), width), self.pad_id, dtype=torch.long)
        attention = torch.zeros((len(plays), width), dtype=torch.long)
        for r, p in enumerate(plays):
            input_ids[r, width - len(p.ids):] = torch.tensor(p.ids)
            attention[r, width - len(p.ids):] = 1
        config = self._generation_config(max(limits))
        processor = TicketLineProcessor(self.vocab, plays, self.constrained_tickets, self.ticket_temperature)
        # generate() fills every field left unset with the model's own generation_config (a saved
        # min_new_tokens or repetition_penalty would change the tokens): lend it a clean one
        with self._lock:
            saved = getattr(self.model, "generation_config", None)
            self.model.generation_config = config
            try:
                out = self.model.generate(
                    input_ids=input_ids.to(device), attention_mask=attention.to(device), generation_config=config,
                    logits_processor=LogitsProcessorList([processor]),
                    stopping_criteria=StoppingCriteriaList([StopAtTokens(self.vocab.stop_ids, width, limits)]),
                )
            finally:
                self.model.generation_config = saved
        new = out[:, width:].tolist()
        for p, toks, lim in zip(plays, new, limits):
            toks = toks[:lim]
            p.turns += 1
            stop = next((k for k, t in enumerate(toks) if t in self.vocab.stop_ids), None)
            if stop is None:
                p.ids = p.ids + toks
                p.n_generated += len(toks)
                p.stop = STOP_LENGTH
            elif toks[stop] == self.vocab.in_id:
                p.ids = p.ids + toks[: stop + 1]
                p.n_generated += stop + 1
                p.stop = STOP_INPUT
            else:
                p.ids = p.ids + toks[:stop]
                p.n_generated += stop + 1
                p.stop = STOP_EOS
