"""`lotto-gpt`: the console program, the HTTP server and the Hub push, driven by a trained model.

    lotto-gpt play  --model outputs/cpu [--tickets tickets.json] [--seed 7] [--show-work]
    lotto-gpt serve --model outputs/cpu --host 127.0.0.1 --port 8000
    lotto-gpt push  --model outputs/cpu --repo_id owner/lotto-gpt [--private] [--dry_run DIR]

`play` reads typed lines from stdin (a terminal or a pipe) and prints exactly what the program
prints (`Play.stdout`), as it goes: the prompt, then the program's answer to each typed line.
It exits 0 when the program ends or stdin ends. `--model` is a local folder or a Hub id.

Exit codes: 0 done; 1 the model could not be loaded, or it stopped without ending the program
(it ran past its token budget); 2 bad arguments (argparse usage errors, a bad --tickets file,
a model folder with a truncated or garbled file: the message names the file).
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import sys

from . import rules

PROG = "lotto-gpt"
MODEL_ENV = "LOTTO_GPT_MODEL"


class CLIError(Exception):
    """An error shown as `lotto-gpt: error: ...` without a traceback."""

    def __init__(self, message: str, code: int = 1):
        super().__init__(message)
        self.code = code


# ---------------------------------------------------------------- tickets file

def parse_tickets(data) -> list[tuple[int, ...]]:
    """Tickets from JSON data: a list of tickets, or {"tickets": [...]}; each ticket six distinct
    ascending numbers in 1..45 (like the program prints them). Raises ValueError."""
    if isinstance(data, dict) and set(data) == {"tickets"}:
        data = data["tickets"]
    if not isinstance(data, list):
        raise ValueError('expected a JSON list of tickets like [[1, 2, 3, 4, 5, 6], ...] (or {"tickets": [...]})')
    if not 1 <= len(data) <= rules.MAX_TICKETS:
        raise ValueError(f"expected 1 to {rules.MAX_TICKETS} tickets, got {len(data)}")
    tickets = []
    for k, ticket in enumerate(data, 1):
        if not (isinstance(ticket, list) and all(isinstance(n, int) and not isinstance(n, bool) for n in ticket)):
            raise ValueError(f"ticket {k} is not a list of integers: {json.dumps(ticket)[:80]}")
        if not rules.is_valid_ticket(ticket):
            raise ValueError(f"ticket {k} {ticket} is not six distinct numbers in 1..45 in ascending order")
        tickets.append(tuple(ticket))
    return tickets


def load_tickets(path: str) -> list[tuple[int, ...]]:
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except OSError as exc:
        raise CLIError(f"--tickets {path}: cannot read it ({exc.strerror or exc})", 2) from None
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CLIError(f"--tickets {path}: not JSON ({exc})", 2) from None
    try:
        return parse_tickets(data)
    except ValueError as exc:
        raise CLIError(f"--tickets {path}: {exc}", 2) from None


def check_ticket_count(lines: list[str], tickets) -> None:
    """The money typed so far must buy exactly the given tickets (ValueError otherwise)."""
    if tickets is not None:
        rules.play(lines, tickets=tickets, seed=0)


# ---------------------------------------------------------------- model

def work_lines(text: str) -> list[str]:
    """The hidden lines of a transcript the console never prints (draw, match and division work)."""
    from .formats import transcript

    return [line for line in text.split("\n")
            if not line.startswith(transcript.IN) and transcript.stdout_lines(line) == ([], [])]


def load_machine(model: str, device: str | None = None, threads: int | None = None):
    """LottoMachine.from_pretrained with CLI-friendly errors (no traceback, exit 1)."""
    if threads:
        import torch

        torch.set_num_threads(threads)
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()
        from .generation import LottoMachine
        from .integrity import CorruptFileError

        return LottoMachine.from_pretrained(model, device=device)
    except CorruptFileError as exc:  # a truncated or garbled file: the message names it (exit 2)
        raise CLIError(f"cannot load the model {model!r}: {exc}", 2) from None
    except Exception as exc:  # OSError, ValueError, hub errors: all end the same way
        raise CLIError(f"cannot load the model {model!r}: {exc}") from None


# ---------------------------------------------------------------- play

def _read_line(stdin):
    """The next typed line without its line break, or None at EOF."""
    if stdin is sys.stdin and stdin.isatty():
        try:
            return input()  # line editing on a terminal
        except EOFError:
            return None
    line = stdin.readline()
    if line == "":
        return None
    return line.rstrip("\r\n")  # "\n", "\r\n" (a stream without newline translation)


class _View:
    """What the console shows: `Play.stdout` increments, or (show_work) the model's own text."""

    def __init__(self, machine, play, out, show_work: bool):
        self.machine, self.play, self.out, self.show_work = machine, play, out, show_work
        self.text_seen = ""

    def _model_text(self, first: bool) -> str:
        from .formats import transcript

        text = self.play.text
        new = text[len(self.text_seen):] if text.startswith(self.text_seen) else text
        self.text_seen = text
        if not first and new:
            new = new.split("\n", 1)[1] if "\n" in new else ""  # the typed line the model read
        if new.endswith(transcript.IN):
            new = new[: -len(transcript.IN)]
        return new

    def write(self, text: str) -> None:
        self.out.write(text)
        self.out.flush()

    def start(self) -> None:
        if self.show_work and self.play.fmt == "transcript":
            self.write(self._model_text(first=True))
        else:
            self.write(self.play.stdout)

    def send(self, line: str) -> None:
        shown = self.machine.send(self.play, line)
        if self.show_work and self.play.fmt == "transcript":
            model_text = self._model_text(first=False)
            if model_text:  # empty for a line over 64 characters: the shell answered it
                shown = model_text
        self.write(shown)


