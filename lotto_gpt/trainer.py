"""Per-token weighted loss: the collator gives every token a weight, the Trainer sums them.

Weights by `Kind` of the *target* token: 0 for what the user typed (and padding), 1 for
ordinary program text, `ticket_weight` for the random ticket numbers (their entropy floor
would otherwise dominate the loss), `work_weight` for the hidden matching lines and
`tail_weight` for the statistics, division and rate. On top, `hit_weight` multiplies the weight of
the flags that mark a hit (`<oX>` drawn, `<+X>` the bonus): the rarer answers of the flag step.

Normalisation (transformers 5): `num_items_in_batch` is redefined as the total weight mass of
all micro-batches of one optimizer step, summed over processes. Each micro-batch returns
sum(w * ce) / mass (times the number of processes, which DDP's gradient averaging divides
back out), so a step at batch 32 equals 4 accumulated steps at batch 8, and 2 processes
equal 1.
"""
from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from torch.optim.swa_utils import AveragedModel
from transformers import Trainer, TrainerCallback
from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR

from . import rules
from .data import KIND_IDS, PAD_KIND
from .formats import Kind, transcript


@dataclass
class LossArguments:
    tail_weight: float = field(default=4.0, metadata={"help": "weight of statistics, division and rate tokens"})
    work_weight: float = field(default=4.0, metadata={"help": "weight of the hidden matching lines"})
    ticket_weight: float = field(
        default=0.4,
        metadata={"help": "weight of the random ticket lines: 0.4 keeps their share against program text "
                          "where 0.1 left it at program weight 1 (at 0.1 with program weight 4, 37 "
                          "duplicate ticket pairs in 5,000 sessions: BENCHMARKS.md)"},
    )
    program_weight: float = field(
        default=4.0,
        metadata={"help": "weight of prompts, messages, fixed text: nearly all of it is learned at once, so "
                          "the weight lands on the program's decisions after each typed line ([ERROR] which, "
                          "or accept); 4 instead of 1: the worst of 3 seeds went from 33.6 to 55.4 percent of 500 "
                          "sessions fully right (BENCHMARKS.md)"},
    )
    hit_weight: float = field(
        default=1.0,
        metadata={"help": "factor on the weight of the hit flags <oX> and <+X> (transcript format): a bonus hit "
                          "is 1 number in 45 and untied runs wrote it as a miss in 32-80 failed sessions of 500; "
                          "4 took seeds 2 and 3 from 55.6 / 73.2 to 65.6 / 78.4 percent (BENCHMARKS.md, session 10)"},
    )

    bonus_weight: float = field(
        default=1.0,
        metadata={"help": "factor on the weight of the restated bonus <bX> (transcript format): one copy per "
                          "session, after the typed bonus line, and the most frequent first wrong line of "
                          "session 14's runs (a bonus restated as <b45>, <b1>, <b13>); the same token in the "
                          "match lines' draw blocks is weighed too (copies of the line above). 4 moved seeds "
                          "0 / 5 by -34.6 / +21.4 points: not a default (BENCHMARKS.md, session 14)"},
    )
    check_repeat_weight: float | None = field(
        default=None,
        metadata={"help": "factor on the check line's repeat flag (transcript format: the <o3> of "
                          "<b1><d1><b2><d2><b3><o3>[ERROR]), in place of --hit_weight, which weighs the same token as "
                          "the bonus line's and the match lines' hit; unset: --hit_weight. 1 did not cut the check "
                          "line's failures (misfetched typed numbers, not false alarms): BENCHMARKS.md, session 29"},
    )
    error_weight: float = field(
        default=1.0,
        metadata={"help": "factor on the weight of the [ERROR] messages (transcript format): the program's answer to "
                          "a bad line, rare beside the accepted lines, and the largest first wrong line of session "
                          "23's runs. 4 bought rejections with false ones (duplicate errors after valid winning "
                          "lines): 91.0 / 90.6 percent against 94.4 / 94.0 on seeds 0 / 1 (BENCHMARKS.md, session 24)"},
    )

    def by_kind_id(self) -> torch.Tensor:
        """A lookup table kind id -> weight (typed input: 0)."""
        table = torch.zeros(len(KIND_IDS))
        table[KIND_IDS[Kind.PROGRAM.value]] = self.program_weight
        table[KIND_IDS[Kind.TICKET.value]] = self.ticket_weight
        table[KIND_IDS[Kind.WORK.value]] = self.work_weight
        table[KIND_IDS[Kind.TAIL.value]] = self.tail_weight
        return table

    def by_token_id(self, tokenizer) -> torch.Tensor | None:
        """A lookup table token id -> factor (1 but for the hit flags, the restated bonus and the error messages),
        or None when it is all ones (those weights 1, or a tokenizer without those tokens: the seed format)."""
        vocab = tokenizer.get_vocab()
        factors = [(transcript.flag_tokens((transcript.HIT, transcript.BONUS_HIT)), self.hit_weight),
                   ([transcript.bonus_token(n) for n in rules.NUMBERS], self.bonus_weight),
                   (list(rules.Msg.ERRORS), self.error_weight)]
        factors = [([vocab[t] for t in tokens if t in vocab], factor) for tokens, factor in factors]
        if all(factor == 1.0 or not ids for ids, factor in factors):
            return None
        table = torch.ones(len(tokenizer))
        for ids, factor in factors:
            table[ids] = factor
        return table

    def check_repeat(self, tokenizer) -> "CheckRepeat | None":
        """The check line's own factor for its repeat flag, or None where it is the hit flags' factor anyway."""
        if self.check_repeat_weight is None or self.check_repeat_weight == self.hit_weight:
            return None
        vocab = tokenizer.get_vocab()
        if transcript.flag_token(transcript.HIT, 1) not in vocab:
            return None
        return CheckRepeat(tokenizer, self.check_repeat_weight)


