"""Teacher-forced diagnostics: every target token gets the category of the step it belongs to,
and the flag errors are split by the true flag (a model that writes every number as a miss
is ~87% "right" on flags overall and 100% wrong on the hits)."""
from __future__ import annotations

import torch

from lotto_gpt.data import DataConfig, make_row, tokenize_rows
from lotto_gpt.diagnostics import categorize, token_errors
from lotto_gpt.formats import transcript
from lotto_gpt.formats.transcript import HIT, MISS, flag_token


class ScriptedModel(torch.nn.Module):
    """Predicts the true next token, except that it writes `replace[true]` where given."""

    def __init__(self, vocab_size: int, replace: dict[int, int] | None = None):
        super().__init__()
        self.vocab_size, self.replace = vocab_size, replace or {}

    def forward(self, input_ids, attention_mask=None):
        nxt = torch.roll(input_ids, -1, dims=1)
        nxt = nxt.apply_(lambda t: self.replace.get(t, t))
        return type("Out", (), {"logits": torch.nn.functional.one_hot(nxt, self.vocab_size).float()})()


def _rows(n=6):
    rows = [make_row(i, "validation", 0, DataConfig(forced_rank_share=1.0)) for i in range(n)]
    return {key: [r[key] for r in rows] for key in rows[0]}


def test_spec_run_tokens_get_their_step(spec_run, lotto_tokenizer):
    segments = transcript.encode(spec_run)
    row = {"text": [transcript.to_text(spec_run)], "segment_lengths": [[len(s.text) for s in segments]],
           "segment_kinds": [[s.kind.value for s in segments]]}
    enc = tokenize_rows(row, lotto_tokenizer)
    tokens = lotto_tokenizer.convert_ids_to_tokens(enc["input_ids"][0])
    cats = dict(zip(tokens, categorize(tokens, enc["kind_ids"][0])))
    assert cats["<d1>"] == cats["<b7>"] == "draw"
    assert cats[flag_token(HIT, 1)] == cats[flag_token(MISS, 8)] == "flag"
    assert cats["<c3>"] == "count" and cats["<#1>"] == "tally"
    assert cats["<n8>"] == "divisor" and cats["<q6>"] == "quotient" and cats["<r5>"] == "remainder"


def test_a_perfect_model_makes_no_error(lotto_tokenizer):
    report = token_errors(ScriptedModel(len(lotto_tokenizer)), lotto_tokenizer, _rows())
    assert report["sessions_all_right"] == 1.0
    assert all(v["error"] == 0.0 for k, v in report.items() if k != "sessions_all_right")
    assert report["flag <o>"]["tokens"] > 0 and report["count"]["tokens"] > 0


def test_flag_errors_are_split_by_the_true_flag(lotto_tokenizer):
    vocab = lotto_tokenizer.get_vocab()
    always_miss = ScriptedModel(
        len(lotto_tokenizer), {vocab[flag_token(HIT, n)]: vocab[flag_token(MISS, n)] for n in range(1, 46)}
    )
    report = token_errors(always_miss, lotto_tokenizer, _rows())
    assert report["flag <o>"]["error"] == 1.0
    assert report["flag <x>"]["error"] == 0.0
    hits, flags = report["flag <o>"]["tokens"], report["flag"]["tokens"]
    assert report["flag"]["error"] == hits / flags < 0.5  # the mixed rate hides it
    assert report["sessions_all_right"] == 0.0