def run_play(machine, stdin, stdout, stderr, tickets=None, seed: int | None = None, show_work: bool = False) -> int:
    """The console loop. Returns the exit code."""
    if seed is None:
        seed = secrets.randbelow(2**31)
    play = machine.start(seed=seed, tickets=tickets)
    view = _View(machine, play, stdout, show_work)
    view.start()
    while play.waiting:
        line = _read_line(stdin)
        if line is None:
            return 0  # stdin ended: the program simply stops, like a closed console
        try:
            check_ticket_count(play.lines + [line], tickets)
        except ValueError as exc:
            raise CLIError(f"--tickets: {exc}", 2) from None
        try:
            view.send(line)
        except ValueError as exc:  # e.g. a carriage return inside a line
            raise CLIError(str(exc)) from None
    if play.stop == "length":
        stderr.write(f"{PROG}: the model stopped without ending the program (it ran past its token budget)\n")
        stderr.flush()
        return 1
    return 0


# ---------------------------------------------------------------- commands

def cmd_play(args) -> int:
    tickets = load_tickets(args.tickets) if args.tickets else None
    machine = load_machine(args.model, args.device, args.threads)
    return run_play(machine, sys.stdin, sys.stdout, sys.stderr, tickets=tickets, seed=args.seed,
                    show_work=args.show_work)


def cmd_serve(args) -> int:
    import uvicorn

    from .serving import create_app

    machine = load_machine(args.model, args.device, args.threads)
    app = create_app(machine, model_id=args.model, max_batch=args.max_batch, batch_wait_ms=args.batch_wait_ms,
                     max_queue=args.max_queue)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)
    return 0


def cmd_push(args) -> int:
    from . import hub

    try:
        if args.dry_run:
            folder = hub.prepare_push_folder(args.model, args.dry_run, eval_results=args.eval_results)
            for path in sorted(p for p in folder.rglob("*") if p.is_file()):
                print(path.relative_to(folder).as_posix())
            return 0
        url = hub.push(args.model, args.repo_id, private=args.private, token=args.token,
                       eval_results=args.eval_results)
    except (OSError, ValueError) as exc:
        raise CLIError(str(exc)) from None
    print(url)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="A tiny GPT that is the Woowa lotto console program.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="{play,serve,push}")

    def model_flags(p, required=True):
        p.add_argument("--model", required=required, default=os.environ.get(MODEL_ENV) if not required else None,
                       help="model folder (safetensors) or Hub id owner/name"
                       + ("" if required else f" (default: ${MODEL_ENV})"))
        p.add_argument("--device", default=None, help="cpu, cuda, ... (default: cpu)")
        p.add_argument("--threads", type=int, default=None, help="torch CPU threads")

    p = sub.add_parser("play", help="play the console program in this terminal (or from a pipe)",
                       description="Play the lotto console program; the model prints, you type.")
    model_flags(p)
    p.add_argument("--tickets", metavar="FILE.json", help="issue these tickets (a JSON list of 6-number lists) "
                   "instead of the model's; their count must match the money typed")
    p.add_argument("--seed", type=int, default=None, help="seed of the model's ticket sampling (default: random)")
    p.add_argument("--show-work", "--show_work", dest="show_work", action="store_true",
                   help="also print the hidden work lines the model writes")
    p.set_defaults(func=cmd_play)

    p = sub.add_parser("serve", help="serve POST /v1/draw over HTTP (FastAPI + uvicorn)")
    model_flags(p, required=False)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--max_batch", type=int, default=16, help="requests generated together in one batch")
    p.add_argument("--batch_wait_ms", type=float, default=5.0, help="how long to wait to fill a batch")
    p.add_argument("--max_queue", type=int, default=256, help="waiting requests before 503")
    p.add_argument("--log_level", default="info")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("push", help="upload the model, its card and the judge metric to the Hub")
    p.add_argument("--model", required=True, help="the trained model folder (train.py --output_dir)")
    p.add_argument("--repo_id", help="owner/name on the Hub")
    p.add_argument("--private", action="store_true")
    p.add_argument("--token", default=None, help="Hub token (default: HF_TOKEN or the saved login)")
    p.add_argument("--eval_results", default=None, help="eval_results.json for the card "
                   "(default: the newest one inside --model)")
    p.add_argument("--dry_run", metavar="DIR", default=None,
                   help="only assemble the folder that would be uploaded into DIR and list it")
    p.set_defaults(func=cmd_push)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "serve" and not args.model:
        parser.error(f"serve: --model is required (or set ${MODEL_ENV})")
    if args.command == "push" and not args.dry_run and not args.repo_id:
        parser.error("push: --repo_id is required (or --dry_run DIR)")
    if getattr(args, "seed", None) is not None and args.seed < 0:
        parser.error("play: --seed must be >= 0")
    for stream in (sys.stdin, sys.stdout):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")
    try:
        return args.func(args)
    except CLIError as exc:
        sys.stdout.flush()
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return 130
    except BrokenPipeError:
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        return 0


if __name__ == "__main__":
    sys.exit(main())
