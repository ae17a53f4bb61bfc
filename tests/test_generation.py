"""The console machine (lotto_gpt.generation): its pieces, then whole plays with a perfect model.

`OracleLM` is a stand-in for a perfectly trained model: a `PreTrainedModel` whose next-token
distribution is the rule engine's. Outside ticket lines it puts all mass on the program's next
token; inside a ticket line it gives the exact conditional law of a uniform ticket printed in
ascending order (P(next = x | k numbers so far) ~ C(45 - x, 5 - k) for x above the last one).
It runs through the real `generate()`, so the machine, the judge and eval.py can be checked
end to end: a perfect model must score 100%.
"""
from __future__ import annotations

import math
import random
import re

import pytest
import torch
from torch import nn
from transformers import GenerationMixin, PretrainedConfig, PreTrainedModel
from transformers.modeling_outputs import CausalLMOutputWithPast

from lotto_gpt import judge, rules
from lotto_gpt.formats import seed as seed_fmt
from lotto_gpt.formats import transcript
from lotto_gpt.generation import LottoMachine, Play, Session, StopAtTokens, TicketLineProcessor, _Vocab, ticket_block
from lotto_gpt.tokenizer import build_tokenizer

SPEC_TICKETS = [
    (8, 21, 23, 41, 42, 43), (3, 5, 11, 16, 32, 38), (7, 11, 16, 35, 36, 44), (1, 8, 11, 31, 41, 42),
    (13, 14, 16, 38, 42, 45), (7, 11, 30, 40, 42, 43), (2, 13, 22, 32, 38, 45), (1, 3, 5, 14, 22, 45),
]
SPEC_LINES = ["8000", "1,2,3,4,5,6", "7"]
LONG = "가" * 65


# ---------------------------------------------------------------- the perfect model

class OracleConfig(PretrainedConfig):
    model_type = "lotto_oracle"

    def __init__(self, fmt: str = "transcript", **kwargs):
        kwargs.setdefault("num_hidden_layers", 1)
        kwargs.setdefault("num_attention_heads", 1)
        kwargs.setdefault("hidden_size", 8)
        super().__init__(**kwargs)
        self.lotto_format = fmt
        self.max_position_embeddings = 4096


_T_DONE = re.compile(r"<t\d+>(\[[^\]]*\])$")
_S_DONE = re.compile(r"(\[[\d,]*\])$")
_S_DONE_LINE = re.compile(r"^\[[\d,]*\]$", re.M)
# the text so far ends inside the ticket block, in an open ticket line: group 1 is that line
_T_OPEN = re.compile(r"(?s).*\d+개를 구매했습니다\.\n(?:<t\d+>\[[\d, ]*\]\n)*<t\d+>((?:\[\d+)?(?:, \d+)*)")
_S_OPEN = re.compile(r"(?s).*구매번호:\n(?:\[[\d,]*\]\n)*((?:\[\d+(?:,\d+)*)?)")


