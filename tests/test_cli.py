"""`lotto-gpt play` (and the CLI's error paths).

Behaviour is checked with the rule-engine oracle LM of test_generation (a perfect model): the
CLI runs in-process with `LottoMachine.from_pretrained` patched to return it, stdin a pipe-like
stream. The real entry point runs as a subprocess for usage errors, a missing model and a
tiny random model saved to disk (its text is garbage, so only the process is checked).
"""
from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from conftest import save_tiny_model

from lotto_gpt import cli, rules
from lotto_gpt.formats import transcript
from lotto_gpt.rules import Msg

ROOT = Path(__file__).resolve().parents[1]
SPEC_TICKETS = [
    (8, 21, 23, 41, 42, 43), (3, 5, 11, 16, 32, 38), (7, 11, 16, 35, 36, 44), (1, 8, 11, 31, 41, 42),
    (13, 14, 16, 38, 42, 45), (7, 11, 30, 40, 42, 43), (2, 13, 22, 32, 38, 45), (1, 3, 5, 14, 22, 45),
]
SPEC_LINES = ["8000", "1,2,3,4,5,6", "7"]
LONG = "1" * 65


@pytest.fixture(scope="module")
def oracle():
    from test_generation import oracle_machine

    return oracle_machine()


@pytest.fixture
def play_cli(oracle, monkeypatch, capsys, tmp_path):
    """Run `lotto-gpt play` in-process on the oracle: (exit code, stdout, stderr)."""
    from lotto_gpt.generation import LottoMachine

    loaded = []
    monkeypatch.setattr(LottoMachine, "from_pretrained", classmethod(lambda cls, path, **kw: loaded.append(path) or oracle))

    def run(stdin_text: str, *flags, tickets=None):
        args = ["play", "--model", "some/model", *flags]
        if tickets is not None:
            path = tmp_path / "tickets.json"
            path.write_text(tickets if isinstance(tickets, str) else json.dumps(tickets))
            args += ["--tickets", str(path)]
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin_text))
        code = cli.main(args)
        out, err = capsys.readouterr()
        return code, out, err

    run.loaded = loaded
    return run


def expected(lines, tickets):
    return rules.console_text(rules.play(lines, tickets=tickets))


# ---------------------------------------------------------------- playing

def test_piped_run_with_given_tickets_prints_exactly_the_program(play_cli):
    code, out, err = play_cli("\n".join(SPEC_LINES) + "\n", tickets=[list(t) for t in SPEC_TICKETS])
    assert code == 0, err
    assert out == expected(SPEC_LINES, SPEC_TICKETS)
    assert "8000" not in out.replace("8개", "")  # no echo of the typed lines
    assert out.endswith("총 수익률은 62.5%입니다.\n")
    assert play_cli.loaded == ["some/model"]


def test_every_kind_of_bad_line_is_answered_and_asked_again(play_cli):
    lines = [
        "", "abc", "-1000", "1,000", "1000.0", "10 00", "0", "1500", "200000", LONG, " 02000 ",
        "", "1,2,3", "1,2,3,4,5,6,7", "1;2;3;4;5;6", "0,1,2,3,4,5", "1,2,3,4,5,46", "1,1,2,3,4,5", LONG,
        " 1 , 2,3,4,5,6 ",
        "x", "0", "46", "6", LONG, "07",
    ]
    tickets = SPEC_TICKETS[:2]
    code, out, err = play_cli("\r\n".join(lines) + "\r\n", tickets={"tickets": [list(t) for t in tickets]})
    assert code == 0, err
    assert out == expected(lines, tickets)
    for message in Msg.ERRORS:
        assert message in out, message
    assert out.count(Msg.LINE_TOO_LONG) == 3
    assert out.count(Msg.ASK_MONEY) == 11 and out.count(Msg.ASK_BONUS) == 6


def test_model_issues_tickets_seeded(play_cli):
    lines = ["3000", "1,2,3,4,5,6", "7"]
    code, out, _ = play_cli("\n".join(lines) + "\n", "--seed", "5")
    assert code == 0
    printed = [tuple(json.loads(line)) for line in out.split("\n") if line.startswith("[") and not line.startswith("[ERROR]")]
    assert len(printed) == 3 and all(rules.is_valid_ticket(t) for t in printed)
    assert out == expected(lines, printed)
    assert play_cli("\n".join(lines) + "\n", "--seed", "5")[1] == out  # same seed, same tickets


def test_eof_mid_session_ends_cleanly_after_the_prompt(play_cli):
    code, out, err = play_cli("3000\n1,2,3\n1,2,3,4,5,6")  # the last line has no newline: still a line
    assert code == 0 and err == ""
    assert out.endswith(Msg.WINNING_COUNT + "\n" + Msg.ASK_WINNING + "\n\n" + Msg.ASK_BONUS + "\n")
    code, out, err = play_cli("")
    assert (code, out, err) == (0, Msg.ASK_MONEY + "\n", "")


