"""Reliability (issue 7): bad input, faults and loading, each checked so that it can fail.

- The console (`lotto-gpt play`, in-process through `cli.main` with a real-stdin-like stream)
  and the HTTP API (the FastAPI app through TestClient) are fuzzed with hypothesis: random
  unicode, NUL and control characters, lines far over 64 characters, empty lines, invalid
  UTF-8, EOF in the middle of a session or of a line, wrong JSON types, huge numbers, unknown
  fields, raw non-JSON bodies. The behaviour is checked against the rule engine with the
  perfect oracle LM of test_generation; the real loading path with a tiny random saved model.
- Truncated or garbled model, dataset and checkpoint files stop the program with one line
  naming the file (exit 2) and leave every file as it was.
- The server's model is fixed at start-up: no request field can name a file or a model.
- The same seed gives the same tickets and console text on two separately loaded machines.

The fuzz helpers (`console_check`, `api_check` and the strategies) are reused by
benchmarks/fuzz.py, which runs thousands of examples.
"""
from __future__ import annotations

import hashlib
import io
import json
import re
import sys
from pathlib import Path
from unittest import mock

import pytest
from conftest import load_script, save_tiny_model
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from lotto_gpt import cli, rules
from lotto_gpt.data import DATA_VERSION, check_data_version
from lotto_gpt.integrity import CheckpointFileError, CorruptFileError, DatasetFileError, ModelFileError
from lotto_gpt.rules import Msg

ROOT = Path(__file__).resolve().parents[1]
FUZZ = settings(deadline=None, suppress_health_check=list(HealthCheck), derandomize=False)

pytestmark = pytest.mark.usefixtures("one_torch_thread")


# ---------------------------------------------------------------- strategies

SPECIAL = ["<in>", "<t1>", "<t8>[1, 2, 3", "<d1><b7>", "<o1><x2><+7>", "<c3>", "<#1>", "<n8>0<q0p11><r0>",
           "<s>", "</s>", "<pad>", "<unk>", "<|endoftext|>", "[ERROR]", "###", "<IN>", "</OUT>"]
CONTROL = "\x00\x01\x07\x08\t\x0b\x0c\x1b\x1c\x1d\x1e\x1f\x7f\x85\xa0\u2028\u2029\ufeff\u200b"
GOOD_MONEY = ["1000", " 1000 ", "01000", "2000"]  # small: the oracle LM is slow on long ticket blocks
GOOD_WINNING = ["1,2,3,4,5,6", " 1 , 2,3,4,5,6 ", "45,44,43,42,41,40"]
GOOD_BONUS = ["7", " 07 ", "39"]


def _no_breaks(text: str) -> str:
    return text.replace("\r", "").replace("\n", "")


LINE = st.one_of(
    st.sampled_from(GOOD_MONEY + GOOD_WINNING + GOOD_BONUS + [""]),
    st.text(max_size=24).map(_no_breaks),  # any unicode (no surrogates: stdin is UTF-8 bytes)
    st.text(alphabet=CONTROL + "1,0 가😀", max_size=12),
    st.text(min_size=60, max_size=400).map(_no_breaks),  # around and far over the 64-char limit
    st.integers(min_value=-(10**80), max_value=10**80).map(str),  # huge numbers
    st.sampled_from(SPECIAL),
    st.lists(st.integers(-50, 10**12), min_size=0, max_size=9).map(lambda ns: ",".join(map(str, ns))),
)


