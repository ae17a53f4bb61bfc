"""The weighted loss: gradient accumulation is exact, the collator weighs tokens by kind,
the logs carry per-kind losses and evaluation reports `eval_loss`.

Everything runs the real `TailWeightedTrainer` on a 1-layer, 32-wide model (a few seconds).
"""
from __future__ import annotations

import copy
import functools
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from transformers import TrainingArguments

from lotto_gpt import rules
from lotto_gpt.data import KIND_IDS, PAD_KIND, DataConfig, build_dataset_dict, token_counts, tokenize_rows
from lotto_gpt.formats import Kind, transcript
from lotto_gpt.modeling import ModelArguments, build_model, fill_unseen_byte_embeddings, model_problems
from lotto_gpt.tokenizer import build_tokenizer
from lotto_gpt.trainer import LossArguments, TailWeightedTrainer, TimeLimit, WeightedCollator, run_progress, time_cosine

TINY = ModelArguments(n_layer=1, n_embd=32, n_head=2, n_positions=1024)
# money up to 10,000 keeps rows short (150..450 tokens) but of very different lengths
SHORT_ROWS = DataConfig(max_money=10_000, small_share=1.0, given_tickets_share=0.0)  # tickets learned: typed input is all


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def tok():
    return build_tokenizer("lotto", transcript)


@pytest.fixture(scope="module")
def data(tok):
    raw = build_dataset_dict({"train": 64, "validation": 12}, seed=0, cfg=SHORT_ROWS)
    tokenized = raw.map(tokenize_rows, batched=True, remove_columns=raw["train"].column_names,
                        fn_kwargs={"tokenizer": tok})
    return raw, tokenized


@pytest.fixture(scope="module")
def rows32(data):
    """32 rows sorted by length: the four micro-batches of 8 carry very different weight masses."""
    train = data[1]["train"]
    order = sorted(range(32), key=lambda i: train[i]["length"])
    return train.select(order)


def collator(tok, loss_args=None):
    return WeightedCollator(tok.pad_token_id, (loss_args or LossArguments()).by_kind_id())


def make_trainer(model, tok, tmp_path, train=None, eval_ds=None, loss_args=None, cls=TailWeightedTrainer,
                 **overrides):
    kwargs = dict(
        output_dir=str(tmp_path), use_cpu=True, report_to="none", remove_unused_columns=False,
        per_device_train_batch_size=8, per_device_eval_batch_size=16, save_strategy="no",
        disable_tqdm=True, dataloader_num_workers=0, seed=0, logging_steps=1,
        train_sampling_strategy="sequential",
    )
    kwargs.update(overrides)
    return cls(
        model=model, args=TrainingArguments(**kwargs), data_collator=collator(tok, loss_args),
        train_dataset=train, eval_dataset=eval_ds, processing_class=tok,
    )


def grads(model):
    return {n: p.grad.detach().clone() for n, p in model.named_parameters() if p.grad is not None}


# ---------------------------------------------------------------- (a) accumulation is exact

def test_one_step_at_32_equals_four_accumulated_micro_batches_of_8(tok, rows32, tmp_path):
    model = build_model(TINY, tok, seed=0)
    trainer = make_trainer(model, tok, tmp_path)
    model.train()
    collate = collator(tok)
    big = collate([rows32[i] for i in range(32)])
    micro = [collate([rows32[i] for i in range(k * 8, k * 8 + 8)]) for k in range(4)]
    device = torch.device("cpu")

    # one batch of 32
    mass = trainer._get_num_items_in_batch([big], device)
    loss_big = trainer.compute_loss(model, dict(big), num_items_in_batch=mass)
    loss_big.backward()
    g_big = grads(model)
    model.zero_grad()

    # four micro-batches of 8, normalised by the step's weight mass (what Trainer.train does)
    mass_micro = trainer._get_num_items_in_batch(micro, device)
    assert torch.allclose(mass_micro, mass)
    loss_acc = 0.0
    for batch in micro:
        loss = trainer.compute_loss(model, dict(batch), num_items_in_batch=mass_micro)
        loss.backward()
        loss_acc += loss.detach()
    g_acc = grads(model)
    model.zero_grad()

    assert abs(loss_acc.item() - loss_big.item()) < 1e-5
    assert g_big.keys() == g_acc.keys() and len(g_big) > 5
    for name in g_big:
        assert torch.allclose(g_acc[name], g_big[name], atol=1e-5, rtol=0), name

    # the test can fail: a per-micro-batch mean (averaged over the 4 steps) is a different loss
    masses = [b["loss_weights"][:, 1:].sum().item() for b in micro]
    assert max(masses) > 1.5 * min(masses)  # rows of different lengths and weights
    naive = 0.0
    for batch in micro:
        loss = trainer.compute_loss(model, dict(batch)) / 4  # mean of each micro-batch's mean
        loss.backward()
        naive += loss.detach()
    g_naive = grads(model)
    assert abs(naive.item() - loss_big.item()) > 1e-4  # 100x the float error allowed above
    assert max((g_naive[n] - g_big[n]).abs().max().item() for n in g_big) > 1e-4