class OracleLM(PreTrainedModel, GenerationMixin):
    """The rule engine as a causal LM (for tests). `corrupt(text) -> text` makes a flawed one."""

    config_class = OracleConfig

    def __init__(self, config, tokenizer=None, corrupt=None):
        super().__init__(config)
        self.dummy = nn.Parameter(torch.zeros(1))
        self.tok, self.fmt, self.corrupt = tokenizer, config.lotto_format, corrupt
        self.vocab = tokenizer.get_vocab()

    def prepare_inputs_for_generation(self, input_ids, attention_mask=None, **kwargs):
        return {"input_ids": input_ids, "attention_mask": attention_mask}  # no cache: full rows

    def _program_text(self, text: str) -> str:
        lines = text.split("\n")
        if self.fmt == "seed":
            m = re.search(r"구입금액=(.*)\n당첨번호=(.*)\n보너스번호=(.*)\n", text)
            typed = list(m.groups())
            printed = [tuple(map(int, m2.group(1)[1:-1].split(","))) for x in lines if (m2 := _S_DONE.fullmatch(x))]
        else:
            typed = [x[len(transcript.IN):] for x in lines[:-1] if x.startswith(transcript.IN)]
            printed = [transcript.parse_ticket(m2.group(1)) for x in lines if (m2 := _T_DONE.fullmatch(x))]
        run = rules.play(typed, seed=0)
        if run.money is not None:
            rng = random.Random(0)
            tickets = printed[: run.n_tickets]
            tickets += [rules.issue_ticket(rng) for _ in range(run.n_tickets - len(tickets))]
            run = rules.play(typed, tickets=tickets)
        out = (seed_fmt if self.fmt == "seed" else transcript).to_text(run)
        return self.corrupt(out) if self.corrupt else out

    def _ticket_scores(self, line: str, scores: torch.Tensor) -> None:
        """Uniform tickets, number by number, in the lotto tokenizer's tokens: `[N`, then
        `, N` (transcript) or `,N` (seed), then `]`."""
        numbers = [int(x) for x in re.findall(r"\d+", line)]
        k = len(numbers)
        if k == 6:
            scores[self.vocab["]"]] = 0.0
            return
        form = "[{}" if k == 0 else (", {}" if self.fmt == "transcript" else ",{}")
        for x in range((numbers[-1] + 1 if numbers else 1), 46):
            ways = math.comb(45 - x, 5 - k)
            if ways:
                scores[self.vocab[form.format(x)]] = math.log(ways)

    def _scores(self, ids: list[int]) -> torch.Tensor:
        scores = torch.full((len(self.tok),), -1e4)
        eos = self.tok.eos_token_id
        if ids[-1] == self.tok.pad_token_id:
            scores[eos] = 0
            return scores
        text = self.tok.decode(ids[1:] if ids[0] == self.tok.bos_token_id else ids, skip_special_tokens=False)
        m = (_S_OPEN if self.fmt == "seed" else _T_OPEN).fullmatch(text)
        if m is not None and self.fmt == "seed" and m.group(1) == "":  # a new line: another ticket?
            bought = re.search(r"티켓수=(\d+)", text)
            m = m if bought and len(_S_DONE_LINE.findall(text)) < int(bought.group(1)) else None
        if m is not None:
            self._ticket_scores(m.group(1), scores)
            return scores
        expected = self.tok(self._program_text(text))["input_ids"] + [eos]
        nxt = expected[len(ids)] if expected[: len(ids)] == ids and len(expected) > len(ids) else eos
        scores[nxt] = 0
        return scores

    def forward(self, input_ids=None, attention_mask=None, **kwargs):
        rows = []
        for r in range(input_ids.shape[0]):
            ids = input_ids[r].tolist()
            if attention_mask is not None:
                ids = [i for i, keep in zip(ids, attention_mask[r].tolist()) if keep]
            rows.append(self._scores(ids))
        return CausalLMOutputWithPast(logits=torch.stack(rows)[:, None, :])


def oracle_machine(fmt: str = "transcript", corrupt=None, **kwargs) -> LottoMachine:
    tok = build_tokenizer("lotto", seed_fmt if fmt == "seed" else transcript)
    model = OracleLM(OracleConfig(fmt=fmt), tok, corrupt=corrupt)
    return LottoMachine(model, tok, **kwargs)


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def tok():
    return build_tokenizer("lotto", transcript)


@pytest.fixture(scope="module")
def machine():
    return oracle_machine()


# ---------------------------------------------------------------- the logits processor

_VOCABS = {}


def _processor_for(tok, prefix: str, seed: int = 0, tickets=None, constrained=True, temperature=1.0):
    vocab = _VOCABS.setdefault(id(tok), _Vocab(tok, "transcript"))
    ids = tok(prefix)["input_ids"]
    play = Play(lines=[], seed=seed, fmt="transcript", ids=ids, generator=torch.Generator().manual_seed(seed))
    if tickets is not None:
        play.force_ids = tok(ticket_block("transcript", tickets), add_special_tokens=False)["input_ids"]
        play.force_state = "pending"
    return TicketLineProcessor(vocab, [play], constrained, temperature), play, ids