@st.composite
def stdin_bytes(draw) -> bytes:
    """Typed lines as raw bytes: any line breaks, sometimes invalid UTF-8, sometimes EOF mid-line."""
    if draw(st.booleans()):  # a session: bad lines before each good one, cut short now and then
        lines = []
        for good in (GOOD_MONEY, GOOD_WINNING, GOOD_BONUS):
            lines += draw(st.lists(LINE, max_size=3)) + [draw(st.sampled_from(good))]
        lines = lines[: draw(st.integers(0, len(lines) + 2))] + draw(st.lists(LINE, max_size=2))
    else:
        lines = draw(st.lists(LINE, max_size=10))
    chunks = []
    for line in lines:
        data = line.encode("utf-8")
        if draw(st.integers(0, 9)) == 0:  # bytes that are not UTF-8
            data += draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x80abc", b"\xf0\x9f"]))
        chunks.append(data + draw(st.sampled_from([b"\n", b"\n", b"\r\n", b"\r"])))
    data = b"".join(chunks)
    if draw(st.booleans()):  # EOF in the middle of a line
        data += draw(LINE).encode("utf-8")
    return data


def _stdin(data: bytes) -> io.TextIOWrapper:
    """What `sys.stdin` is for a pipe: UTF-8, universal newlines (errors='replace' is set by cli.main)."""
    return io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", errors="strict", newline=None)


def typed_lines(data: bytes) -> list[str]:
    """The lines a user typed, decoded independently of the CLI (the oracle for the console)."""
    text = data.decode("utf-8", errors="replace")
    lines = re.split(r"\r\n|\r|\n", text)
    if lines and lines[-1] == "":
        lines.pop()  # the last line break ended the last line
    return lines


def _printed_tickets(out: str) -> list[tuple[int, ...]]:
    return [tuple(json.loads(line)) for line in out.split("\n") if line.startswith("[") and not line.startswith("[ERROR]")]


def run_cli_play(machine, data: bytes, seed: int, *flags) -> tuple[int, str, str]:
    """`lotto-gpt play --model M --seed S` in-process, stdin a byte pipe; (exit code, stdout, stderr)."""
    from lotto_gpt.generation import LottoMachine

    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", newline="\n", write_through=True)
    err = io.StringIO()
    with mock.patch.object(LottoMachine, "from_pretrained", classmethod(lambda cls, path, **kw: machine)), \
            mock.patch.object(sys, "stdin", _stdin(data)), mock.patch.object(sys, "stdout", out), \
            mock.patch.object(sys, "stderr", err):
        code = cli.main(["play", "--model", "fuzz/model", "--seed", str(seed), *flags])
    out.flush()
    return code, out.buffer.getvalue().decode("utf-8"), err.getvalue()


def console_check(machine, data: bytes, seed: int) -> str:
    """The console prints exactly what the program prints for the lines as typed; exit 0, nothing on stderr.
    Returns a label of how far the session got (for statistics)."""
    code, out, err = run_cli_play(machine, data, seed)
    assert "Traceback" not in err and err == "", err
    assert code == 0, (code, err)
    lines = typed_lines(data)
    expected = rules.console_text(rules.play(lines, tickets=_printed_tickets(out) or None))
    assert out == expected
    for line in out.split("\n"):
        if line.startswith("[ERROR]"):
            assert line in Msg.ERRORS, line
    run = rules.play(lines, tickets=_printed_tickets(out) or None)
    return "complete" if run.complete else f"EOF at {run.stage.value}"


# the API: any JSON value where a field goes, plus plausible ones
JSON_LEAF = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=-(10**300), max_value=10**300),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=30),
    st.sampled_from(["\ud800", "a\udfff", "\x00", "1000\x00", "8000" * 20, "１０００", "٣٠٠٠"] + SPECIAL),
)
JSON_ANY = st.recursive(JSON_LEAF, lambda inner: st.lists(inner, max_size=4)
                        | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12)