def _one_sgd_step(tok, train, tmp_path, batch, accumulation, trainer_cls=TailWeightedTrainer):
    """Train one optimizer step with plain SGD at lr 1 (no clipping): the update is the gradient."""
    model = build_model(TINY, tok, seed=0)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    trainer = make_trainer(
        model, tok, tmp_path / f"{batch}x{accumulation}", train=train, per_device_train_batch_size=batch,
        gradient_accumulation_steps=accumulation, max_steps=1, optim="sgd", learning_rate=1.0,
        lr_scheduler_type="constant", weight_decay=0.0, max_grad_norm=0.0, warmup_steps=0, cls=trainer_cls,
    )
    trainer.train()
    step = {n: before[n] - p.detach() for n, p in model.named_parameters()}
    loss = next(h["loss"] for h in trainer.state.log_history if "loss" in h)
    return step, loss


def test_trainer_train_accumulation_matches_big_batch(tok, rows32, tmp_path):
    """The same through `Trainer.train` (training_step, accelerate's backward, the optimizer)."""
    step_big, loss_big = _one_sgd_step(tok, rows32, tmp_path, batch=32, accumulation=1)
    step_acc, loss_acc = _one_sgd_step(tok, rows32, tmp_path, batch=8, accumulation=4)
    assert abs(loss_big - loss_acc) < 1e-5
    for name in step_big:
        assert torch.allclose(step_acc[name], step_big[name], atol=1e-5, rtol=0), name
    assert max(s.abs().max().item() for s in step_big.values()) > 1e-3  # the step moved the weights

    class NaiveMean(TailWeightedTrainer):
        """A per-micro-batch mean: what a plain override of compute_loss would do."""

        def _get_num_items_in_batch(self, batch_samples, device):
            return None

    step_naive, loss_naive = _one_sgd_step(tok, rows32, tmp_path / "naive", batch=8, accumulation=4,
                                           trainer_cls=NaiveMean)
    # loss_is_scaled_for_ga=True: the four micro-batch means are summed, a 4x larger step
    assert abs(loss_naive - loss_big) > 1e-3
    assert max((step_naive[n] - step_big[n]).abs().max().item() for n in step_big) > 1e-3


# ---------------------------------------------------------------- (b) the collator

def test_collator_weights_by_kind_and_pads_with_zero_weight():
    loss_args = LossArguments(tail_weight=4.0, work_weight=3.0, ticket_weight=0.1, program_weight=1.0)
    collate = WeightedCollator(pad_token_id=7, weights=loss_args.by_kind_id())
    k = KIND_IDS
    features = [
        {"input_ids": [1, 10, 11, 12, 13, 14], "kind_ids": [k["input"], k["program"], k["input"], k["ticket"],
                                                           k["work"], k["tail"]]},
        {"input_ids": [1, 20, 21], "kind_ids": [k["input"], k["program"], k["tail"]]},
    ]
    batch = collate(features)
    assert batch["input_ids"].shape == (2, 6)
    assert batch["input_ids"][1].tolist() == [1, 20, 21, 7, 7, 7]
    assert batch["attention_mask"].tolist() == [[1] * 6, [1, 1, 1, 0, 0, 0]]
    assert batch["kind_ids"][1, 3:].tolist() == [PAD_KIND] * 3
    assert batch["loss_weights"].tolist() == [
        pytest.approx([0.0, 1.0, 0.0, 0.1, 3.0, 4.0]),
        pytest.approx([0.0, 1.0, 4.0, 0.0, 0.0, 0.0]),
    ]
    # the blog's setup: every row padded to a multiple of max_length
    padded = WeightedCollator(7, loss_args.by_kind_id(), pad_to_multiple_of=8)(features)
    assert padded["input_ids"].shape == (2, 8)
    assert padded["loss_weights"][:, 6:].abs().sum() == 0


