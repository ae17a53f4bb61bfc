"""Diagnostics. Teacher-forced: every target token gets the category of the step it belongs to,
and the flag errors are split by the true flag (a model that writes every number as a miss
is ~87% "right" on flags overall and 100% wrong on the hits). End to end: the first wrong line
of a session is found and named against the program's transcript."""
from __future__ import annotations

import pytest
import torch
from conftest import SPEC_LINES

from lotto_gpt import rules
from lotto_gpt.data import DataConfig, make_row, tokenize_rows
from lotto_gpt.diagnostics import categorize, first_wrong_line, first_wrong_lines, line_kind, main, ticket_counts, token_errors
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


def _categories(run, tokenizer) -> dict:
    """Token -> category for the run's transcript (the last one where a token repeats)."""
    segments = transcript.encode(run)
    row = {"text": [transcript.to_text(run)], "segment_lengths": [[len(s.text) for s in segments]],
           "segment_kinds": [[s.kind.value for s in segments]]}
    enc = tokenize_rows(row, tokenizer)
    tokens = tokenizer.convert_ids_to_tokens(enc["input_ids"][0])
    return dict(zip(tokens, categorize(tokens, enc["kind_ids"][0])))


def test_spec_run_tokens_get_their_step(spec_run, lotto_tokenizer):
    cats = _categories(spec_run, lotto_tokenizer)
    assert cats["<d1>"] == cats["<b7>"] == "draw"
    assert cats[flag_token(HIT, 1)] == cats[flag_token(MISS, 8)] == "flag"
    assert cats["<c3>"] == "count" and cats["<#1>"] == "tally"
    assert cats["<n8>"] == "divisor" and cats["<q6p2>"] == "quotient" and cats["<r5>"] == "remainder"


def test_the_error_after_a_duplicates_draw_tokens_is_the_duplicate_decision(lotto_tokenizer):
    run = rules.play(["3000", "1,2,3,3,5,6", "1,2,3,4,5,66", "1,2,3,4,5,6", "3", "7"],
                     tickets=[(1, 2, 3, 4, 5, 6)] * 3)
    cats = _categories(run, lotto_tokenizer)
    assert cats[rules.Msg.WINNING_DUPLICATE] == cats[rules.Msg.BONUS_DUPLICATE] == "duplicate_error"
    assert cats[rules.Msg.NUMBER_RANGE] == "error_message"


def test_the_error_after_a_bad_bonus_lines_restated_draw_is_the_bonus_error(lotto_tokenizer):
    run = rules.play(["3000", "1,2,3,4,5,6", "x", "7"], tickets=[(1, 2, 3, 4, 5, 6)] * 3)
    assert _categories(run, lotto_tokenizer)[rules.Msg.BONUS_NOT_NUMBER] == "bonus_error"


def test_the_flag_right_after_a_typed_bonus_is_the_bonus_check(lotto_tokenizer):
    run = rules.play(["3000", "1,2,3,4,5,6", "3", "7"], tickets=[(3, 8, 9, 10, 11, 12)] * 3)
    cats = _categories(run, lotto_tokenizer)
    assert cats[flag_token(HIT, 3)] == "flag"  # the ticket's 3 (the last occurrence): a match line's flag
    assert cats["<+7>"] == "bonus_check"
    segments_text = transcript.to_text(run)
    assert "<b3><o3>[ERROR]" in segments_text and "<b7><+7>\n" in segments_text


def test_the_answer_after_a_typed_winning_number_on_the_check_line_is_the_winning_check(lotto_tokenizer):
    run = rules.play(["3000", "7,8,9,9,10,11", "1,2,3,4,5,6", "40"], tickets=[(20, 21, 22, 23, 24, 25)] * 3)
    cats = _categories(run, lotto_tokenizer)
    assert "<b9><d9><b9><o9>[ERROR]" in transcript.to_text(run)
    assert cats[flag_token(HIT, 9)] == cats["<d9>"] == "winning_check"  # the repeat's flag, the first 9 written
    assert cats["<b9>"] == "draw"  # the typed number fetched
    assert cats["<+40>"] == "bonus_check"


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


def test_a_perfect_model_reads_every_ticket_count_right(lotto_tokenizer):
    report = ticket_counts(ScriptedModel(len(lotto_tokenizer)), lotto_tokenizer)
    assert report == {"up_to_20": {"right": 20, "of": 20}, "above_20": {"right": 80, "of": 80}, "wrong": {}}


def test_a_count_read_from_one_digit_is_named_with_its_amount(lotto_tokenizer):
    vocab = lotto_tokenizer.get_vocab()
    twenty_as_two = ScriptedModel(len(lotto_tokenizer), {vocab["20"]: vocab["2"]})
    report = ticket_counts(twenty_as_two, lotto_tokenizer, amounts=[2_000, 20_000, 45_000])
    assert report["wrong"] == {20_000: "'20' -> '2'"}
    assert report["up_to_20"] == {"right": 1, "of": 2} and report["above_20"] == {"right": 1, "of": 1}


def test_a_wrong_ticket_index_after_a_right_count_is_a_wrong_count(lotto_tokenizer):
    vocab = lotto_tokenizer.get_vocab()
    report = ticket_counts(ScriptedModel(len(lotto_tokenizer), {vocab["<t45>"]: vocab["<t44>"]}), lotto_tokenizer,
                           amounts=[45_000])
    assert report["wrong"] == {45_000: "'<t45>' -> '<t44>'"}


# ---------------------------------------------------------------- first wrong line (end to end)