FIELD_VALUES = {
    "money": st.one_of(st.sampled_from([1000, 2000, "1000", " 02000 ", 0, -1000, 1500, 101000, 10**30, 2**63]),
                       JSON_ANY),
    "winning": st.one_of(st.sampled_from([[1, 2, 3, 4, 5, 6], "1,2,3,4,5,6", [1, 2, 3, 4, 5, 6, 7],
                                          [0, 1, 2, 3, 4, 5], [1, 1, 2, 3, 4, 5], [10**40] * 6]), JSON_ANY),
    "bonus": st.one_of(st.sampled_from([7, "7", " 07", 6, 46, 0, -7, 10**20]), JSON_ANY),
    "tickets": st.one_of(st.none(), st.sampled_from([[[1, 2, 3, 4, 5, 6]], [[8, 21, 23, 41, 42, 43]] * 2,
                                                     [[1, 2, 3, 4, 5, 60]], [[6, 5, 4, 3, 2, 1]], []]), JSON_ANY),
    "seed": st.one_of(st.integers(min_value=-(2**70), max_value=2**70), JSON_ANY),
    "show_work": st.one_of(st.booleans(), JSON_ANY),
}


@st.composite
def api_bodies(draw) -> tuple[bytes, str]:
    """(body bytes, content type): mostly JSON objects with fuzzed fields, sometimes raw junk."""
    kind = draw(st.integers(0, 9))
    if kind == 0:  # not JSON, not UTF-8, deep nesting, a huge integer literal
        raw = draw(st.one_of(st.binary(max_size=200), st.sampled_from([
            b"", b"{", b"null", b"[" * 5000, b'{"money": ' + b"9" * 5000 + b"}", b"\x00\x00",
            b'{"money": 1000, "money": "x", "winning": "1,2,3,4,5,6", "bonus": 7}', b"\xef\xbb\xbf{}",
            b'{"money": NaN, "winning": Infinity, "bonus": -Infinity}'])))
        return raw, draw(st.sampled_from(["application/json", "text/plain", "application/x-www-form-urlencoded"]))
    if kind == 1:  # any JSON value at all
        return json.dumps(draw(JSON_ANY)).encode(), "application/json"
    body = {}
    good = {"money": st.sampled_from([1000, "1000", " 02000 "]), "winning": st.sampled_from(GOOD_WINNING + [[1, 2, 3, 4, 5, 6]]),
            "bonus": st.sampled_from(GOOD_BONUS + [7]), "tickets": st.none(), "seed": st.integers(0, 2**63 - 1),
            "show_work": st.booleans()}
    for name in ("money", "winning", "bonus", "tickets", "seed", "show_work"):
        if draw(st.integers(0, 9)) < (9 if name in ("money", "winning", "bonus") else 3):
            body[name] = draw(good[name] if draw(st.integers(0, 3)) else FIELD_VALUES[name])
    if draw(st.integers(0, 5)) == 0:  # a field the API does not have
        body[draw(st.sampled_from(["model", "path", "file", "\ud800", "", "Money", "money "]))] = draw(JSON_ANY)
    return json.dumps(body, ensure_ascii=draw(st.booleans())).encode("utf-8", "surrogatepass"), "application/json"


def api_check(client, body: bytes, content_type: str) -> str:
    """2xx with a session, or 4xx with a message: never a 5xx, never a body that is not JSON."""
    r = client.post("/v1/draw", content=body, headers={"content-type": content_type})
    assert 200 <= r.status_code < 500, (r.status_code, r.text[:500])
    payload = r.json()
    if r.status_code == 200:
        assert isinstance(payload["stdout"], str) and payload["stdout"].startswith(Msg.ASK_MONEY)
        assert payload["complete"] is True  # the oracle always ends the program
    else:
        assert isinstance(payload.get("detail"), str) and payload["detail"], payload
        if r.status_code == 422 and payload["detail"].startswith("[ERROR]"):
            assert payload["detail"] in Msg.ERRORS
    return str(r.status_code)


# ---------------------------------------------------------------- machines and apps

@pytest.fixture(scope="module")
def oracle():
    from test_generation import oracle_machine

    return oracle_machine()


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    return save_tiny_model(tmp_path_factory.mktemp("tiny"))


