"""The tokenizers: the designed `lotto` one (default), the trained `byte_bpe` baseline, `gpt2`.

The lotto tokenizer must be lossless on anything a user can type, keep each lotto number one
token, keep amounts digit by digit, make every program text and work token one token, and
never let a token straddle two spans of different Kind (the loss weights are per span).
"""
from __future__ import annotations

import bisect
import random
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from transformers import AutoTokenizer

from conftest import SPEC_LINES, SPEC_TICKETS, clean_run
from lotto_gpt import data, rules
from lotto_gpt.formats import seed, transcript
from lotto_gpt.rules import Msg
from lotto_gpt.tokenizer import (BOS, OTHER, build_tokenizer, fused_number_tokens, next_number_tokens, number_tokens,
                                 typed_separators)


def encode(tok, text: str) -> list[int]:
    return tok(text, add_special_tokens=False)["input_ids"]


def tokens(tok, text: str) -> list[str]:
    return tok.convert_ids_to_tokens(encode(tok, text))


def digit_tokens(tok, text: str) -> list[str]:
    """The digits of each token that holds digits (`[8` and `, 21` hold 8 and 21)."""
    return [t.lstrip("[, ") for t in tokens(tok, text) if any(c.isdigit() for c in t)]


# ================================================================ lossless on anything typed

ODD_CHARS = ["\x00", "\x07", "\t", "\r", "\x7f", "😀", "👍🏽", "가", "한국어", "٣", "０", "\u200b", "\ufeff", "<s>", "</s>", "<in>", "<t1>", "[", ", "]
typed_text = st.one_of(
    st.text(max_size=80),
    st.lists(st.sampled_from(ODD_CHARS + list("0123456789 ,.-")), max_size=40).map("".join),
    st.text(min_size=64, max_size=70),
)


@settings(max_examples=600)
@given(typed_text)
def test_lotto_round_trip_and_no_unknown_token(lotto_tokenizer, text):
    ids = encode(lotto_tokenizer, text)
    assert lotto_tokenizer.decode(ids) == text
    assert lotto_tokenizer.unk_token_id is None or lotto_tokenizer.unk_token_id not in ids
    assert all(0 <= i < len(lotto_tokenizer) for i in ids)


@pytest.mark.parametrize("text", ["", "\x00", "가나다", "😀" * 3, "\x00" * 64, "a" * 65, "\t\r\x0b\x0c", "1000j", " 1 , 2,3,4,5,6 "])
def test_lotto_round_trip_examples(lotto_tokenizer, text):
    assert lotto_tokenizer.decode(encode(lotto_tokenizer, text)) == text


def test_lotto_round_trip_of_random_transcripts(lotto_tokenizer, many_runs):
    for run in many_runs:
        text = transcript.to_text(run)
        ids = lotto_tokenizer(text)["input_ids"]
        assert lotto_tokenizer.decode(ids[1:]) == text
        if "<s>" not in text and "</s>" not in text and "<pad>" not in text:
            assert lotto_tokenizer.decode(ids, skip_special_tokens=True) == text


def test_bos_is_prepended(lotto_tokenizer):
    ids = lotto_tokenizer("8000")["input_ids"]
    assert ids[0] == lotto_tokenizer.bos_token_id
    assert lotto_tokenizer.bos_token == BOS
    assert ids[1:] == encode(lotto_tokenizer, "8000")
    assert lotto_tokenizer("")["input_ids"] == [lotto_tokenizer.bos_token_id]


def test_special_tokens_are_distinct(lotto_tokenizer):
    ids = {lotto_tokenizer.bos_token_id, lotto_tokenizer.eos_token_id, lotto_tokenizer.pad_token_id}
    assert len(ids) == 3 and None not in ids


# ================================================================ numbers