def _step(proc, ids, scores):
    """One decoding step: returns the chosen token id and appends it."""
    out = proc(torch.tensor([ids]), scores[None, :].clone())
    assert torch.isfinite(out).sum() == 1  # one-hot: exactly one token left
    tok_id = int(out.argmax())
    ids.append(tok_id)
    return tok_id


def test_vocab_probe_finds_the_lotto_tokenizer_constrainable(tok):
    v = _Vocab(tok, "transcript")
    assert v.constrained and v.in_id == tok.convert_tokens_to_ids("<in>")
    assert v.stop_ids == {tok.eos_token_id, v.in_id}


def test_outside_ticket_lines_decoding_is_greedy(tok):
    proc, _, ids = _processor_for(tok, "구입금액을 입력해 주세요.\n")
    scores = torch.randn(len(tok))
    assert _step(proc, ids, scores) == int(scores.argmax())


BLOCK = "구입금액을 입력해 주세요.\n<in>1000\n\n1개를 구매했습니다.\n"  # a ticket block starts after it


def test_ticket_line_numbers_ascending_distinct_six_then_close(tok):
    proc, _, ids = _processor_for(tok, BLOCK + "<t1>")
    g = torch.Generator().manual_seed(0)
    for _ in range(7):  # six numbers (`[N`, then `, N`), then `]`
        _step(proc, ids, torch.randn(len(tok), generator=g) * 5)
    text = tok.decode(ids, skip_special_tokens=True)
    line = text.split("\n")[-1]
    ticket = transcript.parse_ticket(line[len("<t1>"):])
    assert ticket is not None and rules.is_valid_ticket(ticket), line
    # after `]` the processor is greedy again
    scores = torch.randn(len(tok))
    assert _step(proc, ids, scores) == int(scores.argmax())


def test_ticket_constraint_leaves_room_for_the_remaining_numbers(tok):
    """Each number leaves room for the rest: the first is at most 40, after 40 only 41 fits."""
    proc, _, _ = _processor_for(tok, BLOCK + "<t1>")
    first = lambda numbers: [tok.convert_tokens_to_ids(f"[{n}") for n in numbers]  # noqa: E731
    later = lambda numbers: [tok.convert_tokens_to_ids(f", {n}") for n in numbers]  # noqa: E731
    assert proc._allowed("") == first(range(1, 41))
    assert proc._allowed("[40") == later([41])
    assert proc._allowed("[3, 17") == later(range(18, 43))
    assert proc._allowed("[1, 2, 3, 4, 5, 45") == [tok.convert_tokens_to_ids("]")]


def test_work_lines_copying_a_ticket_are_greedy(tok):
    """After the draw, `<tK>[8, 21` is a work line: the copy is the model's, not sampled."""
    prefix = BLOCK + "<t1>[1, 2, 3, 4, 5, 6]\n\n당첨 번호를 입력해 주세요.\n<in>1,2,3,4,5,6\n<b1><d1><b2><d2><b3><d3><b4><d4><b5><d5><b6><d6>\n<d1><d2><d3><d4><d5><d6>\n\n"
    prefix += "보너스 번호를 입력해 주세요.\n<in>7\n<b7>\n<t1>"
    proc, _, ids = _processor_for(tok, prefix)
    scores = torch.randn(len(tok))
    assert _step(proc, ids, scores) == int(scores.argmax())


def test_ticket_block_ends_at_the_first_other_line(tok):
    proc, _, ids = _processor_for(tok, BLOCK + "<t1>[1, 2, 3, 4, 5, 6]\n\n<t1>")
    scores = torch.randn(len(tok))
    assert _step(proc, ids, scores) == int(scores.argmax())