@pytest.mark.parametrize("flag, tokens", [
    ("hit_weight", [f"<{kind}{n}>" for kind in "o+" for n in rules.NUMBERS]),  # the hit flags
    ("bonus_weight", [f"<b{n}>" for n in rules.NUMBERS]),  # the restated bonus
    ("error_weight", list(rules.Msg.ERRORS)),  # the program's answers to bad lines
])
def test_a_token_weight_multiplies_only_its_tokens(flag, tokens, tok, data):
    _, tokenized = data
    loss_args = LossArguments(**{flag: 3.0})
    plain = collator(tok, LossArguments())([tokenized["train"][i] for i in range(8)])
    weighted = WeightedCollator(tok.pad_token_id, loss_args.by_kind_id(),
                                token_factors=loss_args.by_token_id(tok))([tokenized["train"][i] for i in range(8)])
    chosen = torch.isin(plain["input_ids"], torch.tensor(sorted(tok.convert_tokens_to_ids(tokens))))
    assert chosen.sum() > 0  # the rows hold such tokens to weigh
    assert torch.equal(weighted["loss_weights"][chosen], 3.0 * plain["loss_weights"][chosen])
    assert torch.equal(weighted["loss_weights"][~chosen], plain["loss_weights"][~chosen])


def _weights_of(text: str, tok, loss_args: LossArguments) -> dict:
    ids = tok(text)["input_ids"]
    feature = {"input_ids": ids, "kind_ids": [KIND_IDS[Kind.WORK.value]] * len(ids)}
    weights = WeightedCollator(tok.pad_token_id, loss_args.by_kind_id(), token_factors=loss_args.by_token_id(tok),
                               check_repeat=loss_args.check_repeat(tok))([feature])["loss_weights"][0]
    return list(zip(tok.convert_ids_to_tokens(ids), weights.tolist()))


def test_the_check_repeat_weight_weighs_only_the_check_lines_repeat_flag(tok):
    loss_args = LossArguments(hit_weight=4.0, check_repeat_weight=1.0)
    work = loss_args.work_weight
    check = _weights_of("<b1><d1><b2><d2><b2><o2>", tok, loss_args)
    assert check[-1] == ("<o2>", work)  # the repeat: the check repeat factor, not the hit flags'
    bonus = _weights_of("<d1><d2><d3><d4><d5><d6><b3><o3>", tok, loss_args)
    assert bonus[-1] == ("<o3>", 4.0 * work)  # the bonus's duplicate: still a hit flag
    match = _weights_of("<d1><d2><d3><d4><d5><d6><b7><t1>[1, 2, 3, 8, 9, 10<o1><o2>", tok, loss_args)
    assert match[-2:] == [("<o1>", 4.0 * work), ("<o2>", 4.0 * work)]


def test_an_unset_check_repeat_weight_is_the_hit_weight(tok):
    assert LossArguments(hit_weight=4.0).check_repeat(tok) is None
    assert LossArguments(hit_weight=4.0, check_repeat_weight=4.0).check_repeat(tok) is None
    loss_args = LossArguments(hit_weight=4.0)
    assert _weights_of("<b1><d1><b1><o1>", tok, loss_args)[-1] == ("<o1>", 4.0 * loss_args.work_weight)


def test_hit_weight_1_or_a_tokenizer_without_flags_changes_nothing(tok):
    assert LossArguments().by_token_id(tok) is None
    assert LossArguments(hit_weight=3.0).by_token_id(_NoFlags()) is None


class _NoFlags:
    """A tokenizer whose vocabulary has no flag tokens (the seed format's byte BPE)."""

    def get_vocab(self):
        return {"a": 0, "b": 1}

    def __len__(self):
        return 2


def test_collator_on_real_rows_zeroes_typed_input(tok, data):
    raw, tokenized = data
    loss_args = LossArguments()
    batch = collator(tok, loss_args)([tokenized["train"][i] for i in range(8)])
    by_kind = {kind.value: getattr(loss_args, f"{kind.value}_weight", 0.0) for kind in Kind}
    for i in range(8):
        n = tokenized["train"][i]["length"]
        kinds, weights = batch["kind_ids"][i], batch["loss_weights"][i]
        for kind in Kind:
            mask = kinds[:n] == KIND_IDS[kind.value]
            expected = 0.0 if kind is Kind.INPUT else by_kind[kind.value]
            assert torch.all(weights[:n][mask] == expected), kind
        assert torch.all(weights[n:] == 0) and torch.all(batch["attention_mask"][i, n:] == 0)
        # the zero-weight input tokens are exactly what the user typed (plus the BOS)
        ids = batch["input_ids"][i, 1:n][kinds[1:n] == KIND_IDS["input"]]
        typed = [line for line in raw["train"][i]["lines"] if rules.check_length(line) is None]
        assert tok.decode(ids) == "".join(line + "\n" for line in typed)
        # every other kind is present in a complete session
        for kind in (Kind.PROGRAM, Kind.TICKET, Kind.WORK, Kind.TAIL):
            assert (kinds == KIND_IDS[kind.value]).any()