@pytest.fixture(scope="module")
def api(oracle):
    from fastapi.testclient import TestClient

    from lotto_gpt.serving import create_app

    app = create_app(oracle, model_id="oracle", max_batch=4, batch_wait_ms=0)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


# ---------------------------------------------------------------- fuzzing the console

@settings(FUZZ, max_examples=30)
@given(data=stdin_bytes(), seed=st.integers(0, 2**31 - 1))
def test_console_fuzz_prints_the_programs_errors_and_ends_cleanly(oracle, data, seed):
    event(console_check(oracle, data, seed))


def test_console_check_can_fail(oracle):
    """console_check is real: a console that loses a typed line is caught."""
    data = b"abc\n1000\n"
    console_check(oracle, data, 1)
    real = cli._read_line

    def lossy(stdin):  # drops every empty-after-strip line... and "abc"
        line = real(stdin)
        return real(stdin) if line == "abc" else line

    with mock.patch.object(cli, "_read_line", lossy), pytest.raises(AssertionError):
        console_check(oracle, data, 1)


@settings(FUZZ, max_examples=5)
@given(data=stdin_bytes(), seed=st.integers(0, 2**63 - 1))
def test_console_fuzz_with_a_real_tiny_model_never_crashes(tiny_machine, data, seed):
    """A random model writes garbage; whatever is typed, the console ends with 0 (done, or EOF) or 1
    (the model ran past its budget), with no traceback, and answers long lines with the shell's error."""
    code, out, err = run_cli_play(tiny_machine, data, seed)
    assert code in (0, 1), err
    assert "Traceback" not in err
    assert err == "" if code == 0 else "ran past its token budget" in err
    assert out.startswith(Msg.ASK_MONEY) or out.split("\n", 1)[0] != "", out[:200]


@pytest.fixture(scope="module")
def tiny_machine(tiny_dir):
    from lotto_gpt.generation import LottoMachine

    return LottoMachine.from_pretrained(str(tiny_dir), max_new_tokens=24)


# ---------------------------------------------------------------- fuzzing the API

@settings(FUZZ, max_examples=100)
@given(request=api_bodies())
def test_api_fuzz_is_never_a_5xx(api, request):
    event(api_check(api, *request))


def test_api_fuzz_found_cases(api):
    """Cases the fuzzer found or should always try, pinned."""
    cases = [
        (b"[" * 5000, "application/json"),
        (b'{"money": ' + b"9" * 5000 + b', "winning": "1,2,3,4,5,6", "bonus": 7}', "application/json"),
        (json.dumps({"money": 1000, "winning": "1,2,3,4,5,6", "bonus": 7, "\ud800": 1}).encode(), "application/json"),
        (json.dumps({"money": "\ud800", "winning": "1,2,3,4,5,6", "bonus": 7}).encode(), "application/json"),
        (b'{"money": NaN, "winning": Infinity, "bonus": -Infinity}', "application/json"),
        (json.dumps({"money": 1000, "winning": [1, 2, 3, 4, 5, 6], "bonus": 7, "seed": 2**64}).encode(),
         "application/json"),
        (b"\xff\xfe\x00", "application/json"),
    ]
    for body, ctype in cases:
        api_check(api, body, ctype)


def test_api_check_can_fail(api):
    """api_check is real: a 5xx, or a 4xx without a message, fails it."""
    class Fake:
        def __init__(self, status, payload):
            self.status_code, self._payload, self.text = status, payload, json.dumps(payload)

        def json(self):
            return self._payload

    for status, payload in [(500, {"detail": "Internal Server Error"}), (422, {"detail": ""}), (400, {})]:
        client = mock.Mock()
        client.post.return_value = Fake(status, payload)
        with pytest.raises(AssertionError):
            api_check(client, b"{}", "application/json")


# ---------------------------------------------------------------- truncated and garbled files