def test_one_token_per_lotto_number_in_ticket_lines(lotto_tokenizer):
    rng = random.Random(1)
    tickets = [rules.issue_ticket(rng) for _ in range(300)] + [tuple(range(40, 46)), (1, 2, 3, 4, 5, 6)]
    for ticket in tickets:
        line = "<t7>" + rules.format_ticket(ticket) + "\n"
        first, *others = ticket
        assert tokens(lotto_tokenizer, line) == ["<t7>", f"[{first}"] + [f", {n}" for n in others] + ["]", "\n"]


def test_every_number_1_to_45_is_one_token(lotto_tokenizer):
    for n in range(1, 46):
        assert tokens(lotto_tokenizer, f"[{n}, 1, 2, 3, 4, {n}]")[::5] == [f"[{n}", f", {n}"]
        assert tokens(lotto_tokenizer, str(n)) == [str(n)]


@pytest.mark.parametrize("sep", [",", ", ", " ,", " , ", ",  "])
def test_one_token_per_typed_winning_number_with_or_without_spaces(lotto_tokenizer, sep):
    rng = random.Random(len(sep))
    for _ in range(100):
        numbers = rng.sample(range(1, 46), 6)
        zeros = ["0" * rng.choice([0, 0, 0, 1, 2]) for _ in numbers]
        line = " " * rng.randint(0, 2) + sep.join(z + str(n) for z, n in zip(zeros, numbers)) + " " * rng.randint(0, 2)
        expected = [t for z, n in zip(zeros, numbers) for t in ([z] if z else []) + [str(n)]]
        assert digit_tokens(lotto_tokenizer, line) == expected


def test_a_typed_comma_space_number_is_not_the_ticket_line_token(lotto_tokenizer):
    assert tokens(lotto_tokenizer, "<in>8, 21 , 23,41, 042 ,  43\n") == [
        "<in>", "8", ", ", "21", " ", ", ", "23", ",41", ", ", "0", "42", " ", ", ", " ", "43", "\n"]
    ticket_tokens = set(next_number_tokens())
    rng = random.Random(5)
    for _ in range(200):
        line = ", ".join(map(str, rng.sample(range(1, 46), 6)))
        assert not ticket_tokens & set(tokens(lotto_tokenizer, "<in>" + line + "\n"))
        assert len(ticket_tokens & set(tokens(lotto_tokenizer, "<t3>[" + line + "]\n"))) == 5


def test_leading_zeros_of_a_typed_number_are_their_own_token(lotto_tokenizer):
    assert tokens(lotto_tokenizer, "034,07, 0045") == ["0", "34", ",", "0", "7", ", ", "00", "45"]
    assert tokens(lotto_tokenizer, "1045") == ["1", "0", "4", "5"]  # inside an amount: digits


def test_work_line_copies_its_ticket_line_token_for_token(lotto_tokenizer, spec_run):
    n = len(spec_run.tickets)
    block = transcript.draw_block(spec_run)
    for k, (line, ticket) in enumerate(zip(transcript.match_lines(spec_run), spec_run.tickets)):
        source = tokens(lotto_tokenizer, transcript.ticket_index(n - k) + rules.format_ticket(ticket))
        assert line.startswith(block)
        copy = tokens(lotto_tokenizer, line[len(block):])
        assert copy[:7] == source[:7]  # index and six numbers; `]` is not copied


@pytest.mark.parametrize("amount", ["1000", "8000", "12000", "100000", "100001", "999"])
def test_amounts_are_single_digits(lotto_tokenizer, amount):
    assert tokens(lotto_tokenizer, amount) == list(amount)
    assert digit_tokens(lotto_tokenizer, "<in>" + amount + "\n") == list(amount)


@pytest.mark.parametrize("tenths", [625, 0, 313, 10_000_000, 2_000_000_000])
def test_rate_digits_are_single_digits(lotto_tokenizer, tenths):
    rate = rules.format_rate(tenths)
    line = rules.rate_line(tenths)
    assert digit_tokens(lotto_tokenizer, line) == [c for c in rate if c.isdigit()]


# ================================================================ program and work texts