# ---------------------------------------------------------------- (c) per-kind losses, (d) eval loss

def _weighted_ce(model, batch):
    """Per-token CE of the batch's targets, with their kinds and weights."""
    with torch.no_grad():
        logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    ce = F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]).float(),
                         batch["input_ids"][:, 1:].reshape(-1), reduction="none").view(logits.shape[0], -1)
    return ce, batch["kind_ids"][:, 1:], batch["loss_weights"][:, 1:]


def test_per_kind_losses_are_logged(tok, data, tmp_path):
    train = data[1]["train"]
    model = build_model(TINY, tok, seed=0)
    initial = copy.deepcopy(model).eval()
    trainer = make_trainer(model, tok, tmp_path, train=train, max_steps=3, learning_rate=1e-3)
    trainer.train()
    logs = [h for h in trainer.state.log_history if "loss" in h]
    assert [h["step"] for h in logs] == [1, 2, 3]
    for h in logs:
        for key in ("loss_program", "loss_ticket", "loss_work", "loss_tail", "pad_share"):
            assert key in h, (key, h)
        assert "loss_input" not in h  # typed input is never learned, so never reported
        assert 0.0 <= h["pad_share"] < 1.0
    # step 1 logs the unweighted mean CE per kind of the first batch, under the initial weights
    ce, kinds, weights = _weighted_ce(initial, collator(tok)([train[i] for i in range(8)]))
    for kind in (Kind.PROGRAM, Kind.TICKET, Kind.WORK, Kind.TAIL):
        mask = kinds == KIND_IDS[kind.value]
        assert logs[0][f"loss_{kind.value}"] == pytest.approx(ce[mask].mean().item(), abs=1e-4)
    assert logs[0]["loss"] == pytest.approx(((ce * weights).sum() / weights.sum()).item(), abs=1e-4)


def test_eval_loss_is_reported(tok, data, tmp_path):
    train, validation = data[1]["train"], data[1]["validation"]
    model = build_model(TINY, tok, seed=0)
    trainer = make_trainer(model, tok, tmp_path, train=train, eval_ds=validation, max_steps=2,
                           eval_strategy="steps", eval_steps=2, per_device_eval_batch_size=len(validation))
    trainer.train()
    evals = [h for h in trainer.state.log_history if "eval_loss" in h]
    assert len(evals) == 1 and evals[0]["step"] == 2
    metrics = trainer.evaluate()
    assert "eval_loss" in metrics and metrics["eval_loss"] == pytest.approx(evals[0]["eval_loss"], abs=1e-6)
    # one eval batch: eval_loss is the weighted mean CE over the validation split
    ce, _, weights = _weighted_ce(model.eval(), collator(tok)([validation[i] for i in range(len(validation))]))
    assert metrics["eval_loss"] == pytest.approx(((ce * weights).sum() / weights.sum()).item(), abs=1e-5)


@pytest.mark.parametrize("shift, low, high", [(0.1, 0.95, 1.0), (1.0, 0.2, 0.9)])
def test_number_families_start_from_the_number_embedding(tok, shift, low, high):
    """`<dX>` (and `[X`, `, X`, ...) = embedding of `X` + a family offset of size `family_shift`."""
    model = build_model(ModelArguments(n_layer=1, n_embd=64, n_head=2, family_shift=shift), tok, seed=0)
    emb = model.get_input_embeddings().weight
    ids = tok.convert_tokens_to_ids
    for family in ("<d{}>", ", {}", "[{}"):
        sims = torch.stack([F.cosine_similarity(emb[ids(family.format(x))], emb[ids(str(x))], dim=0) for x in range(1, 46)])
        assert low < sims.min() and sims.max() <= high, (family, sims.min(), sims.max())
        others = F.cosine_similarity(emb[ids(family.format(7))], emb[ids("8")], dim=0)
        assert others < sims.min()  # close to its own number, not to a neighbour