class CheckRepeat:
    """Finds the check line's repeat flag in a batch: a hit flag right after a bonus token with another bonus token
    three back (`<b2><d2><b3><o3>`). The bonus line's duplicate has a draw token there (`<d5><d6><b3><o3>`), a match
    line's hit a ticket number, so the token alone cannot tell them apart: the context can."""

    def __init__(self, tokenizer, factor: float):
        vocab = tokenizer.get_vocab()
        self.factor = factor
        self.hit = torch.zeros(len(tokenizer), dtype=torch.bool)
        self.bonus = torch.zeros(len(tokenizer), dtype=torch.bool)
        self.hit[[vocab[t] for t in transcript.flag_tokens((transcript.HIT,))]] = True
        self.bonus[[vocab[transcript.bonus_token(n)] for n in rules.NUMBERS]] = True

    def mask(self, input_ids: torch.Tensor) -> torch.Tensor:
        found = torch.zeros_like(input_ids, dtype=torch.bool)
        found[:, 3:] = self.hit[input_ids[:, 3:]] & self.bonus[input_ids[:, 2:-1]] & self.bonus[input_ids[:, :-3]]
        return found


class TimeLimit(TrainerCallback):
    """Stops training (and saves) once `minutes` of wall time have passed since it was made;
    `--lr_schedule_by_time` anneals over the same window."""

    def __init__(self, minutes: float, clock=None):
        self.clock = clock or time.monotonic
        self.start, self.seconds = self.clock(), 60 * minutes

    def on_step_end(self, args, state, control, **kwargs):
        if self.clock() - self.start > self.seconds:
            control.should_training_stop = True
            control.should_save = True


class WeightAverage(TrainerCallback):
    """An exponential moving average of the weights, updated after every optimizer step:
    avg = d * avg + (1 - d) * weights, d = min(decay, (1 + n) / (10 + n)) after n updates
    (torch's `AveragedModel`; the first update takes the weights as they are).

    Why: a run stopped by the clock at a high learning rate ends on noisy weights, and the noise
    shows in what the model samples (the ticket numbers) and in long exact outputs; annealing the
    rate removes it but also slows what is still forming (BENCHMARKS.md, session 7). The average
    removes the noise and leaves the rate alone. It is saved in every checkpoint (`ema.safetensors`)
    and restored from `resume_dir`, so a resumed run averages on as if never stopped."""

    FILE = "ema.safetensors"

    def __init__(self, decay: float, resume_dir: str | None = None):
        if not 0 < decay < 1:
            raise ValueError(f"the average's decay must be in (0, 1), got {decay}")
        self.decay, self.resume_dir = decay, resume_dir
        self.averaged: AveragedModel | None = None

    def on_train_begin(self, args, state, control, model=None, **kwargs):
        self.averaged = AveragedModel(model, multi_avg_fn=self._update, use_buffers=False)
        saved = os.path.join(self.resume_dir, self.FILE) if self.resume_dir else None
        if saved and os.path.exists(saved):
            tensors = load_file(saved)
            for name, param in self.averaged.module.named_parameters():
                param.data.copy_(tensors[name])
            self.averaged.n_averaged.fill_(int(tensors["n_averaged"]))

    def _update(self, averaged: list, current: list, n_averaged) -> None:
        # torch's get_ema_multi_avg_fn with the decay warmed up as timm's and diffusers' EMAs do:
        # min(decay, (1 + n) / (10 + n)), so a short run's average is not mostly its first steps.
        # n read from the average's own counter (kept on the CPU), not from the `n_averaged` torch
        # passes (a copy on the weights' device): no device sync per step on a GPU
        n = int(self.averaged.n_averaged)
        decay = min(self.decay, (1 + n) / (10 + n))
        torch._foreach_lerp_(averaged, current, 1 - decay)

    def on_step_end(self, args, state, control, model=None, **kwargs):
        self.averaged.update_parameters(model)

    def on_save(self, args, state, control, **kwargs):
        if not state.is_world_process_zero:
            return
        folder = os.path.join(args.output_dir, f"{PREFIX_CHECKPOINT_DIR}-{state.global_step}")
        if os.path.isdir(folder):
            save_file(self.state_tensors(), os.path.join(folder, self.FILE))

    def state_tensors(self) -> dict[str, torch.Tensor]:
        tensors = {name: p.detach().cpu().contiguous() for name, p in self.averaged.module.named_parameters()}
        tensors["n_averaged"] = self.averaged.n_averaged.detach().cpu().reshape(1)
        return tensors

    def copy_to(self, model) -> None:
        """Put the averaged weights into `model` (the one being trained)."""
        with torch.no_grad():
            for avg, param in zip(self.averaged.module.parameters(), model.parameters()):
                param.copy_(avg)