def test_every_program_text_is_one_token(lotto_tokenizer):
    texts = transcript.program_vocabulary()
    assert set(Msg.ERRORS) <= set(texts)
    for text in texts:
        assert tokens(lotto_tokenizer, text) == [text]


def test_every_work_token_is_one_token(lotto_tokenizer):
    for text in transcript.work_vocabulary():
        assert tokens(lotto_tokenizer, text) == [text]


def test_program_texts_stay_whole_inside_a_transcript(lotto_tokenizer):
    run = rules.play(["1000j", "x" * 64, "8000", "1,2", "1,2,3,4,5,6", "1", "7"], tickets=SPEC_TICKETS)
    toks = tokens(lotto_tokenizer, transcript.to_text(run))
    for text in [Msg.ASK_MONEY, Msg.ASK_WINNING, Msg.ASK_BONUS, Msg.MONEY_NOT_NUMBER, Msg.WINNING_COUNT,
                 Msg.BONUS_DUPLICATE, Msg.BOUGHT_SUFFIX, Msg.STATS_HEADER, Msg.STATS_RULE,
                 Msg.RATE_PREFIX, Msg.RATE_SUFFIX, "3개 일치 (5,000원) - ", "<in>", "<d1>", "<b7>", "<c3>", "<#1>", "<n8>"]:
        assert text in toks, text


# ================================================================ Kind boundaries

def assert_no_token_straddles_a_segment(tok, segments):
    text = "".join(s.text for s in segments)
    ends, pos = [], 0
    for s in segments:
        pos += len(s.text)
        ends.append(pos)
    offsets = tok(text, return_offsets_mapping=True)["offset_mapping"]
    for start, end in offsets:
        if end == start:
            continue  # BOS
        i = bisect.bisect_right(ends, start)  # the segment holding the token's first char
        assert end <= ends[i], (text[start:end], segments[i])


def test_tokens_never_straddle_a_kind_boundary(lotto_tokenizer, many_runs):
    for run in many_runs:
        assert_no_token_straddles_a_segment(lotto_tokenizer, transcript.encode(run))


def test_tokens_never_straddle_a_kind_boundary_with_tricky_typed_lines(lotto_tokenizer):
    tricky = ["", "7", "1,", ", ", "<in", "in>", "<t", "[", "가", "😀", "\x00", "---", "개", "구입금액을 입력해 주세요", "5개 일치 (1,500,000원) - "]
    for line in tricky:
        for lines in ([line] + SPEC_LINES, ["8000", line, "1,2,3,4,5,6", line, "7"]):
            run = rules.play(lines, tickets=SPEC_TICKETS)
            assert_no_token_straddles_a_segment(lotto_tokenizer, transcript.encode(run))


def test_offsets_cover_the_text(lotto_tokenizer, spec_run):
    text = transcript.to_text(spec_run)
    offsets = [o for o in lotto_tokenizer(text, return_offsets_mapping=True)["offset_mapping"] if o[1] > o[0]]
    covered = "".join(text[a:b] for a, b in dict.fromkeys(offsets))
    assert covered == text


# ================================================================ save and load

def test_save_and_load_with_auto_tokenizer_gives_identical_ids(lotto_tokenizer, tmp_path, many_runs):
    lotto_tokenizer.save_pretrained(tmp_path)
    loaded = AutoTokenizer.from_pretrained(tmp_path)
    texts = [transcript.to_text(r) for r in many_runs[:40]] + ["", "가😀\x00", "<s>8000</s>", "1,2,3,4,5,6"]
    for text in texts:
        assert loaded(text)["input_ids"] == lotto_tokenizer(text)["input_ids"]
        assert loaded.decode(loaded(text)["input_ids"][1:]) == text
    assert (loaded.bos_token, loaded.eos_token, loaded.pad_token) == (lotto_tokenizer.bos_token, lotto_tokenizer.eos_token, lotto_tokenizer.pad_token)
    assert loaded.model_max_length == lotto_tokenizer.model_max_length
    assert len(loaded) == len(lotto_tokenizer)