def _spec_text(spec_run):
    return transcript.to_text(spec_run)


def test_a_right_transcript_has_no_wrong_line(spec_run):
    assert first_wrong_line(_spec_text(spec_run), SPEC_LINES) is None


def test_the_models_own_tickets_are_the_reference(spec_run):
    """Tickets are the model's to choose: other tickets, with every work line right for them, are right."""
    other = rules.play(SPEC_LINES, tickets=[(n, n + 1, n + 2, n + 3, n + 4, n + 5) for n in range(10, 18)])
    assert first_wrong_line(transcript.to_text(other), SPEC_LINES) is None


def test_a_wrong_flag_is_named_with_its_line(spec_run):
    text = _spec_text(spec_run).replace("<o1><o3><o5>", "<o1><x3><o5>")
    found = first_wrong_line(text, SPEC_LINES)
    assert found["kind"] == "match line: flag"
    assert "<o3>" in found["expected"] and "<x3>" in found["got"]


def test_a_miscopied_ticket_number_is_a_copy_error(spec_run):
    text = _spec_text(spec_run).replace("<t1>[1, 3, 5, 14, 22, 45<", "<t1>[1, 3, 5, 15, 22, 45<")
    assert first_wrong_line(text, SPEC_LINES)["kind"] == "match line: copy"


def test_a_wrong_restated_draw_is_named(spec_run):
    text = _spec_text(spec_run).replace("<b6><d6>\n<d1><d2><d3>", "<b6><d6>\n<d1><d3><d3>")
    assert first_wrong_line(text, SPEC_LINES)["kind"] == "draw restated"


def test_a_bad_line_taken_as_good_is_an_error_message_line():
    typed = ["8000j", "8000", "1,2,3,4,5,6", "7"]
    right = transcript.to_text(rules.play(typed, tickets=None, seed=3))
    wrong = right.replace(rules.Msg.MONEY_NOT_NUMBER + "\n", rules.Msg.MONEY_UNIT + "\n", 1)
    assert first_wrong_line(wrong, typed)["kind"] == "error message"


def test_a_typed_line_as_a_folding_tokenizer_decodes_it_is_not_a_wrong_line():
    typed = ["8000가", "8000", "1,2,3,4,5,6", "7"]
    right = transcript.to_text(rules.play(typed, tickets=None, seed=3))
    assert first_wrong_line(right.replace("8000가", "8000\ufffd"), typed) is None


def test_a_text_that_stops_short_stopped_early(spec_run):
    text = _spec_text(spec_run)
    assert first_wrong_line(text[: text.index("당첨 통계")], SPEC_LINES)["kind"] == "stopped early"


def test_first_wrong_lines_counts_only_failed_sessions(spec_run):
    good = {"verdict": {"ok": True}, "text": _spec_text(spec_run), "reference": {"lines": SPEC_LINES}}
    bad = dict(good, verdict={"ok": False}, text=_spec_text(spec_run).replace("<c3><#1>", "<c2><#1>"))
    assert first_wrong_lines([good, bad, bad]) == {"match line: count": 2}


def test_sessions_flag_with_a_missing_file_is_a_usage_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--sessions", str(tmp_path / "nothing.jsonl")])
    assert exc.value.code == 2
    assert "not a readable sessions" in capsys.readouterr().err


def test_a_right_text_without_work_lines_has_no_wrong_line_when_judged_without_them():
    run = rules.play(SPEC_LINES, seed=3)
    bare = "".join(s.text for s in transcript.encode(run, work=False))
    assert first_wrong_line(bare, SPEC_LINES, work=False) is None
    assert first_wrong_line(bare, SPEC_LINES)["kind"] == "draw checked"  # judged as a work-line model


def test_a_draw_line_that_ends_in_an_error_is_a_duplicate_check():
    assert line_kind("<b1><d1><b2><d2><b3><d3><b3><o3>[ERROR] 당첨 번호는 중복될 수 없습니다.", "<in>1,2,3,3,5,6") == "duplicate check"
    assert line_kind("<d1><d2><d3><d4><d5><d6>", "<in>1,2,3,4,5,6") == "draw restated"


def test_a_wrong_flag_on_an_accepted_bonus_line_is_a_bonus_line_error():
    assert line_kind("<d1><d2><d3><d4><d5><d6><b7><+7>", "<in>7") == "bonus line"
    assert line_kind("<d1><d2><d3><d4><d5><d6><b7><o7>[ERROR] 보너스 번호는 당첨 번호와 중복될 수 없습니다.", "<in>7") \
        == "duplicate check"


def test_a_restated_draw_that_ends_in_an_error_without_a_flag_is_a_bonus_error():
    assert line_kind("<d1><d2><d3><d4><d5><d6>[ERROR] 보너스 번호는 숫자여야 합니다.", "<in>x") == "bonus error"


def test_a_dataset_of_another_data_version_is_a_usage_error_not_scored(tmp_path, capsys):
    from conftest import save_tiny_model
    from datasets import Dataset, DatasetDict
    save_tiny_model(tmp_path / "model")
    DatasetDict({"validation": Dataset.from_dict({"text": ["x"]})}).save_to_disk(str(tmp_path / "data"))
    (tmp_path / "data" / "build_info.json").write_text('{"data_version": 1}')
    with pytest.raises(SystemExit) as exc:
        main(["--model", str(tmp_path / "model"), "--dataset_dir", str(tmp_path / "data")])
    assert exc.value.code == 2
    assert "built with data version 1" in capsys.readouterr().err