def test_ticket_sampling_follows_the_model_distribution(tok):
    """Inside a ticket line the token is sampled at temperature 1 from the (masked) model scores."""
    counts = {}
    scores = torch.full((len(tok),), -1e4)
    scores[tok.convert_tokens_to_ids("[7")] = math.log(0.75)
    scores[tok.convert_tokens_to_ids("[9")] = math.log(0.25)
    for seed in range(200):
        proc, _, ids = _processor_for(tok, BLOCK + "<t1>", seed=seed)
        chosen = tok.convert_ids_to_tokens(_step(proc, ids, scores))
        counts[chosen] = counts.get(chosen, 0) + 1
    assert set(counts) == {"[7", "[9"}
    assert 0.65 < counts["[7"] / 200 < 0.85


def test_ticket_temperature_divides_the_ticket_scores(tok):
    """At temperature 0.5, scores of 0.75 / 0.25 are sampled as 0.9 / 0.1 (probabilities squared, renormalized)."""
    counts = {"[7": 0, "[9": 0}
    scores = torch.full((len(tok),), -1e4)
    scores[tok.convert_tokens_to_ids("[7")] = math.log(0.75)
    scores[tok.convert_tokens_to_ids("[9")] = math.log(0.25)
    for seed in range(400):
        proc, _, ids = _processor_for(tok, BLOCK + "<t1>", seed=seed, temperature=0.5)
        counts[tok.convert_ids_to_tokens(_step(proc, ids, scores))] += 1
    assert 0.85 < counts["[7"] / 400 < 0.95


@pytest.mark.parametrize("bad", [0, -1.0, float("nan"), float("inf"), "hot"])
def test_a_ticket_temperature_that_is_not_positive_is_refused(bad):
    with pytest.raises(ValueError, match="ticket_temperature"):
        oracle_machine(ticket_temperature=bad)


def test_ticket_sampling_is_seeded_per_play(tok):
    def draw(seed):
        proc, _, ids = _processor_for(tok, BLOCK + "<t1>", seed=seed)
        g = torch.Generator().manual_seed(123)
        for _ in range(6):
            _step(proc, ids, torch.randn(len(tok), generator=g))
        return ids

    assert draw(5) == draw(5)
    assert draw(5) != draw(6)


def test_unconstrained_ticket_lines_are_sampled_freely(tok):
    proc, _, ids = _processor_for(tok, BLOCK + "<t1>", constrained=False)
    scores = torch.full((len(tok),), -1e4)
    scores[tok.convert_tokens_to_ids("a")] = 0.0  # not a number: only the constrained mode forbids it
    assert _step(proc, ids, scores) == tok.convert_tokens_to_ids("a")


def test_given_tickets_are_forced_after_the_bought_line(tok):
    tickets = SPEC_TICKETS[:2]
    proc, play, ids = _processor_for(tok, "구입금액을 입력해 주세요.\n<in>2000\n\n2개를 구매했습니다.", tickets=tickets)
    assert play.force_state == "pending"
    newline = tok.convert_tokens_to_ids("\n")
    scores = torch.zeros(len(tok))
    scores[newline] = 10.0  # the model wants newlines; the block is forced regardless
    _step(proc, ids, scores)  # the newline ending the bought line (greedy)
    for _ in range(len(play.force_ids)):
        _step(proc, ids, torch.randn(len(tok)))
        assert play.force_state == "active"
    tail = tok.decode(ids, skip_special_tokens=True).split("2개를 구매했습니다.\n", 1)[1]
    assert tail == "<t2>[8, 21, 23, 41, 42, 43]\n<t1>[3, 5, 11, 16, 32, 38]\n"
    assert _step(proc, ids, scores) == newline  # free again
    assert play.force_state == "done"