def test_lotto_tokenizer_is_deterministic(lotto_tokenizer):
    again = build_tokenizer("lotto", transcript)
    assert again.get_vocab() == lotto_tokenizer.get_vocab()


# ================================================================ byte_bpe and gpt2

@pytest.fixture(scope="module")
def seed_corpus():
    rng = random.Random(5)
    return [seed.to_text(clean_run(rng, max_tickets=20)) for _ in range(200)]


@pytest.fixture(scope="module")
def byte_bpe(seed_corpus):
    return build_tokenizer("byte_bpe", seed, corpus=seed_corpus)


def test_byte_bpe_trains_and_round_trips(byte_bpe, seed_corpus):
    assert 256 < len(byte_bpe) <= 2000
    for text in seed_corpus[:50]:
        ids = encode(byte_bpe, text)
        assert byte_bpe.decode(ids) == text
    # trained merges: fewer tokens than bytes
    assert len(encode(byte_bpe, seed_corpus[0])) < 0.7 * len(seed_corpus[0].encode())


@settings(max_examples=300)
@given(typed_text)
def test_byte_bpe_round_trips_any_text(byte_bpe, text):
    assert byte_bpe.decode(encode(byte_bpe, text)) == text


def test_byte_bpe_save_and_load(byte_bpe, tmp_path, seed_corpus):
    byte_bpe.save_pretrained(tmp_path)
    loaded = AutoTokenizer.from_pretrained(tmp_path)
    for text in seed_corpus[:20]:
        assert loaded(text)["input_ids"] == byte_bpe(text)["input_ids"]


def test_gpt2_tokenizer_fails_clearly_offline(monkeypatch, tmp_path):
    import huggingface_hub.constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    try:
        build_tokenizer("gpt2", transcript)
    except OSError:
        return
    pytest.skip("gpt2 is in the local Hugging Face cache, so it loads offline")


def test_unknown_tokenizer_kind_raises():
    with pytest.raises(ValueError):
        build_tokenizer("sentencepiece", transcript)


def typed_winning_lines(variant: bool, n: int = 300):
    """`n` seeded (numbers, typed line) pairs, typed as the data and eval suite type them."""
    rng = random.Random(int(variant))
    for _ in range(n):
        numbers = rng.sample(range(1, 46), 6)
        yield numbers, data.type_numbers(numbers, rng, variant)


# ================================================================ lotto_stride (the typed-separator variant)

@pytest.fixture(scope="module")
def stride_tokenizer():
    return build_tokenizer("lotto_stride", transcript)


@pytest.mark.parametrize("variant", [False, True])
def test_stride_typed_numbers_alternate_with_one_separator_token(stride_tokenizer, variant):
    """Whatever the spacing and leading zeros, a typed line is [lead] N sep N ... sep N [" "]."""
    separators = set(typed_separators())
    for numbers, line in typed_winning_lines(variant):
        toks = tokens(stride_tokenizer, "<in>" + line + "\n")[1:-1]
        toks = toks[1:] if toks[0] in separators else toks
        toks = toks[:-1] if toks[-1] == " " else toks
        assert toks[::2] == [str(n) for n in numbers], line
        assert set(toks[1::2]) <= separators and len(toks) == 11, line


def test_stride_separators_are_one_token_and_never_ticket_tokens(stride_tokenizer):
    assert tokens(stride_tokenizer, "<in>8, 21 , 23,41, 042 , 43\n") == [
        "<in>", "8", ", ", "21", " , ", "23", ",", "41", ", 0", "42", " , ", "43", "\n"]
    assert tokens(stride_tokenizer, "034,07, 0045\n") == ["0", "34", ",0", "7", ", 00", "45", "\n"]
    assert tokens(stride_tokenizer, "<t3>[8, 21, 23]\n") == ["<t3>", "[8", ", 21", ", 23", "]", "\n"]