def time_cosine(warmup_steps: int, budget_seconds: float, clock=None, decay_fraction: float = 1.0,
                start: float | None = None):
    """A LambdaLR factor: step / warmup_steps during warm-up (as transformers' schedules), then 1
    until the last `decay_fraction` of `budget_seconds` of wall time from `start` (default: now),
    then half a cosine down to 0 at the end of the budget (1.0: the cosine spans the whole budget;
    less: warm-up, stable, decay)."""
    clock = clock or time.monotonic
    start = clock() if start is None else start

    def factor(step: int) -> float:
        if step < warmup_steps:
            return step / max(1, warmup_steps)
        done = min(1.0, (clock() - start) / budget_seconds)
        decayed = max(0.0, done - (1.0 - decay_fraction)) / decay_fraction
        return 0.5 * (1.0 + math.cos(math.pi * decayed))

    return factor


# The paced curriculum's window against the share of the time spent, tau: tau ** 0.7. A row count sized to the
# machine (session 19: --curriculum_samples 35,000, seed 0, 29 minutes, ~4,130 steps) had drawn 0.22 / 0.34 / 0.46 /
# 0.55 / 0.64 / 0.71 / 0.79 / 0.86 / 0.91 of its rows at 10 / 21 / 31 / 41 / 52 / 62 / 72 / 83 / 93% of the time
# (the short rows go fast), tau ** 0.7: 0.20 / 0.34 / 0.44 / 0.54 / 0.63 / 0.72 / 0.79 / 0.88 / 0.95. Linear in time
# (exponent 1) the window stays on the short rows longer: 75.8 / 58.0 / 70.8% on seeds 0 / 5 / 1 against 79.2 /
# 78.2 / 75.8% for that row count; tau ** 0.7 scored 69.8 / 74.6 / 67.6%: unlike the row count (0.94 at its
# stop) it reaches the longest rows (30-100 tickets), which cost steps (3,785 / 4,051 / 3,832 against 4,134 / 4,112
# / 3,963) and teach the small suite little. Neither is a default yet (BENCHMARKS.md, session 20)
TIME_SHAPE = 0.7


def run_progress(rows_per_step: int, max_steps: int, limit: TimeLimit | None, shape: float = TIME_SHAPE):
    """rows drawn -> the share of the run done, at most 1: the larger of the steps' share of `max_steps` (as
    the rows drawn count them; <= 0: none) and, with a time `limit`, the time's share of it to the power
    `shape`. Whichever ends the run, it reaches 1 as the run ends: on a slow machine the clock, on a fast
    one the steps. (In a distributed launch each process reads its own clock, so the processes' windows can
    differ by the clocks' skew: not measured; the row count is exact there.)"""

    def progress(rows: int) -> float:
        by_steps = rows / (rows_per_step * max_steps) if max_steps > 0 else 0.0
        by_time = max(0.0, (limit.clock() - limit.start) / limit.seconds) ** shape if limit else 0.0
        return min(1.0, max(by_steps, by_time))

    return progress