@pytest.mark.parametrize("arch", ["llama", "smollm3", "stablelm", "gpt2"])
def test_untied_embeddings_are_two_matrices_that_survive_save_and_load(arch, tok, tmp_path):
    from transformers import AutoModelForCausalLM

    model = build_model(ModelArguments(arch=arch, n_layer=1, n_embd=32, n_head=2, tie_word_embeddings=False), tok)
    inp, out = model.get_input_embeddings().weight, model.get_output_embeddings().weight
    assert inp.data_ptr() != out.data_ptr() and not torch.equal(inp, out)
    model.save_pretrained(tmp_path)
    loaded = AutoModelForCausalLM.from_pretrained(tmp_path)
    assert torch.equal(loaded.get_input_embeddings().weight, inp)
    assert torch.equal(loaded.get_output_embeddings().weight, out)


def test_nope_layers_and_rope_theta_survive_save_and_load_and_pipeline(tok, tmp_path):
    from transformers import AutoModelForCausalLM, pipeline

    args = ModelArguments(arch="smollm3", n_layer=2, n_embd=32, n_head=2, nope_layers=[1], rope_theta=500_000.0)
    model = build_model(args, tok, seed=0)
    model.save_pretrained(tmp_path)
    tok.save_pretrained(tmp_path)
    loaded = AutoModelForCausalLM.from_pretrained(tmp_path)
    assert [layer.self_attn.use_rope for layer in loaded.model.layers] == [1, 0]
    assert loaded.config.rope_parameters["rope_theta"] == 500_000.0
    ids = tok("구입금액을 입력해 주세요.\n<in>8000\n", return_tensors="pt")["input_ids"]
    assert torch.equal(loaded(ids).logits, model(ids).logits)
    out = pipeline("text-generation", model=str(tmp_path), max_new_tokens=3, do_sample=False)("<in>8000\n")
    assert out[0]["generated_text"].startswith("<in>8000\n")


def test_a_nope_layer_reads_no_position(tok):
    """Attention without rotary positions: one NoPE layer scores the last token of a row the same when the tokens
    before it are permuted (it reads them as a set), and one with rotary positions does not."""
    def last_logits(nope_layers, ids):
        args = ModelArguments(arch="smollm3", n_layer=1, n_embd=32, n_head=2, nope_layers=nope_layers)
        return build_model(args, tok, seed=0).eval()(torch.tensor([ids])).logits[0, -1]

    ids = tok("구입금액을 입력해 주세요.\n<in>8000\n", add_special_tokens=False)["input_ids"]
    permuted = ids[:-1][::-1] + ids[-1:]
    assert torch.allclose(last_logits([0], ids), last_logits([0], permuted), atol=1e-5)
    assert (last_logits([], ids) - last_logits([], permuted)).abs().max() > 1e-4


def test_partial_rotary_factor_rotates_that_share_of_each_head_after_save_and_load(tok, tmp_path):
    from transformers import AutoModelForCausalLM

    args = ModelArguments(arch="stablelm", n_layer=1, n_embd=32, n_head=2, partial_rotary_factor=0.5)
    build_model(args, tok, seed=0).save_pretrained(tmp_path)
    attention = AutoModelForCausalLM.from_pretrained(tmp_path).model.layers[0].self_attn
    assert (attention.head_dim, attention.rotary_ndims) == (16, 8)


def test_model_problems_name_what_cannot_be_built():
    assert model_problems(ModelArguments()) == []
    assert model_problems(ModelArguments(arch="smollm3", n_layer=2, nope_layers=[0, 1])) == []
    assert model_problems(ModelArguments(nope_layers=[1])) == ["--nope_layers needs --arch smollm3"]
    assert model_problems(ModelArguments(arch="stablelm", partial_rotary_factor=0)) == [
        "--partial_rotary_factor must be in (0, 1], got 0"]
    with pytest.raises(ValueError, match="--rope_theta must be positive"):
        build_model(ModelArguments(rope_theta=-1.0), None)


def typed_rows(tok, lines):
    from datasets import Dataset

    return Dataset.from_dict({"input_ids": [tok(line, add_special_tokens=False)["input_ids"] for line in lines]})