def test_stride_keeps_amounts_and_rates_digit_by_digit(stride_tokenizer):
    assert tokens(stride_tokenizer, "1045") == ["1", "0", "4", "5"]
    assert tokens(stride_tokenizer, "1,050.0%") == ["1", ",", "0", "5", "0", ".", "0", "%"]
    assert tokens(stride_tokenizer, "105000") == list("105000")


# ================================================================ lotto_fused (typed numbers carry their separators)

@pytest.fixture(scope="module")
def fused_tokenizer():
    return build_tokenizer("lotto_fused", transcript)


@pytest.mark.parametrize("variant", [False, True])
def test_fused_typed_line_is_one_token_per_number(fused_tokenizer, variant):
    """Whatever the spacing and leading zeros, the k-th number of a typed line is its k-th token."""
    for numbers, line in typed_winning_lines(variant):
        toks = tokens(fused_tokenizer, "<in>" + line + "\n")[1:-1]
        toks = toks[:-1] if toks[-1] == " " else toks  # a trailing space stays its own token
        assert [int(t.strip(" ,")) for t in toks] == numbers and len(toks) == 6, line


def test_fused_examples(fused_tokenizer):
    assert tokens(fused_tokenizer, "<in>9, 037 ,39 , 034,24 ,29\n") == [
        "<in>", "9,", " 037 ,", "39 ,", " 034,", "24 ,", "29", "\n"]
    assert tokens(fused_tokenizer, "<in>9,37,39,34,24,29\n") == ["<in>", "9,", "37,", "39,", "34,", "24,", "29", "\n"]
    assert tokens(fused_tokenizer, "<in>030\n") == ["<in>", "030", "\n"]


def test_fused_typed_tokens_are_never_ticket_tokens(fused_tokenizer):
    assert not set(fused_number_tokens()) & set(next_number_tokens())
    assert tokens(fused_tokenizer, "<t3>[8, 21, 23]\n") == ["<t3>", "[8", ", 21", ", 23", "]", "\n"]
    assert tokens(fused_tokenizer, "<in>8, 21, 23\n") == ["<in>", "8,", " 21,", " 23", "\n"]


def test_fused_keeps_amounts_rates_and_thousands_groups_as_lotto_does(fused_tokenizer, lotto_tokenizer):
    for text in ["1045", "1,050.0%", "105000", "5,000원", "40,002,100.0%", "50,037,625.0%", "12000", "1,000원"]:
        assert tokens(fused_tokenizer, text) == tokens(lotto_tokenizer, text), text


def test_fused_tokenizes_everything_but_typed_lines_as_lotto_does(fused_tokenizer, lotto_tokenizer):
    """Only what the user typed changes: program text, tickets and work lines are the same tokens."""
    def untyped(tok, text):
        typed = [m.span() for m in re.finditer(r"<in>[^\n]*\n", text)]
        enc = tok(text, return_offsets_mapping=True, add_special_tokens=False)
        return [tok.convert_ids_to_tokens(i) for i, (a, b) in zip(enc["input_ids"], enc["offset_mapping"])
                if not any(s <= a and b <= e for s, e in typed)]

    for i in range(60):
        text = data.make_row(i, "test", 0, data.DataConfig())["text"]
        assert untyped(fused_tokenizer, text) == untyped(lotto_tokenizer, text)


def test_fused_tokens_never_straddle_a_kind_boundary(fused_tokenizer, many_runs):
    for run in many_runs:
        assert_no_token_straddles_a_segment(fused_tokenizer, transcript.encode(run))
    for line in ["1,", " 7 ,", "07", ", 7", "1,,2", "9, 037 ,39 , 034,24 ,29 "]:
        run = rules.play(["8000", line, "1,2,3,4,5,6", line, "7"], tickets=SPEC_TICKETS)
        assert_no_token_straddles_a_segment(fused_tokenizer, transcript.encode(run))


