"""benchmarks/ticket_temperature.py: temperature scaling of the ticket numbers, fitted by maximum likelihood."""
from __future__ import annotations

import pytest
import torch
from conftest import load_script, save_tiny_model

from lotto_gpt import rules
from lotto_gpt.data import DataConfig, make_row, tokenize_rows
from lotto_gpt.generation import _Vocab

calibration = load_script("benchmarks/ticket_temperature.py", "ticket_temperature")

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _sampled_at(temperature: float, n: int = 20_000, seed: int = 0):
    """Logits over 45 numbers and targets drawn from softmax(logits / temperature)."""
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(n, len(rules.NUMBERS), generator=g) * 2
    targets = torch.multinomial(torch.softmax(logits / temperature, dim=-1), 1, generator=g).squeeze(1)
    return logits, targets


@pytest.mark.parametrize("true_t", [0.6, 1.0, 1.7])
def test_fit_recovers_the_temperature_the_targets_were_drawn_at(true_t):
    logits, targets = _sampled_at(true_t)
    assert calibration.fit_temperature(logits, targets) == pytest.approx(true_t, rel=0.05)


def test_fitted_temperature_never_has_a_higher_nll_than_1():
    logits, targets = _sampled_at(0.7)
    t = calibration.fit_temperature(logits, targets)
    assert calibration.nll(logits, targets, t) < calibration.nll(logits, targets, 1.0)


def _row_with_tickets(seed: int = 3):
    cfg = DataConfig(bad_input_share=0.0, given_tickets_share=0.0, purchase_share=0.0)
    for index in range(50):
        row = make_row(index, "train", seed, cfg)
        if row["tickets"] and row.get("part", "session") == "session":
            return row
    raise AssertionError("no session row with tickets")


def test_sampled_positions_are_the_ticket_numbers_with_their_allowed_sets(lotto_tokenizer):
    row = _row_with_tickets()
    enc = tokenize_rows({key: [row[key]] for key in row}, lotto_tokenizer)
    vocab = _Vocab(lotto_tokenizer, "transcript")
    found = calibration.sampled_positions(enc["input_ids"][0], enc["kind_ids"][0], vocab)
    numbers = [n for ticket in row["tickets"] for n in ticket]
    sampled = [(t, allowed) for t, allowed in zip(numbers, _allowed_sets(row["tickets"])) if len(allowed) > 1]
    assert [allowed[target] for _, target, allowed, _ in found] == [t for t, _ in sampled]
    assert [allowed for _, _, allowed, _ in found] == [a for _, a in sampled]
    for p, target, allowed, follows in found:  # the position predicts that number's token
        table = vocab.next_ids if follows else vocab.first_ids
        assert enc["input_ids"][0][p + 1] == table[allowed[target] - 1]


def _allowed_sets(tickets):
    """What the constrained machine may sample at each number of each ticket (generation._allowed)."""
    out = []
    for ticket in tickets:
        for k, _ in enumerate(ticket):
            low = ticket[k - 1] + 1 if k else 1
            out.append(list(range(low, 45 - (5 - k) + 1)))
    return out


def test_calibrate_fits_a_real_model_on_dataset_rows(tmp_path):
    path = save_tiny_model(tmp_path / "m")
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(path).eval()
    tok = AutoTokenizer.from_pretrained(path)
    result = calibration.calibrate(model, tok, [_row_with_tickets(seed) for seed in (3, 4)])
    assert calibration.T_MIN <= result["ticket_temperature"] <= calibration.T_MAX
    assert result["numbers"] > 0
    assert result["nll_fitted"] <= result["nll_at_1"] + 1e-9


def test_rows_without_sampled_tickets_are_a_clear_error(lotto_tokenizer, tmp_path):
    path = save_tiny_model(tmp_path / "m")
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(path).eval()
    row = dict(_row_with_tickets())
    row["segment_kinds"] = ["input" if k == "ticket" else k for k in row["segment_kinds"]]  # tickets given
    with pytest.raises(ValueError, match="no sampled ticket numbers"):
        calibration.calibrate(model, lotto_tokenizer, [row])


def test_cli_prints_the_fitted_temperature(tmp_path, capsys):
    from datasets import Dataset, DatasetDict

    path = save_tiny_model(tmp_path / "m")
    rows = [_row_with_tickets(seed) for seed in (3, 4)]
    DatasetDict({"validation": Dataset.from_list(rows)}).save_to_disk(str(tmp_path / "data"))
    assert calibration.main(["--model", str(path), "--dataset_dir", str(tmp_path / "data")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("ticket temperature ") and "NLL" in out


@pytest.mark.parametrize("args, message", [
    (["--model", "no/such/folder/here"], "no model folder"),
    (["--rows", "0"], "--rows"),
])
def test_cli_bad_arguments_are_usage_errors(tmp_path, capsys, args, message):
    path = save_tiny_model(tmp_path / "m")
    argv = ["--model", str(path), "--dataset_dir", str(tmp_path / "missing")] + args
    with pytest.raises(SystemExit) as exc:
        calibration.main(argv)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_cli_missing_dataset_is_a_usage_error(tmp_path, capsys):
    path = save_tiny_model(tmp_path / "m")
    with pytest.raises(SystemExit) as exc:
        calibration.main(["--model", str(path), "--dataset_dir", str(tmp_path / "missing")])
    assert exc.value.code == 2
    assert "missing" in capsys.readouterr().err