def test_stop_criterion_stops_rows_at_in_eos_or_their_limit(tok):
    in_id, eos = tok.convert_tokens_to_ids("<in>"), tok.eos_token_id
    crit = StopAtTokens({in_id, eos}, prompt_width=2, limits=[5, 1, 5])
    ids = torch.tensor([[1, 5, in_id], [1, 5, 7], [1, 5, 7]])
    assert crit(ids, None).tolist() == [True, True, False]


# ---------------------------------------------------------------- whole plays, perfect model

def test_perfect_model_plays_the_spec_run_with_given_tickets(machine):
    play = machine.play(SPEC_LINES, tickets=SPEC_TICKETS)
    expected = rules.play(SPEC_LINES, tickets=SPEC_TICKETS)
    assert play.stdout == rules.console_text(expected)
    assert play.text == transcript.to_text(expected)
    assert play.tickets == SPEC_TICKETS
    assert play.counts == {"3": 1, "4": 0, "5": 0, "5b": 0, "6": 0}
    assert play.prize_total == 5000 and play.return_rate == "62.5%"
    assert play.complete and play.stop == "eos" and play.errors == []
    assert play.force_state == "done"


def test_long_lines_are_answered_by_the_shell_not_shown_to_the_model(machine):
    lines = [LONG, "abc", "2000", "1,2,3,4,5,6", "x" * 80, "y" * 70, "7"]
    play = machine.play(lines, tickets=SPEC_TICKETS[:2])
    assert LONG not in play.text and "x" * 80 not in play.text
    assert play.stdout == rules.console_text(rules.play(lines, tickets=SPEC_TICKETS[:2]))
    assert play.errors.count(rules.Msg.LINE_TOO_LONG) == 3
    assert play.errors[1] == rules.Msg.MONEY_NOT_NUMBER
    assert play.complete


def test_lines_running_out_end_the_play_after_the_prompt(machine):
    lines = ["3000", "1,2,3", LONG]
    play = machine.play(lines, seed=4)
    assert play.stop == "input" and play.waiting and not play.complete
    assert play.text.endswith("<in>1,2,3\n" + rules.Msg.WINNING_COUNT + "\n" + rules.Msg.ASK_WINNING + "\n<in>")
    replay = rules.play(lines, tickets=[t for t in play.tickets])
    assert play.stdout == rules.console_text(replay)
    assert play.stdout.endswith(rules.Msg.LINE_TOO_LONG + "\n" + rules.Msg.ASK_WINNING + "\n")


def test_the_models_own_generation_config_cannot_change_the_tokens():
    """A saved min_new_tokens (the EOS trap) or repetition penalty must not reach the machine."""
    from transformers import GenerationConfig

    m = oracle_machine()
    m.model.generation_config = GenerationConfig(min_new_tokens=500, repetition_penalty=5.0, no_repeat_ngram_size=2,
                                                 suppress_tokens=[m.vocab.eos, m.vocab.in_id], do_sample=True)
    play = m.play(SPEC_LINES, tickets=SPEC_TICKETS)
    assert play.complete and play.stdout == rules.console_text(rules.play(SPEC_LINES, tickets=SPEC_TICKETS))
    assert m.model.generation_config.min_new_tokens == 500  # given back afterwards


def test_given_tickets_must_match_the_money(machine):
    with pytest.raises(ValueError):
        machine.play(SPEC_LINES, tickets=SPEC_TICKETS[:3])
    with pytest.raises(ValueError):
        machine.play(["1000"], tickets=[(1, 1, 2, 3, 4, 5)])


def test_tickets_do_not_depend_on_the_batch(machine):
    sessions = [Session(["3000", "1,2,3,4,5,6", "7"], seed=s) for s in (11, 12, 13)]
    alone = machine.play_many(sessions[1:2], batch_size=1)[0]
    together = machine.play_many(sessions, batch_size=3)
    assert together[1].tickets == alone.tickets
    assert together[0].tickets != together[1].tickets
    for play in together:
        verdict = judge.judge(play.text, judge.make_reference(play.lines))
        assert verdict.ok and verdict.exact, verdict