# --curriculum_fit: the row count the curriculum widens over, sized to the rows this machine reads. The cpu
# preset's 50,000 rows suited a machine making ~6,300 steps in 29 minutes (50,400 rows at batch 8); on one making
# ~4,100-4,900 the window never reached the 18-20-ticket sessions (0-1 of 77 right) and 35,000 rows scored 79.2 /
# 78.2 / 75.8% against 74.0 / 70.4 / 65.6% (seeds 0 / 5 / 1; BENCHMARKS.md, sessions 19-20). The rows a run reads
# are estimated from `TailWeightedTrainer.time_rows` (forward and backward over training rows up to the 0.9 length
# quantile) and the budget; CURRICULUM_FILL is 35,000 over that estimate on the second machine, two trainings side
# by side (55.0-61.4 ms a row in six timings, mean 57.3: 30,400 rows in 29 minutes, of which the 35,000-row runs
# read ~32,000-33,000 at the curriculum's lengths; the three fitted runs timed 53.3-62.3 ms: 32,000-38,000 rows,
# 80.4 / 85.2 / 81.8%). There the budget of a faster machine (44 minutes, ~6,300 steps
# like session 18's machine in 29) gets ~53,000 rows; seed 0 scored 87.0% with 50,000 against 85.2% with 35,000
# (BENCHMARKS.md, session 21). The rows that hold part of a session (purchase, division) all go into the warm-up, each
# beside sessions and padded to their length, so they are rows the budget reads too: they come out of the count. With
# 5,000 division rows on top of the 3,000 purchase rows the window never reached the long sessions (0 of 77 right,
# session 22). The fill is on all rows since then: 1.25 x the rows read, less the 3,000 purchase rows, gives the
# counts the fitted runs above had at their timings (32,000 / 38,000 / 37,000).
# 1.1 since session 30: with a timing that holds, 1.25 ends the window at the 0.05 + 0.95 / 1.25 = 0.81 length
# quantile, short of the 20-ticket sessions (0.82-0.88), and the runs that read fewer than ~100 of them lost the
# countdown `<t20>` -> `<t19>` (3 of 14 runs on data v15-v16; most timings were pessimistic, 1.0-1.2x, which is why
# the others reached them; benchmarks/curriculum_reach.py replays a run's reach). 1.1 ends it at 0.91.
CURRICULUM_FILL = 1.1
CALIBRATION_BATCHES = 12
CALIBRATION_PASSES = 3
CALIBRATION_QUANTILE = 0.9  # timed rows: evenly spaced lengths up to this quantile (the rest are 30-100-ticket rows)


def fitted_curriculum_rows(seconds_per_row: float, budget_seconds: float, max_rows: int | None = None,
                           spread_rows: int = 0, fill: float = CURRICULUM_FILL, grain: int = 1000) -> int:
    """The curriculum's row count for a run of `budget_seconds` on a machine that spends `seconds_per_row` per
    row (`time_rows`): `fill` x the rows the budget reads (at most `max_rows`, e.g. what --max_steps reads), less
    the `spread_rows` that the sampler puts into the warm-up beside them, rounded to `grain` so the timing's noise
    seldom changes it, and at least one `grain`."""
    readable = budget_seconds / seconds_per_row
    if max_rows is not None and max_rows > 0:
        readable = min(readable, max_rows)
    return max(grain, grain * round((fill * readable - spread_rows) / grain))


def spread_cost(lengths, spread) -> float:
    """What the `spread` rows cost a run, in rows like the ones `time_rows` times (lengths evenly spaced up to
    `CALIBRATION_QUANTILE`, so of the mean length of the shortest 90 percent): a row at least one (beside sessions it
    is padded to their length), a longer one its length's share (a 60-ticket session of `--long_share` is about 4
    such rows). The attention's cost, quadratic in the length, is left out: with 3% long rows the runs made half the
    steps planned, so it undercounts long rows about twofold (BENCHMARKS.md, session 32); the default data's spread
    rows are all shorter than the mean, so its fit is what it was."""
    lengths = list(lengths)
    top = sorted(lengths)[: max(1, int(CALIBRATION_QUANTILE * len(lengths)))]
    mean = sum(top) / len(top)
    return sum(max(1.0, length / mean) for length, spread_row in zip(lengths, spread) if spread_row)


def spread_mask(dataset) -> list[bool] | None:
    """Which rows hold only part of a session (purchase, draw, division) or a long session (`--long_share`):
    `CurriculumSampler` spreads them over its warm-up instead of ordering them by length. None without a `part`
    column."""
    return [part != "session" for part in dataset["part"]] if "part" in dataset.column_names else None