def test_byte_tokens_no_training_row_holds_take_the_mean_embedding_of_those_it_does(tok):
    model = build_model(ModelArguments(n_layer=1, n_embd=32, n_head=2), tok, seed=0)
    before = model.get_input_embeddings().weight.detach().clone()
    # 가: EA B0 80, 나: EB 82 98, é: C3 A9; the digits and commas are tokens of their own, not bytes
    counts = token_counts(typed_rows(tok, ["8000", "가나", "1,é,3"]), len(tok))
    seen = tok.convert_tokens_to_ids([f"<0x{b:02X}>" for b in (0x80, 0x82, 0x98, 0xA9, 0xB0, 0xC3, 0xEA, 0xEB)])

    filled = fill_unseen_byte_embeddings(model, tok, counts)

    assert len(filled) == 256 - 8 and filled[:2] == ["<0x00>", "<0x01>"] and "<0xEA>" not in filled
    after = model.get_input_embeddings().weight
    ids = tok.convert_tokens_to_ids(filled)
    assert torch.allclose(after[ids], before[seen].mean(0).expand(len(ids), -1))
    untouched = [i for i in range(len(tok)) if i not in set(ids)]
    assert torch.equal(after[untouched], before[untouched])


def test_with_every_byte_token_typed_nothing_is_filled(tok):
    model = build_model(ModelArguments(n_layer=1, n_embd=32, n_head=2), tok, seed=0)
    before = model.get_input_embeddings().weight.detach().clone()
    assert fill_unseen_byte_embeddings(model, tok, np.ones(len(tok), dtype=int)) == []
    assert torch.equal(model.get_input_embeddings().weight, before)


def test_a_token_count_counts_every_id_of_a_tokenized_split(tok, data):
    tokenized = data[1]["train"]
    counts = token_counts(tokenized, len(tok))
    assert len(counts) == len(tok) and counts.sum() == sum(len(ids) for ids in tokenized["input_ids"])
    assert counts[tok.eos_token_id] == len(tokenized)  # one EOS a row


# ---------------------------------------------------------------- learning rate over wall time

class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_time_cosine_warms_up_by_steps_like_transformers():
    factor = time_cosine(warmup_steps=4, budget_seconds=60, clock=FakeClock())
    assert [factor(s) for s in range(5)] == [0.0, 0.25, 0.5, 0.75, 1.0]


def test_time_cosine_follows_the_clock_not_the_step_count():
    clock = FakeClock()
    factor = time_cosine(warmup_steps=0, budget_seconds=60, clock=clock)
    clock.now += 30
    assert factor(10) == pytest.approx(0.5) and factor(5000) == pytest.approx(0.5)
    clock.now += 30
    assert factor(11) == pytest.approx(0.0)
    clock.now += 600  # past the budget (a run resumed or slowed): stays at zero, never climbs back
    assert factor(12) == pytest.approx(0.0)


def test_time_cosine_with_a_decay_fraction_holds_the_peak_then_decays_in_the_last_share():
    clock = FakeClock()
    factor = time_cosine(warmup_steps=0, budget_seconds=100, clock=clock, decay_fraction=0.25)
    clock.now += 75
    assert factor(1) == pytest.approx(1.0)
    clock.now += 12.5  # half-way through the decay window
    assert factor(2) == pytest.approx(0.5)
    clock.now += 12.5
    assert factor(3) == pytest.approx(0.0)


def test_time_limit_stops_and_saves_once_its_window_has_passed():
    from transformers import TrainerControl

    clock = FakeClock()
    limit, control = TimeLimit(1.0, clock=clock), TrainerControl()
    clock.now += 59
    limit.on_step_end(None, None, control)
    assert not control.should_training_stop
    clock.now += 2
    limit.on_step_end(None, None, control)
    assert control.should_training_stop and control.should_save