def test_many_random_sessions_score_100_percent(machine):
    rng = random.Random(7)
    sessions = []
    for i in range(12):
        money = [random.choice(["", "12a", "-1000", "500", LONG])] if i % 3 == 0 else []
        winning = rng.sample(range(1, 46), 6)
        bonus = rng.choice([x for x in range(1, 46) if x not in winning])
        extra = ["1,2,3,4,5,6,7"] if i % 4 == 0 else []
        lines = money + [str(rng.randint(1, 4) * 1000)] + extra + [",".join(map(str, winning)), str(bonus)]
        sessions.append(Session(lines, seed=i))
    plays = machine.play_many(sessions, batch_size=5)
    verdicts = [judge.judge(p.text, judge.make_reference(p.lines)) for p in plays]
    summary = judge.summarize(verdicts)
    assert summary["n_ok"] == 12 and summary["n_exact_console"] == 12, [v for v in verdicts if not v.ok]
    for p in plays:
        assert p.stdout == rules.console_text(rules.play(p.lines, tickets=p.tickets))


def test_resume_and_interactive_use(machine):
    plays = machine.play_many([Session(["2000"], seed=1), Session(["0"], seed=2)])
    assert all(p.waiting for p in plays)
    machine.resume_many(plays, [["1,2,3,4,5,6", "7"], ["1000", "1,2,3,4,5,6", "7"]])
    assert all(p.complete for p in plays)

    play = machine.start(seed=3)
    assert play.stdout == rules.Msg.ASK_MONEY + "\n"
    out = machine.send(play, "1000j")
    assert out == rules.Msg.MONEY_NOT_NUMBER + "\n" + rules.Msg.ASK_MONEY + "\n"
    out = machine.send(play, "1000")
    assert out.startswith("\n1개를 구매했습니다.\n[") and out.endswith(rules.Msg.ASK_WINNING + "\n")
    machine.send(play, "1,2,3,4,5,6")
    out = machine.send(play, "7")
    assert out.endswith("입니다.\n") and play.complete


def test_seed_format_play(tmp_path):
    m = oracle_machine("seed")
    play = m.play(["5000", "1,2,3,4,5,6", "7"], seed=3)
    assert play.stop == "eos" and play.complete
    assert play.stdout.startswith("<OUT>\n티켓수=5\n") and play.stdout.endswith("</OUT>")
    verdict = judge.judge(play.text, judge.make_reference(money=5000, winning=[1, 2, 3, 4, 5, 6], bonus=7, fmt="seed"))
    assert verdict.ok and verdict.exact
    forced = m.play(["2000", "1,2,3,4,5,6", "7"], tickets=SPEC_TICKETS[:2])
    assert forced.tickets == SPEC_TICKETS[:2]
    with pytest.raises(ValueError):
        m.play(["abc", "1000", "1,2,3,4,5,6", "7"])


def test_runaway_model_is_cut_at_its_turn_budget(machine):
    loop = oracle_machine(corrupt=lambda text: text + "3개 일치 (5,000원) - 0개\n" * 200)
    play = loop.play(["1000", "1,2,3,4,5,6", "7"], seed=0)
    assert play.stop == "length" and not play.complete
    verdict = judge.judge(play.text, judge.make_reference(play.lines))
    assert not verdict.ok and verdict.no_end
    fixed = oracle_machine(max_new_tokens=40, budget="fixed")
    assert fixed._turn_budget(fixed.new_play(Session(["1000"]))) == 40


# ---------------------------------------------------------------- a real (tiny, random) model