class WeightedCollator:
    """Pads a batch (right) and turns kind ids into loss weights; padding weighs 0."""

    def __init__(self, pad_token_id: int, weights: torch.Tensor, pad_to_multiple_of: int | None = None,
                 token_factors: torch.Tensor | None = None, check_repeat: CheckRepeat | None = None):
        self.pad_token_id = pad_token_id
        self.weights = weights
        self.token_factors = token_factors
        self.check_repeat = check_repeat
        self.pad_to_multiple_of = pad_to_multiple_of

    def __call__(self, features):
        longest = max(len(f["input_ids"]) for f in features)
        if self.pad_to_multiple_of:
            longest = -(-longest // self.pad_to_multiple_of) * self.pad_to_multiple_of
        n = len(features)
        input_ids = torch.full((n, longest), self.pad_token_id, dtype=torch.long)
        kind_ids = torch.full((n, longest), PAD_KIND, dtype=torch.long)
        attention_mask = torch.zeros((n, longest), dtype=torch.long)
        for i, f in enumerate(features):
            length = len(f["input_ids"])
            input_ids[i, :length] = torch.as_tensor(f["input_ids"])
            kind_ids[i, :length] = torch.as_tensor(f["kind_ids"])
            attention_mask[i, :length] = 1
        loss_weights = torch.where(kind_ids >= 0, self.weights[kind_ids.clamp_min(0)], 0.0)
        factors = self.token_factors[input_ids] if self.token_factors is not None else torch.ones_like(loss_weights)
        if self.check_repeat is not None:
            factors = torch.where(self.check_repeat.mask(input_ids), self.check_repeat.factor, factors)
        loss_weights = loss_weights * factors
        return {"input_ids": input_ids, "attention_mask": attention_mask,
                "loss_weights": loss_weights, "kind_ids": kind_ids}


class TailWeightedTrainer(Trainer):
    """`Trainer` with the per-token weighted loss above, and per-kind losses in the logs."""

    loss_is_scaled_for_ga = True  # compute_loss already divides by the step's weight mass

    def __init__(self, *args, curriculum_samples: int = 0, curriculum_mix: float = 0.0, spread_batches: bool = False,
                 curriculum_by_budget: bool = False, time_limit: TimeLimit | None = None,
                 lr_time_limit: TimeLimit | None = None, lr_decay_fraction: float = 1.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.curriculum_samples = curriculum_samples
        self.curriculum_by_budget = curriculum_by_budget
        self.time_limit = time_limit
        self.curriculum_mix = curriculum_mix
        self.spread_batches = spread_batches
        self.lr_time_limit = lr_time_limit
        self.lr_decay_fraction = lr_decay_fraction
        self._kind_sums = torch.zeros(len(KIND_IDS), dtype=torch.float64)
        self._kind_counts = torch.zeros(len(KIND_IDS), dtype=torch.float64)
        self._pad_tokens = 0
        self._all_tokens = 0
        self._curriculum: CurriculumSampler | None = None

    def _get_train_sampler(self, train_dataset=None):
        dataset = train_dataset if train_dataset is not None else self.train_dataset
        # an explicit `--train_sampling_strategy sequential` (tests, reproductions) wins
        sequential = self.args.train_sampling_strategy == "sequential"
        curriculum = self.curriculum_samples > 0 or self.curriculum_by_budget
        if curriculum and not sequential and "length" in dataset.column_names:
            batch = self.args.train_batch_size * self.args.gradient_accumulation_steps
            seed = self.args.data_seed if self.args.data_seed is not None else self.args.seed
            spread = spread_mask(dataset)
            # every process's sampler hands out all rows (accelerate shards the batches): a step takes `batch` from each
            progress = run_progress(batch * self.args.world_size, self.args.max_steps, self.time_limit) \
                if self.curriculum_by_budget else None
            self._curriculum = CurriculumSampler(dataset["length"], batch, self.curriculum_samples, seed=seed,
                                                 spread=spread, mix=self.curriculum_mix,
                                                 spread_batches=self.spread_batches, progress=progress)
            return self._curriculum
        return super()._get_train_sampler(train_dataset)

    def curriculum_order(self) -> dict:
        """What the curriculum sampler drew its order from (seed, batch), for train_summary.json:
        benchmarks/curriculum_reach.py replays the order from it. Empty where no curriculum sampler was used."""
        sampler = self._curriculum
        return {} if sampler is None else {"seed": sampler.seed, "batch": sampler.batch_size}

    def time_rows(self, batches: int = CALIBRATION_BATCHES, passes: int = CALIBRATION_PASSES) -> float:
        """Seconds per row of a training step's forward and backward pass, over `batches` batches of training rows
        at evenly spaced lengths up to `CALIBRATION_QUANTILE` (each batch of neighbours in length, as the curriculum
        batches them), each timed `passes` times and its fastest pass kept (as `timeit` does: what else runs on the
        machine only adds; beside another run, one pass read 72.1 / 60.5 ms a row, three 53.3-62.3). The weights do not change
        (no optimizer step; the gradients are cleared) and the logged losses are left as they were. What
        --curriculum_fit sizes the curriculum by."""
        dataset, size = self.train_dataset, self.args.train_batch_size
        lengths = dataset["length"]
        by_length = sorted(range(len(lengths)), key=lambda i: (lengths[i], i))
        top = max(size, int(CALIBRATION_QUANTILE * len(by_length)))  # the rows a curriculum reads, not the longest
        starts = [round(k * (top - size) / max(1, batches - 1)) for k in range(batches)]
        timed = [self._prepare_inputs(self.data_collator([dataset[i] for i in by_length[s:s + size]])) for s in starts]
        model = self.model
        model.train()
        fastest = [math.inf] * batches
        for n in [0] + [k for _ in range(passes) for k in range(batches)]:  # a cold first call first: the min drops it
            started = time.perf_counter()
            self.compute_loss(model, dict(timed[n])).backward()  # a copy: compute_loss pops the weights and kinds
            fastest[n] = min(fastest[n], time.perf_counter() - started)
        model.zero_grad(set_to_none=True)
        self._reset_tracking()
        return sum(fastest) / (batches * size)

    def create_scheduler(self, num_training_steps: int, optimizer=None):
        """With `lr_time_limit`, linear warm-up then a cosine over that limit's window of wall time,
        reaching 0 when it stops the run (transformers' schedules count steps only: a run stopped by
        the clock mid-schedule never anneals)."""
        limit = self.lr_time_limit
        if limit is None or self.lr_scheduler is not None:
            return super().create_scheduler(num_training_steps, optimizer)
        factor = time_cosine(self.args.get_warmup_steps(num_training_steps), limit.seconds, clock=limit.clock,
                             decay_fraction=self.lr_decay_fraction, start=limit.start)
        self.lr_scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer or self.optimizer, factor)
        self._created_lr_scheduler = True
        return self.lr_scheduler

    def _get_num_items_in_batch(self, batch_samples, device):
        if not batch_samples or "loss_weights" not in batch_samples[0]:
            return None
        mass = sum(b["loss_weights"][:, 1:].sum() for b in batch_samples).to(device)
        if self.args.world_size > 1 and self.args.average_tokens_across_devices:
            mass = self.accelerator.gather(mass.reshape(1)).sum()
        return mass

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        weights = inputs.pop("loss_weights")
        kind_ids = inputs.pop("kind_ids")
        outputs = model(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"])
        logits = outputs.logits[:, :-1].float()
        targets = inputs["input_ids"][:, 1:]
        w = weights[:, 1:].to(logits.dtype)
        ce = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), reduction="none")
        ce = ce.view_as(w)
        mass = num_items_in_batch if num_items_in_batch is not None else w.sum()
        loss = (ce * w).sum() / torch.as_tensor(mass, dtype=ce.dtype, device=ce.device).clamp_min(1e-8)
        if num_items_in_batch is not None and self.args.world_size > 1 and self.args.average_tokens_across_devices:
            loss = loss * self.args.world_size  # the mass is global and DDP averages gradients over processes
        if model.training:
            self._track(ce.detach(), kind_ids[:, 1:], inputs["attention_mask"])
        return (loss, outputs) if return_outputs else loss

    def prediction_step(self, model, inputs, prediction_loss_only, ignore_keys=None):
        """Evaluation reports the same weighted loss (the batch carries no `labels` column)."""
        inputs = self._prepare_inputs(inputs)
        with torch.no_grad():
            loss = self.compute_loss(model, dict(inputs))
        return loss.detach(), None, None

    def _track(self, ce, kinds, attention_mask):
        for kind_id in range(len(KIND_IDS)):
            mask = kinds == kind_id
            self._kind_sums[kind_id] += ce[mask].sum().item()
            self._kind_counts[kind_id] += mask.sum().item()
        self._pad_tokens += int((attention_mask == 0).sum())
        self._all_tokens += attention_mask.numel()

    def log(self, logs, *args, **kwargs):
        if "loss" in logs and self._all_tokens:
            for kind in Kind:
                k = KIND_IDS[kind.value]
                if kind is not Kind.INPUT and self._kind_counts[k] > 0:
                    logs[f"loss_{kind.value}"] = round(float(self._kind_sums[k] / self._kind_counts[k]), 5)
            logs["pad_share"] = round(self._pad_tokens / self._all_tokens, 4)
            if self._curriculum is not None and self._curriculum.progress is not None:
                logs["curriculum_done"] = round(self._curriculum.done, 4)  # where the paced window stands
            self._reset_tracking()
        super().log(logs, *args, **kwargs)

    def _reset_tracking(self):
        """Forget the per-kind losses and padding counted since the last log."""
        self._kind_sums.zero_()
        self._kind_counts.zero_()
        self._pad_tokens = self._all_tokens = 0