def test_trainer_with_a_time_budget_anneals_by_the_clock(tok, data, tmp_path, monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr("lotto_gpt.trainer.time.monotonic", clock)
    model = build_model(TINY, tok, seed=0)
    trainer = make_trainer(model, tok, tmp_path, train=data[1]["train"], max_steps=1000, learning_rate=1e-3,
                           warmup_steps=0, lr_scheduler_type="cosine")
    trainer.lr_time_limit = TimeLimit(1.0)  # made at clock 100, like the trainer, on the patched clock
    trainer.create_optimizer_and_scheduler(num_training_steps=1000)
    clock.now += 45  # 3/4 of the budget gone after a few steps: a step-cosine would still be near 1e-3
    trainer.optimizer.step()  # (no gradients: changes nothing; the scheduler expects it first)
    trainer.lr_scheduler.step()
    assert trainer.lr_scheduler.get_last_lr()[0] == pytest.approx(1e-3 * 0.5 * (1 + math.cos(0.75 * math.pi)))


def test_the_weight_average_follows_the_warmed_up_ema_rule_after_every_step():
    from lotto_gpt.trainer import WeightAverage

    model = torch.nn.Linear(3, 2)
    average = WeightAverage(0.9)
    average.on_train_begin(None, None, None, model=model)
    expected = [p.detach().clone() for p in model.parameters()]
    average.on_step_end(None, None, None, model=model)  # the first update takes the weights as they are
    for step in range(3):
        with torch.no_grad():
            for p in model.parameters():
                p.add_(1.0 + step)
        average.on_step_end(None, None, None, model=model)
        decay = min(0.9, (2 + step) / (11 + step))  # warmed up: 2/11, 3/12, 4/13 after 1, 2, 3 updates
        expected = [decay * e + (1 - decay) * p.detach() for e, p in zip(expected, model.parameters())]
    for e, a in zip(expected, average.averaged.module.parameters()):
        assert torch.allclose(e, a, atol=1e-6)
    average.copy_to(model)
    for e, p in zip(expected, model.parameters()):
        assert torch.allclose(e, p, atol=1e-6)


@pytest.mark.parametrize("decay", [0.0, 1.0, 1.5])
def test_a_weight_average_decay_outside_0_1_is_refused(decay):
    from lotto_gpt.trainer import WeightAverage

    with pytest.raises(ValueError, match="decay must be in"):
        WeightAverage(decay)


def test_the_weight_average_of_a_long_run_forgets_its_first_steps_at_the_full_decay():
    from lotto_gpt.trainer import WeightAverage

    model = torch.nn.Linear(1, 1, bias=False)
    average = WeightAverage(0.9)
    average.on_train_begin(None, None, None, model=model)
    for _ in range(200):
        with torch.no_grad():
            model.weight.fill_(1.0)
        average.on_step_end(None, None, None, model=model)
    with torch.no_grad():
        model.weight.fill_(3.0)
    average.on_step_end(None, None, None, model=model)
    assert average.averaged.module.weight.item() == pytest.approx(0.9 * 1.0 + 0.1 * 3.0)


def test_the_run_progress_by_the_clock_is_the_times_share_to_the_power_0_7():
    clock = FakeClock()
    progress = run_progress(rows_per_step=8, max_steps=0, limit=TimeLimit(10.0, clock=clock))
    assert progress(0) == 0.0
    clock.now += 300
    assert progress(960) == pytest.approx(0.5 ** 0.7)  # ~0.62 at half the time: as the rows a row count draws


def test_the_run_progress_reaches_one_when_the_time_is_spent():
    clock = FakeClock()
    progress = run_progress(rows_per_step=8, max_steps=0, limit=TimeLimit(1.0, clock=clock))
    progress(0)
    clock.now += 61
    assert progress(100) == 1.0


def test_the_run_progress_counts_the_steps_when_they_run_out_first():
    clock = FakeClock()
    progress = run_progress(rows_per_step=8, max_steps=100, limit=TimeLimit(10.0, clock=clock))
    progress(0)
    clock.now += 10
    assert progress(400) == 0.5  # 50 of 100 steps; the clock: (10 / 600) ** 0.7 = 0.06


def test_the_run_progress_without_a_clock_counts_steps_only():
    assert run_progress(rows_per_step=8, max_steps=10, limit=None)(40) == 0.5


def _curriculum_trainer(tok, tmp_path, args=None, **trainer_kwargs):
    """A trainer with a curriculum over 40 rows, 30% of them purchase rows; the raw rows beside it."""
    raw = build_dataset_dict({"train": 40}, seed=0, cfg=DataConfig(max_money=10_000, purchase_share=0.3))["train"]
    # as train.py tokenizes: "part" stays beside the tokens
    train = raw.map(tokenize_rows, batched=True, fn_kwargs={"tokenizer": tok},
                    remove_columns=[c for c in raw.column_names if c != "part"])
    trainer = make_trainer(build_model(TINY, tok, seed=0), tok, tmp_path, train=train,
                           train_sampling_strategy="random", **(args or {}),
                           cls=functools.partial(TailWeightedTrainer, curriculum_samples=20, **trainer_kwargs))
    return trainer, raw


def test_the_curriculum_spreads_the_rows_that_hold_part_of_a_session(tok, tmp_path):
    from lotto_gpt.trainer import CurriculumSampler

    trainer, raw = _curriculum_trainer(tok, tmp_path)
    sampler = trainer._get_train_sampler()
    assert isinstance(sampler, CurriculumSampler)
    assert sampler.spread == [part != "session" for part in raw["part"]] and any(sampler.spread)
    assert not sampler.spread_batches


def test_the_trainer_paces_the_curriculum_by_the_budget_when_asked(tok, tmp_path):
    trainer, raw = _curriculum_trainer(tok, tmp_path, curriculum_by_budget=True, time_limit=TimeLimit(1.0))
    sampler = trainer._get_train_sampler()
    assert sampler.progress is not None and sorted(sampler) == list(range(len(raw)))


def test_a_paced_curriculum_logs_where_its_window_stands(tok, tmp_path):
    # batches of 1: chunks of 8 rows, 12 rows in all (40 in the epoch)
    trainer, _ = _curriculum_trainer(tok, tmp_path, args={"per_device_train_batch_size": 1, "max_steps": 12},
                                     curriculum_by_budget=True)
    trainer.train()
    done = [h["curriculum_done"] for h in trainer.state.log_history if "loss" in h]
    assert len(done) == 12 and done == sorted(done) and done[0] == 0.0 and 0.0 < done[-1] <= 1.0


def test_the_trainer_counts_the_curriculum_in_rows_by_default(tok, tmp_path):
    trainer, _ = _curriculum_trainer(tok, tmp_path)
    assert trainer._get_train_sampler().progress is None


def test_the_trainer_hands_spread_batches_to_the_curriculum(tok, tmp_path):
    trainer, raw = _curriculum_trainer(tok, tmp_path, spread_batches=True)
    order = list(trainer._get_train_sampler())
    spread = [part != "session" for part in raw["part"]]
    batch = trainer.args.train_batch_size
    whole = [order[s:s + batch] for s in range(0, len(order), batch) if len(order[s:s + batch]) == batch]
    assert all(len({spread[i] for i in b}) == 1 for b in whole[:-1])  # no full batch mixes cut rows and sessions


# ---------------------------------------------------------------- the curriculum fitted to the machine

def test_the_fitted_curriculum_is_the_rows_the_budget_reads_times_the_fill():
    from lotto_gpt.trainer import fitted_curriculum_rows

    # 50 ms a row, 29 minutes: 34,800 rows read
    assert fitted_curriculum_rows(0.05, 29 * 60, fill=1.0) == 35_000
    assert fitted_curriculum_rows(0.05, 29 * 60, fill=0.5) == 17_000


def test_the_rows_that_hold_part_of_a_session_come_out_of_the_fitted_curriculum():
    from lotto_gpt.trainer import fitted_curriculum_rows

    # 34,800 rows read, 5,000 of them purchase or division rows placed in the warm-up: 29,800 sessions
    assert fitted_curriculum_rows(0.05, 29 * 60, spread_rows=5000, fill=1.0) == 30_000


def test_a_spread_row_costs_at_least_one_row_and_a_long_one_its_length_in_rows():
    from lotto_gpt.trainer import spread_cost

    lengths = [105] * 85 + [15] * 5 + [1000] * 10  # the shortest 90 percent are 100 tokens long on average
    spread = [False] * 85 + [True] * 15
    assert spread_cost(lengths, spread) == 5 * 1 + 10 * 10
    assert spread_cost(lengths, [False] * 100) == 0


def test_a_machine_twice_as_fast_gets_a_curriculum_twice_as_long():
    from lotto_gpt.trainer import fitted_curriculum_rows

    slow = fitted_curriculum_rows(0.05, 29 * 60, fill=1.2)
    assert fitted_curriculum_rows(0.025, 29 * 60, fill=1.2) == 2 * slow


def test_the_fitted_curriculum_is_at_most_the_rows_max_steps_reads():
    from lotto_gpt.trainer import fitted_curriculum_rows

    assert fitted_curriculum_rows(0.001, 29 * 60, max_rows=12_000 * 8, fill=1.0) == 96_000
    assert fitted_curriculum_rows(0.05, float("inf"), max_rows=40_000, fill=1.0) == 40_000  # no clock: the steps


def test_the_fitted_curriculum_holds_at_least_one_grain_of_rows():
    from lotto_gpt.trainer import fitted_curriculum_rows

    assert fitted_curriculum_rows(100.0, 60, fill=1.0) == 1000


def test_timing_the_rows_changes_no_weight_and_no_logged_loss(tok, tmp_path):
    trainer, _ = _curriculum_trainer(tok, tmp_path)
    before = {name: value.clone() for name, value in trainer.model.state_dict().items()}
    seconds = trainer.time_rows(batches=3)
    assert 0 < seconds < 10
    assert all(torch.equal(before[name], value) for name, value in trainer.model.state_dict().items())
    assert all(p.grad is None for p in trainer.model.parameters())
    assert trainer._all_tokens == 0 and float(trainer._kind_counts.sum()) == 0.0