def test_tiny_random_model_runs_and_keeps_ticket_syntax(tok):
    from lotto_gpt.modeling import ModelArguments, build_model

    model = build_model(ModelArguments(n_layer=1, n_embd=32, n_head=2), tok)
    m = LottoMachine(model, tok, max_new_tokens=24)
    plays = m.play_many([Session(["1000", "1,2,3,4,5,6", "7"], seed=i) for i in range(3)], batch_size=2)
    assert all(p.stop in ("input", "eos", "length") for p in plays)
    assert all(p.n_generated > 0 for p in plays)
    # drive a play into a ticket line: whatever the random model wants, the line is a ticket
    play = m.new_play(Session([]))
    play.ids = tok("구입금액을 입력해 주세요.\n<in>1000\n\n1개를 구매했습니다.\n<t1>")["input_ids"]
    m._turn([play])
    line = play.text.split("\n")[4]
    ticket = transcript.parse_ticket(line[len("<t1>"): line.index("]") + 1])  # after `]` it is free again
    assert ticket is not None and rules.is_valid_ticket(ticket), line


def test_token_bytes_read_any_tokenizer_exactly(tok):
    """Line tracking reads bytes: Korean split over byte-fallback or byte-level tokens is exact."""
    from lotto_gpt.generation import _token_bytes
    from lotto_gpt.tokenizer import build_byte_bpe_tokenizer

    run = rules.play(SPEC_LINES, tickets=SPEC_TICKETS)
    texts = [seed_fmt.to_text(run), transcript.to_text(run)]
    byte_bpe = build_byte_bpe_tokenizer(texts * 5, vocab_size=400)
    for tokenizer in (build_tokenizer("lotto", seed_fmt), tok, byte_bpe):
        table = _token_bytes(tokenizer)
        for text in texts:
            ids = tokenizer(text, add_special_tokens=False)["input_ids"]
            assert b"".join(table[i] for i in ids) == text.encode("utf-8")


def test_seed_format_with_a_byte_level_tokenizer_runs():
    from lotto_gpt.modeling import ModelArguments, build_model
    from lotto_gpt.tokenizer import build_byte_bpe_tokenizer

    run = rules.play(SPEC_LINES, tickets=SPEC_TICKETS)
    tokenizer = build_byte_bpe_tokenizer([seed_fmt.to_text(run)] * 5, vocab_size=400)
    model = build_model(ModelArguments(arch="gpt2", n_layer=1, n_embd=32, n_head=2, init_number_families=False), tokenizer)
    m = LottoMachine(model, tokenizer, fmt="seed", max_new_tokens=30)
    assert not m.vocab.constrained  # numbers are not single tokens: ticket lines are sampled freely
    play = m.play(SPEC_LINES, seed=1)
    assert play.stop in ("eos", "length") and play.text.startswith("<IN>\n구입금액=8000\n")
    assert judge.judge(play.text, judge.make_reference(SPEC_LINES, "seed")).ok is False


@pytest.mark.parametrize("arch", ["llama", "smollm3", "stablelm", "gpt2"])
def test_left_padding_gives_the_same_tokens_as_one_play_at_a_time(tok, arch):
    """Plays of different lengths batched together write what each writes alone."""
    from lotto_gpt.modeling import ModelArguments, build_model

    model = build_model(ModelArguments(arch=arch, n_layer=2, n_embd=64, n_head=2), tok, seed=3)
    m = LottoMachine(model, tok, max_new_tokens=40, budget="fixed")
    prompts = ["구입금액을 입력해 주세요.\n<in>", "구입금액을 입력해 주세요.\n<in>8000\n\n8개를 구매했습니다.\n<t8>[",
               "구입금액을 입력해 주세요.\n<in>abc\n", "<t1>[3, "]

    def run(batch_size):
        plays = [m.new_play(Session([], seed=i)) for i in range(len(prompts))]
        for play, prompt in zip(plays, prompts):
            play.ids = tok(prompt)["input_ids"]
        for i in range(0, len(plays), batch_size):
            m._turn(plays[i:i + batch_size])
        return [play.ids for play in plays]

    assert run(1) == run(4)