def _snapshot(folder: Path) -> dict[str, str]:
    """Every file under `folder` with the hash of its bytes (to prove nothing was written)."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _truncate(path: Path, keep: float = 0.5) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


def _garble(path: Path, text: str = '{"half": ') -> None:
    path.write_text(text)


MODEL_FAULTS = [
    ("model.safetensors", lambda p: _truncate(p), "truncated"),
    ("model.safetensors", lambda p: _truncate(p, 0.0), "truncated"),
    ("model.safetensors", lambda p: p.write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{garbage"), "garbled"),
    ("config.json", lambda p: _garble(p), "not valid JSON"),
    ("config.json", lambda p: _garble(p, "[1, 2]"), "expected a JSON object"),
    ("config.json", lambda p: p.write_bytes(b"\xff\xfe{"), "not valid JSON"),
    ("tokenizer.json", lambda p: _truncate(p), "not valid JSON"),
    ("tokenizer_config.json", lambda p: _garble(p), "not valid JSON"),
    ("generation_config.json", lambda p: _garble(p, ""), "not valid JSON"),
]


@pytest.mark.parametrize("name, fault, problem", MODEL_FAULTS, ids=lambda x: x if isinstance(x, str) else "")
def test_corrupt_model_file_is_named_exit_2_and_left_alone(tiny_dir, tmp_path, capsys, name, fault, problem):
    import shutil

    from lotto_gpt.generation import LottoMachine

    folder = tmp_path / "model"
    shutil.copytree(tiny_dir, folder)
    fault(folder / name)
    before = _snapshot(folder)
    with pytest.raises(ModelFileError) as info:
        LottoMachine.from_pretrained(str(folder))
    assert info.value.path == str(folder / name) and str(info.value).startswith(f"{folder / name}: ")
    assert problem in str(info.value) and isinstance(info.value, OSError)

    assert cli.main(["play", "--model", str(folder)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "Traceback" not in err
    assert err.count("\n") == 1 and err.startswith("lotto-gpt: error: cannot load the model") and str(folder / name) in err
    assert _snapshot(folder) == before  # nothing was rewritten, nothing was added


@pytest.fixture(scope="module")
def train_script():
    """train.py as a module (its main() and load_or_build_data), loaded from the repository root."""
    return load_script("train.py", "train_script")


@pytest.fixture(scope="module")
def saved_dataset(tmp_path_factory):
    from lotto_gpt.data import DataConfig, build_dataset_dict

    path = tmp_path_factory.mktemp("data") / "transcript"
    build_dataset_dict({"train": 8, "validation": 4}, seed=0, cfg=DataConfig(max_money=3000, small_share=1.0),
                       num_proc=1).save_to_disk(str(path))
    return path


def _arrow(folder: Path, split: str = "train") -> Path:
    return next((folder / split).glob("data-*.arrow"))


DATA_FAULTS = [
    ("arrow truncated", lambda d: _truncate(_arrow(d)), lambda d: _arrow(d), "truncated"),
    ("arrow cut at a batch", lambda d: _truncate(_arrow(d, "validation"), 0.999), lambda d: _arrow(d, "validation"),
     "truncated"),
    ("dataset_dict.json missing", lambda d: (d / "dataset_dict.json").unlink(), lambda d: d / "dataset_dict.json",
     "not building a new dataset over them"),
    ("dataset_dict.json garbled", lambda d: _garble(d / "dataset_dict.json"), lambda d: d / "dataset_dict.json",
     "not valid JSON"),
    ("dataset_dict.json wrong", lambda d: _garble(d / "dataset_dict.json", '{"splits": 3}'),
     lambda d: d / "dataset_dict.json", "garbled"),
    ("state.json missing", lambda d: (d / "train" / "state.json").unlink(), lambda d: d / "train" / "state.json",
     "missing"),
    ("state.json garbled", lambda d: _truncate(d / "validation" / "state.json"),
     lambda d: d / "validation" / "state.json", "not valid JSON"),
    ("state.json wrong", lambda d: _garble(d / "train" / "state.json", '{"_data_files": "x"}'),
     lambda d: d / "train" / "state.json", "garbled"),
]


@pytest.mark.parametrize("case, fault, culprit, problem", DATA_FAULTS, ids=[c[0] for c in DATA_FAULTS])
def test_corrupt_dataset_file_is_named_and_nothing_is_built_over_it(train_script, saved_dataset, tmp_path,
                                                                    case, fault, culprit, problem):
    import shutil

    from datasets import load_from_disk

    folder = tmp_path / "transcript"
    shutil.copytree(saved_dataset, folder)
    load_from_disk(str(folder))  # the intact copy loads
    for cache in folder.rglob("cache-*.arrow"):
        cache.unlink()
    fault(folder)
    before = _snapshot(folder)
    argv = ["--dataset_dir", str(folder), "--output_dir", str(tmp_path / "out"), "--train_size", "4",
            "--eval_size", "2", "--max_steps", "1", "--report_to", "none", "--use_cpu"]
    with pytest.raises(DatasetFileError) as info:
        train_script.main(argv)
    assert info.value.path == str(culprit(folder)) and problem in str(info.value)
    assert _snapshot(folder) == before
    assert not (tmp_path / "out").exists()


def test_dataset_of_an_older_data_version_is_refused_with_the_rebuild_command(train_script, saved_dataset, tmp_path):
    import shutil

    folder = tmp_path / "transcript"
    shutil.copytree(saved_dataset, folder)
    (folder / "build_info.json").write_text(json.dumps({"data_version": DATA_VERSION - 1}))
    before = _snapshot(folder)
    argv = ["--dataset_dir", str(folder), "--output_dir", str(tmp_path / "out"), "--max_steps", "1",
            "--report_to", "none", "--use_cpu"]
    with pytest.raises(DatasetFileError) as info:
        train_script.main(argv)
    assert info.value.path == str(folder / "build_info.json")
    assert "data_scripts/build_dataset.py" in str(info.value) and "--overwrite" in str(info.value)
    assert _snapshot(folder) == before and not (tmp_path / "out").exists()


def test_dataset_built_with_other_data_flags_is_refused_naming_them(train_script, saved_dataset, tmp_path):
    import shutil
    from dataclasses import asdict

    folder = tmp_path / "transcript"
    shutil.copytree(saved_dataset, folder)
    config = asdict(train_script.DataConfig(variant_share=0.2))
    (folder / "build_info.json").write_text(json.dumps({"data_version": DATA_VERSION, "config": config}))
    before = _snapshot(folder)
    argv = ["--dataset_dir", str(folder), "--output_dir", str(tmp_path / "out"), "--max_steps", "1",
            "--report_to", "none", "--use_cpu"]
    with pytest.raises(DatasetFileError) as info:
        train_script.main(argv)
    assert "--variant_share 0.2 (this run asks 0.5)" in str(info.value)
    assert _snapshot(folder) == before and not (tmp_path / "out").exists()


def test_a_flag_newer_than_the_dataset_counts_as_its_default(train_script, tmp_path):
    from dataclasses import asdict

    config = asdict(train_script.DataConfig())
    del config["work_lines"]
    (tmp_path / "build_info.json").write_text(json.dumps({"data_version": DATA_VERSION, "config": config}))
    check_data_version(str(tmp_path), train_script.DataConfig())  # no error
    with pytest.raises(DatasetFileError, match="--work_lines True"):
        check_data_version(str(tmp_path), train_script.DataConfig(work_lines=False))


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """A checkpoint folder as the Trainer writes one (weights, tokenizer, state, optimizer, rng)."""
    import torch

    path = save_tiny_model(tmp_path_factory.mktemp("run") / "checkpoint-2")
    (path / "trainer_state.json").write_text(json.dumps({"global_step": 2, "log_history": []}))
    torch.save({"state": {0: {"exp_avg": torch.zeros(64)}}, "param_groups": []}, path / "optimizer.pt")
    torch.save({"last_epoch": 2}, path / "scheduler.pt")
    torch.save({"cpu": torch.get_rng_state()}, path / "rng_state.pth")
    return path


CHECKPOINT_FAULTS = [
    ("model.safetensors", lambda p: _truncate(p), "truncated"),
    ("trainer_state.json", lambda p: _garble(p), "not valid JSON"),
    ("trainer_state.json", lambda p: p.unlink(), "missing"),
    ("optimizer.pt", lambda p: _truncate(p, 0.7), "truncated or garbled"),
    ("rng_state.pth", lambda p: _truncate(p, 0.9), "truncated or garbled"),
    ("config.json", lambda p: _garble(p, "null"), "expected a JSON object"),
]


@pytest.mark.parametrize("name, fault, problem", CHECKPOINT_FAULTS, ids=lambda x: x if isinstance(x, str) else "")
def test_resume_from_a_corrupt_checkpoint_names_the_file_before_anything_runs(
        train_script, checkpoint, tmp_path, name, fault, problem):
    import shutil

    from lotto_gpt.integrity import check_checkpoint_dir

    check_checkpoint_dir(checkpoint)  # the intact checkpoint passes
    run = tmp_path / "run"
    ckpt = run / checkpoint.name
    shutil.copytree(checkpoint, ckpt)
    fault(ckpt / name)
    before = _snapshot(run)
    argv = ["--dataset_dir", str(tmp_path / "no_data"), "--output_dir", str(run), "--train_size", "4",
            "--eval_size", "2", "--max_steps", "3", "--report_to", "none", "--use_cpu",
            "--resume_from_checkpoint", str(ckpt)]
    with pytest.raises(CheckpointFileError) as info:
        train_script.main(argv)
    assert info.value.path == str(ckpt / name) and problem in str(info.value)
    assert _snapshot(run) == before  # the run folder is untouched
    assert not (tmp_path / "no_data").exists()  # and no dataset was built first


def test_resume_with_a_weight_average_from_a_checkpoint_without_one_is_refused(train_script, checkpoint, tmp_path):
    import shutil

    run = tmp_path / "run"
    ckpt = run / checkpoint.name
    shutil.copytree(checkpoint, ckpt)  # whole Trainer files, no ema.safetensors: cut while saving
    before = _snapshot(run)
    argv = ["--dataset_dir", str(tmp_path / "no_data"), "--output_dir", str(run), "--report_to", "none",
            "--use_cpu", "--ema_decay", "0.9", "--resume_from_checkpoint", str(ckpt)]
    with pytest.raises(CheckpointFileError) as info:
        train_script.main(argv)
    assert info.value.path == str(ckpt / "ema.safetensors") and "resume from the one before it" in str(info.value)
    assert _snapshot(run) == before and not (tmp_path / "no_data").exists()


def test_train_script_prints_one_line_and_exits_2(train_script, checkpoint, tmp_path, capsys):
    """The script's entry point (its `__main__` block, run in-process): one line naming the file, exit 2."""
    import runpy
    import shutil

    ckpt = tmp_path / "checkpoint-2"
    shutil.copytree(checkpoint, ckpt)
    _truncate(ckpt / "model.safetensors")
    argv = ["train.py", "--output_dir", str(tmp_path), "--dataset_dir", str(tmp_path / "no_data"),
            "--report_to", "none", "--use_cpu", "--resume_from_checkpoint", str(ckpt)]
    with mock.patch.object(sys, "argv", argv), pytest.raises(SystemExit) as info:
        runpy.run_path(str(ROOT / "train.py"), run_name="__main__")
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"train.py: error: {ckpt / 'model.safetensors'}: truncated"), err
    assert err.count("\n") == 1 and "truncated" in err and "Traceback" not in err