def test_fused_number_tokens_start_from_their_numbers_embedding(fused_tokenizer):
    from lotto_gpt.modeling import ModelArguments, build_model

    model = build_model(ModelArguments(n_layer=1, n_embd=32, n_head=2, family_shift=0.1), fused_tokenizer)
    emb, vocab = model.get_input_embeddings().weight, fused_tokenizer.get_vocab()
    shift = emb[vocab[" 037 ,"]] - emb[vocab["37"]]
    assert (emb[vocab[" 05 ,"]] - emb[vocab["5"]]).allclose(shift, atol=1e-6)  # one offset per affix family
    assert not (emb[vocab["37,"]] - emb[vocab["37"]]).allclose(shift, atol=1e-6)  # another family, another offset


# ================================================================ lotto_thousands (a typed amount is its count, then 000)

@pytest.fixture(scope="module")
def thousands_tokenizer():
    return build_tokenizer("lotto_thousands", transcript)


@pytest.mark.parametrize("count", [1, 2, 9, 10, 19, 20, 45, 99])
def test_thousands_typed_money_is_the_ticket_count_token_then_000(thousands_tokenizer, count):
    run = rules.play([f"{count * 1000}", "1,2,3,4,5,6", "7"], seed=0)
    toks = tokens(thousands_tokenizer, transcript.to_text(run))
    typed = toks.index("<in>")
    assert toks[typed + 1:typed + 3] == [str(count), "000"]
    assert toks[toks.index(rules.Msg.BOUGHT_SUFFIX) - 1] == str(count)  # the count line copies it
    assert f"<t{count}>" in toks


def test_thousands_examples(thousands_tokenizer):
    assert tokens(thousands_tokenizer, "<in>012000 \n") == ["<in>", "0", "12", "000", " ", "\n"]
    assert tokens(thousands_tokenizer, "<in>100000\n") == ["<in>", "1", "0", "0", "000", "\n"]
    # not whole thousands, or not an amount alone: digit by digit, as lotto reads it
    for text in ["<in>15500\n", "<in>1,000\n", "<in>2000.5\n", "<in>000\n", "<in>8,12,000\n"]:
        assert "000" not in tokens(thousands_tokenizer, text), text


def test_thousands_tokenizes_everything_but_typed_lines_as_lotto_does(thousands_tokenizer, lotto_tokenizer):
    for i in range(60):
        text = data.make_row(i, "test", 0, data.DataConfig())["text"]
        untyped = re.sub(r"<in>[^\n]*\n", "<in>\n", text)
        assert tokens(thousands_tokenizer, untyped) == tokens(lotto_tokenizer, untyped)


# ================================================================ lotto_fused_thousands (both)

@pytest.fixture(scope="module")
def fused_thousands_tokenizer():
    return build_tokenizer("lotto_fused_thousands", transcript)


def _typed_lines(text: str) -> list[str]:
    return re.findall(r"<in>[^\n]*\n", text)


def test_fused_thousands_reads_typed_numbers_as_fused_and_typed_amounts_as_thousands(
        fused_thousands_tokenizer, fused_tokenizer, thousands_tokenizer):
    fused = set(fused_number_tokens()) | set(number_tokens())
    for i in range(60):
        text = data.make_row(i, "test", 0, data.DataConfig())["text"]
        for line in _typed_lines(text):
            both, thousands = tokens(fused_thousands_tokenizer, line), tokens(thousands_tokenizer, line)
            if "000" in thousands:
                assert both == thousands, line
            else:
                assert [t for t in both if t in fused] == [t for t in tokens(fused_tokenizer, line) if t in fused], line


def test_fused_thousands_examples(fused_thousands_tokenizer):
    assert tokens(fused_thousands_tokenizer, "<in>0022 , 037,034 ,6,0020, 44 \n") == [
        "<in>", "0022 ,", " 037,", "034 ,", "6,", "0020,", " 44", " ", "\n"]
    assert tokens(fused_thousands_tokenizer, "<in>012000 \n") == ["<in>", "0", "12", "000", " ", "\n"]
    assert tokens(fused_thousands_tokenizer, "<in>07\n") == ["<in>", "07", "\n"]
    assert tokens(fused_thousands_tokenizer, "<in>0\n") == ["<in>", "0", "\n"]