def test_show_work_prints_the_hidden_lines_in_place(play_cli):
    lines = ["2000", LONG, "1,2,3,4,5,6", "7"]
    code, out, _ = play_cli("\n".join(lines) + "\n", "--show-work", tickets=[list(t) for t in SPEC_TICKETS[:2]])
    assert code == 0
    assert "<t2>[8, 21, 23, 41, 42, 43]\n<t1>[3, 5, 11, 16, 32, 38]\n" in out
    assert "<d1><d2><d3><d4><d5><d6>\n" in out and "<b7><+7>\n" in out and "<n2>" in out
    assert Msg.LINE_TOO_LONG + "\n" + Msg.ASK_WINNING + "\n" in out
    assert "<in>" not in out and "2000" not in out
    ticket = re.compile(r"<t\d+>(\[[^<]*)")  # a ticket line; its work line goes on with flags
    visible = [transcript.without_places(ticket.sub(r"\1", x))  # the rate line's places are work too
               for x in out.split("\n") if not x.startswith("<") or ticket.fullmatch(x)]
    assert "\n".join(visible) == expected(lines, SPEC_TICKETS[:2])


# ---------------------------------------------------------------- bad --tickets files

@pytest.mark.parametrize("content, stdin, message", [
    ("[[1, 2, 3", "", "not JSON"),
    ('{"a": 1}', "", "JSON list of tickets"),
    ("[]", "", "1 to 100 tickets"),
    ("[[1, 2, 3, 4, 5]]", "", "ticket 1 [1, 2, 3, 4, 5] is not six distinct"),
    ("[[1, 1, 2, 3, 4, 5]]", "", "is not six distinct"),
    ("[[6, 5, 4, 3, 2, 1]]", "", "ascending"),
    ("[[1, 2, 3, 4, 5, 46]]", "", "1..45"),
    ('[[1, 2, 3, 4, 5, "6"]]', "", "not a list of integers"),
    ("[[1, 2, 3, 4, 5, true]]", "", "not a list of integers"),
    ("[[1, 2, 3, 4, 5, 6]]", "abc\n3000\n", "1 tickets given for 3,000 won (3 tickets)"),
])
def test_bad_tickets_file_is_a_clear_error(play_cli, content, stdin, message):
    code, out, err = play_cli(stdin, tickets=content)
    assert code == 2
    assert err.startswith("lotto-gpt: error: --tickets") and message in err, err
    assert "Traceback" not in err
    if stdin:  # the session went on until the money was typed
        assert out == Msg.ASK_MONEY + "\n" + Msg.MONEY_NOT_NUMBER + "\n" + Msg.ASK_MONEY + "\n"


def test_unreadable_tickets_file(capsys, tmp_path):
    assert cli.main(["play", "--model", str(tmp_path), "--tickets", str(tmp_path / "missing.json")]) == 2
    assert "cannot read it" in capsys.readouterr().err


def test_pickle_only_model_folder_is_refused(tmp_path, capsys):
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "pytorch_model.bin").write_bytes(b"\x80\x04")
    assert cli.main(["play", "--model", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "pickle weights (pytorch_model.bin)" in err and "safetensors only" in err


# ---------------------------------------------------------------- the real entry point

def _cli(*args, stdin="", timeout=240):
    env = dict(os.environ, OMP_NUM_THREADS="1", HF_HUB_OFFLINE="1", PYTHONIOENCODING="utf-8",
               TOKENIZERS_PARALLELISM="false")
    return subprocess.run([sys.executable, "-m", "lotto_gpt.cli", *args], input=stdin, capture_output=True,
                          text=True, encoding="utf-8", cwd=ROOT, env=env, timeout=timeout)


@pytest.mark.parametrize("args, message", [
    ([], "the following arguments are required: {play,serve,push}"),
    (["play"], "the following arguments are required: --model"),
    (["play", "--model", "m", "--seed", "abc"], "invalid int value: 'abc'"),
    (["play", "--model", "m", "--seed", "-3"], "--seed must be >= 0"),
    (["play", "--model", "m", "--bogus"], "unrecognized arguments: --bogus"),
    (["serve", "--port", "x"], "invalid int value: 'x'"),
    (["push", "--model", "m"], "--repo_id is required"),
])
def test_bad_flags_are_usage_errors(args, message):
    proc = _cli(*args)
    assert proc.returncode == 2
    assert proc.stderr.startswith("usage: lotto-gpt") and message in proc.stderr, proc.stderr


def test_missing_model_folder_is_a_clear_error():
    proc = _cli("play", "--model", "./no/such/model")
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.strip().endswith(
        "lotto-gpt: error: cannot load the model './no/such/model': "
        "no model folder at ./no/such/model (and it is not a Hub id like owner/name)"), proc.stderr
    assert "Traceback" not in proc.stderr


def test_tiny_saved_model_runs_through_the_real_command(tmp_path):
    save_tiny_model(tmp_path)
    proc = _cli("play", "--model", str(tmp_path), "--seed", "0", stdin="1000\n1,2,3,4,5,6\n7\n")
    # a random model writes garbage: it ends (0) or runs past its token budget (1), never crashes
    assert proc.returncode in (0, 1), proc.stderr
    assert "Traceback" not in proc.stderr
    if proc.returncode == 1:
        assert "ran past its token budget" in proc.stderr


def test_console_script_is_declared():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert project["project"]["scripts"]["lotto-gpt"] == "lotto_gpt.cli:main"


def test_package_exports_the_machine():
    import lotto_gpt
    from lotto_gpt import LottoMachine
    from lotto_gpt.generation import LottoMachine as Direct

    assert LottoMachine is Direct and "LottoMachine" in dir(lotto_gpt)