def test_corrupt_file_errors_are_one_family():
    for cls in (ModelFileError, DatasetFileError, CheckpointFileError):
        assert issubclass(cls, CorruptFileError) and issubclass(cls, OSError)
    exc = ModelFileError("/m/config.json", "missing")
    assert (exc.path, str(exc)) == ("/m/config.json", "/m/config.json: missing")


# ---------------------------------------------------------------- the server's model is fixed

FILE_FIELDS = ["model", "path", "model_path", "model_id", "file", "checkpoint", "tokenizer", "revision",
               "device", "config", "weights", "dir"]


def test_no_request_field_can_name_a_file_or_a_model(oracle, tmp_path):
    from fastapi.testclient import TestClient

    from lotto_gpt import generation
    from lotto_gpt.serving import DrawRequest, create_app

    assert set(DrawRequest.model_fields) == {"money", "winning", "bonus", "tickets", "seed", "show_work"}
    app = create_app(oracle, model_id="fixed")
    planted = save_tiny_model(tmp_path / "other")
    base = {"money": 1000, "winning": "1,2,3,4,5,6", "bonus": 7, "tickets": [[1, 2, 3, 4, 5, 6]], "seed": 1}
    loads = []
    refuse = classmethod(lambda cls, *a, **kw: loads.append(a) or pytest.fail(f"a request loaded a model: {a}"))
    with mock.patch.object(generation.LottoMachine, "from_pretrained", refuse), \
            mock.patch("transformers.AutoModelForCausalLM.from_pretrained", side_effect=AssertionError("load")), \
            TestClient(app, raise_server_exceptions=False) as client:
        for name in FILE_FIELDS:
            for value in ((str(planted), "owner/other-model") if name != "model" else
                          (str(planted), "/etc/passwd", "owner/other-model", {"path": str(planted)})):
                r = client.post("/v1/draw", json={**base, name: value})
                assert r.status_code == 422, (name, r.text)
                assert r.json()["detail"].startswith(f"unknown field {name!r}"), r.json()
        for field in ("money", "winning", "bonus"):  # a path where a typed line goes is just a bad line
            r = client.post("/v1/draw", json={**base, field: str(planted / "model.safetensors")})
            assert r.status_code == 422 and r.json()["detail"].startswith("[ERROR]")
        r = client.post("/v1/draw", json=base)
        assert r.status_code == 200 and r.json()["complete"]
        assert client.get("/health").json()["model"] == "fixed"
    assert app.state.machine is oracle and loads == []