MIX_QUANTILE = 0.9  # where the mix draws from: the 10% longest rows (about 30+ tickets) cost up to 5x a 20-ticket row


class CurriculumSampler(torch.utils.data.Sampler):
    """Short sessions first: the copy and lookup circuits form on short rows, fast.

    The first `warmup_samples` rows are drawn from the shortest rows, the allowed length
    rising linearly from the `start_quantile` of the length distribution to the longest;
    the rest of the epoch is length-grouped at random (transformers' own grouping), so
    padding stays low. A share `mix` of the warm-up's rows is drawn from all rows instead, whatever their
    length: in a 29-minute run the window reached the longest rows only in the last steps, so the
    20-ticket sessions (4% of the data) were 30 of the ~26,000 rows seen and the countdown `<t20>` ->
    `<t19>` was never learned (BENCHMARKS.md, session 13). Rows marked in `spread` (rows that hold only part of a session: they
    are the shortest of all) stay out of that order and are spread uniformly over the warm-up
    instead: taken by length, they filled the first steps and were never seen again, and the
    copy circuits did not form (BENCHMARKS.md, session 11). With `spread_batches` they are batched
    among themselves (the padded batches of v8's first 26,400 rows wasted 16% on padding, mostly
    short spread rows beside long sessions; session 14). With `progress` (rows drawn -> share of the run
    done, `run_progress`) the window follows the run instead of a row count (`_paced`). Every row appears
    once per epoch; the row count's order depends only on `seed`. (transformers has no curriculum sampler;
    `LengthGroupedSampler` only groups.)
    """

    def __init__(self, lengths, batch_size: int, warmup_samples: int, seed: int = 0, start_quantile: float = 0.05,
                 spread=None, mix: float = 0.0, spread_batches: bool = False, progress=None):
        self.lengths = list(lengths)
        self.batch_size = batch_size
        self.warmup_samples = min(warmup_samples, len(self.lengths))
        self.seed = seed
        self.start_quantile = start_quantile
        self.spread = [bool(x) for x in spread] if spread is not None else [False] * len(self.lengths)
        self.mix = mix
        self.spread_batches = spread_batches
        self.progress = progress
        self.done = 0.0  # paced: the share of the run done at the last chunk drawn (the trainer logs it)
        self.rows_drawn = 0  # paced: rows handed out in all epochs so far (the run's progress counts them all)
        self.epoch = 0

    def __len__(self):
        return len(self.lengths)

    def set_epoch(self, epoch: int):
        self.epoch = epoch

    def _sorted_in_chunks(self, rows: list) -> list:
        """Within each batch, similar lengths: consecutive chunks of 8 batches, each sorted longest first."""
        chunk = self.batch_size * 8
        return [i for s in range(0, len(rows), chunk) for i in sorted(rows[s:s + chunk], key=lambda i: -self.lengths[i])]

    def _by_length(self) -> tuple[list, torch.Tensor]:
        """The rows the curriculum orders (all but the spread ones), shortest first, and the used-mask it starts
        from (the spread rows count as used: they are placed apart)."""
        main = [i for i, spread in enumerate(self.spread) if not spread]
        return sorted(main, key=lambda i: (self.lengths[i], i)), torch.tensor(self.spread, dtype=torch.bool)

    def window(self, done: float, of: float) -> float:
        """The length quantile the window has reached with `done` of `of` drawn: from `start_quantile` to 1."""
        return self.start_quantile + (1 - self.start_quantile) * done / of

    def _pick(self, done: float, of: float, by_length: list, used: torch.Tensor, first_unused: int, g) -> tuple[int, int]:
        """A random unused row among the shortest: the window widens from the `start_quantile` of the
        lengths (`done` 0 of `of`) to all rows (`done` = `of`). Marks it used; returns it and the shortest
        unused row's place. (`done` and `of` apart, not their ratio: the row count's orders stay bit for bit
        those of sessions 11-19.)"""
        n = len(by_length)
        limit = max(1, int(self.window(done, of) * n))
        if self.mix > 0 and float(torch.rand((), generator=g)) < self.mix:
            limit = max(limit, int(MIX_QUANTILE * n))  # a row of (almost) any length
        i = None
        for _ in range(32):  # a random unused row among the `limit` shortest
            candidate = by_length[int(torch.randint(limit, (1,), generator=g))]
            if not used[candidate]:
                i = candidate
                break
        if i is None:  # the window is (nearly) used up: the shortest unused row
            while used[by_length[first_unused]]:
                first_unused += 1
            i = by_length[first_unused]
        used[i] = True
        return i, first_unused

    def _spread_blocks(self, g) -> tuple[list, list]:
        """The spread rows in a random order, as blocks placed together: one row each, or (`spread_batches`) full
        batches of them, lengths sorted within chunks like the warm-up's; and the last, partial batch."""
        spread = [i for i, x in enumerate(self.spread) if x]
        rows = [spread[j] for j in torch.randperm(len(spread), generator=g).tolist()]
        if not self.spread_batches:
            return [[i] for i in rows], []
        rows = self._sorted_in_chunks(rows)
        batches = [rows[s:s + self.batch_size] for s in range(0, len(rows), self.batch_size)]
        tail = batches.pop() if batches and len(batches[-1]) < self.batch_size else []
        return batches, tail

    def _rest(self, used: torch.Tensor, g) -> list:
        """The rows the warm-up left, length-grouped at random (transformers' own grouping)."""
        from transformers.trainer_pt_utils import get_length_grouped_indices

        rest = [i for i in range(len(self.lengths)) if not used[i]]
        grouped = get_length_grouped_indices([self.lengths[i] for i in rest], self.batch_size, generator=g) if rest else []
        return [rest[j] for j in grouped]

    def _paced(self, g):
        """The warm-up paced by `progress` (the share of the run done, from the rows drawn so far and the
        clock) instead of by a row count: drawn a chunk at a time (8 batches, longest first) as the
        trainer asks for them, the window set by the progress at that moment. Each spread block goes at a
        uniformly drawn point of the progress still to come. Ends when the progress reaches 1; then the rest.
        A later epoch goes on from the progress the run has reached (the rows of every epoch count)."""
        by_length, used = self._by_length()
        blocks, tail = self._spread_blocks(g)
        start = self.done  # where the last epoch left the progress (0 in the first)
        due = sorted(zip((start + (1 - start) * torch.rand(len(blocks), generator=g)).tolist(), range(len(blocks))))
        chunk, drawn, placed, first_unused = self.batch_size * 8, 0, 0, 0
        while drawn < len(by_length):
            done = self.done = min(1.0, self.progress(self.rows_drawn))
            if done >= 1.0:
                break
            while placed < len(due) and due[placed][0] <= done:
                block = blocks[due[placed][1]]
                yield from block
                self.rows_drawn += len(block)
                placed += 1
            rows = []
            for _ in range(min(chunk, len(by_length) - drawn)):
                i, first_unused = self._pick(done, 1.0, by_length, used, first_unused, g)
                rows.append(i)
            drawn += len(rows)
            yield from self._sorted_in_chunks(rows)
            self.rows_drawn += len(rows)
        for i in [i for _, b in due[placed:] for i in blocks[b]] + tail + self._rest(used, g):
            self.rows_drawn += 1
            yield i

    def __iter__(self):
        g = torch.Generator().manual_seed(self.seed + self.epoch)
        if self.progress is not None:
            return self._paced(g)
        by_length, used = self._by_length()
        n = len(by_length)
        warmup, first_unused = [], 0
        for k in range(min(self.warmup_samples, n)):
            i, first_unused = self._pick(k, max(1, self.warmup_samples), by_length, used, first_unused, g)
            warmup.append(i)
        warmup = self._sorted_in_chunks(warmup)
        order = warmup + self._rest(used, g)
        if not any(self.spread):
            return iter(order)
        blocks, tail = self._spread_blocks(g)
        if not self.spread_batches:  # each spread row goes just before a uniformly drawn row of the warm-up
            slots = torch.randint(max(1, len(warmup)), (len(blocks),), generator=g).tolist()
            keyed = [(p, 1, i) for p, i in enumerate(order)] + [(slot, 0, i) for slot, (i,) in zip(slots, blocks)]
            return iter(i for _, _, i in sorted(keyed))
        # batches of spread rows only, each just before a uniformly drawn batch of the warm-up: a spread row beside
        # sessions pads the batch to the longer of them (a 40-token purchase row padded to a 300-token session,
        # or a whole countdown beside short sessions); the batches of the order stay aligned, and the last,
        # partial spread batch goes last
        warmup_batches = max(1, len(warmup) // self.batch_size)
        slots = torch.randint(warmup_batches, (len(blocks),), generator=g).tolist()
        keyed = [(p // self.batch_size, 1, p, [i]) for p, i in enumerate(order)]
        keyed += [(slot, 0, k, batch) for k, (slot, batch) in enumerate(zip(slots, blocks))]
        return iter([i for *_, block in sorted(keyed, key=lambda x: x[:3]) for i in block] + tail)