def test_fused_thousands_tokenizes_everything_but_typed_lines_as_thousands_does(fused_thousands_tokenizer,
                                                                                thousands_tokenizer):
    for i in range(60):
        text = data.make_row(i, "test", 0, data.DataConfig())["text"]
        untyped = re.sub(r"<in>[^\n]*\n", "<in>\n", text)
        assert tokens(fused_thousands_tokenizer, untyped) == tokens(thousands_tokenizer, untyped)


def test_fused_thousands_tokens_never_straddle_a_kind_boundary(fused_thousands_tokenizer, many_runs):
    for run in many_runs:
        assert_no_token_straddles_a_segment(fused_thousands_tokenizer, transcript.encode(run))


# ================================================================ fold_other (junk characters as one token)

@pytest.fixture(scope="module")
def folded_tokenizer():
    return build_tokenizer("lotto_thousands", transcript, fold_other=True)


def test_folded_junk_character_of_any_script_is_one_token(folded_tokenizer):
    for char in ["가", "ϫ", "８", "٣", "\u3000", "\t", "\x07", "\U00100090", "😀"]:
        assert tokens(folded_tokenizer, f"<in>1{char}000\n") == ["<in>", "1", OTHER, "0", "0", "0", "\n"], repr(char)


def test_folded_tokenizer_keeps_ascii_typed_text_and_every_program_text(folded_tokenizer, thousands_tokenizer):
    for i in range(60):
        text = data.make_row(i, "test", 0, data.DataConfig())["text"]
        ascii_typed = re.sub(r"<in>[^\n]*\n", lambda m: m[0] if m[0].isascii() else "<in>\n", text)
        assert tokens(folded_tokenizer, ascii_typed) == tokens(thousands_tokenizer, ascii_typed)


def test_folded_typed_lines_decode_with_their_junk_as_other(folded_tokenizer):
    text = "구입금액을 입력해 주세요.\n<in>８000가\n[ERROR] 구입 금액은 숫자여야 합니다.\n"
    assert folded_tokenizer.decode(encode(folded_tokenizer, text)) == text.replace("８", OTHER).replace("가", OTHER)


def test_folded_tokens_never_straddle_a_kind_boundary(folded_tokenizer):
    for line in ["가", "😀", "\x00", "1０00", "١,٢", "개", "구입금액을 입력해 주세요"]:
        for lines in ([line] + SPEC_LINES, ["8000", line, "1,2,3,4,5,6", line, "7"]):
            run = rules.play(lines, tickets=SPEC_TICKETS)
            assert_no_token_straddles_a_segment(folded_tokenizer, transcript.encode(run))


def test_folded_tokenizer_saves_and_loads_with_its_fold(folded_tokenizer, tmp_path):
    folded_tokenizer.save_pretrained(tmp_path)
    loaded = AutoTokenizer.from_pretrained(tmp_path)
    assert tokens(loaded, "<in>١٢,34\n") == ["<in>", OTHER, OTHER, ",34", "\n"]


def test_fold_other_is_refused_for_a_trained_tokenizer():
    with pytest.raises(ValueError, match="fold_other"):
        build_tokenizer("byte_bpe", transcript, ["a b c"], fold_other=True)


# ================================================================ every variant

@pytest.fixture(scope="module")
def variant_tokenizers(stride_tokenizer, fused_tokenizer, thousands_tokenizer):
    return {"lotto_stride": stride_tokenizer, "lotto_fused": fused_tokenizer, "lotto_thousands": thousands_tokenizer}


@pytest.mark.parametrize("kind", ["lotto_stride", "lotto_fused", "lotto_thousands"])
@settings(max_examples=300)
@given(text=typed_text)
def test_every_variant_round_trips_any_text_with_no_unknown_token(variant_tokenizers, kind, text):
    tok = variant_tokenizers[kind]
    assert tok.decode(encode(tok, text)) == text