# ---------------------------------------------------------------- determinism across loads

def test_same_seed_same_tickets_and_console_on_two_loaded_machines(tiny_dir):
    """Two machines loaded separately from one folder: the same seed gives the same ticket lines and the
    same console text; another seed gives other tickets (so the check can fail)."""
    from lotto_gpt.generation import LottoMachine, Session

    a = LottoMachine.from_pretrained(str(tiny_dir), max_new_tokens=48)
    b = LottoMachine.from_pretrained(str(tiny_dir), max_new_tokens=48)
    assert a.model is not b.model

    def ticket_lines(machine, seed):
        """The model's sampled ticket lines for 3,000 won (driven into the ticket block, like a real play)."""
        play = machine.new_play(Session([], seed=seed))
        play.ids = machine.tokenizer("구입금액을 입력해 주세요.\n<in>3000\n\n3개를 구매했습니다.\n<t3>")["input_ids"]
        machine._turn([play])
        return play.text.split("\n")[4:]

    same = ticket_lines(a, 7)
    assert same == ticket_lines(b, 7) and same[0].startswith("<t3>[")
    assert ticket_lines(a, 2**40) == ticket_lines(b, 2**40) != same

    data = b"abc\n3000\n1,2,3,4,5,6\n7\n"
    first, second = run_cli_play(a, data, 3), run_cli_play(b, data, 3)
    assert first == second and first[1]
