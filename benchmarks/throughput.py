"""Training throughput on the CPU: tokens per second, raw and without padding.

Three comparisons, each measured so that the machine's load hits both sides alike:

    # 1. the cpu preset (its llama shape, lotto tokenizer, dynamic padding, group_by_length, batch 8)
    #    against the blog (seed format, byte-level BPE, GPT-2 4x128, every row padded to 512, batch 8):
    #    both in one process, alternating segments of --steps optimizer steps
    python benchmarks/throughput.py compare --rounds 4 --steps 50

    # 2. torch.compile on/off for the cpu preset, alternating in one process
    python benchmarks/throughput.py compile --rounds 3 --steps 50

    # 3. data parallel on 2 cores: 2 processes x 1 thread (torchrun, gloo, half the batch each) against
    #    1 process x 2 threads: the same global batch, alternating runs of Trainer.train()
    python benchmarks/throughput.py dp --rounds 2 --steps 95 --warmup 5 --rows 800

Every step is a real training step of `TailWeightedTrainer` (its collator, `training_step` with the
weighted loss, AdamW). "tokens" counts every position of the padded batch; "non-padding tokens"
counts attention-mask ones. Besides wall-clock rates, compare/compile report rates per CPU-second
of the process: with --threads 1 that figure is what the step costs on a core of its own, and it
stays put when other jobs share the CPU (wall-clock rates do not). Results go to stdout as a table
and, with --json, to a file.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import torch  # noqa: E402
from transformers import TrainingArguments  # noqa: E402
from transformers.utils import logging as hf_logging  # noqa: E402

from lotto_gpt.data import DataConfig, build_dataset_dict, tokenize_rows  # noqa: E402
from lotto_gpt.formats import get_format  # noqa: E402
from lotto_gpt.modeling import ModelArguments, build_model, count_parameters  # noqa: E402
from lotto_gpt.tokenizer import build_tokenizer  # noqa: E402
from lotto_gpt.trainer import LossArguments, TailWeightedTrainer, WeightedCollator  # noqa: E402

hf_logging.set_verbosity_error()


@dataclass
class Setup:
    name: str
    data: DataConfig
    tokenizer: str
    model: ModelArguments
    batch: int
    loss: LossArguments = field(default_factory=LossArguments)
    max_length: int | None = None
    pad_to_max_length: bool = False
    sampling: str = "group_by_length"
    lr: float = 2e-3


def _preset_flag(preset: str, name: str) -> int:
    """An integer flag that train.py's preset sets today (the batch, the model's shape)."""
    from train import PRESETS

    flags = PRESETS[preset]
    return int(flags[flags.index(name) + 1])


# the cpu preset of train.py (data: DataConfig defaults; model shape and batch: PRESETS["cpu"]). Measured
# here is the length-grouped order with dynamic padding, as after the preset's curriculum (which
# takes its first --curriculum_samples rows shortest first).
PRESET_BATCH = _preset_flag("cpu", "--per_device_train_batch_size")
PRESET_SHAPE = {name: _preset_flag("cpu", f"--{name}") for name in ("n_layer", "n_embd", "n_head")}
CPU_PRESET = Setup(
    name=f"cpu preset (llama {PRESET_SHAPE['n_layer']}x{PRESET_SHAPE['n_embd']}, dynamic padding, group_by_length, "
         f"batch {PRESET_BATCH})",
    data=DataConfig(), tokenizer="lotto",
    model=ModelArguments(arch="llama", **PRESET_SHAPE), batch=PRESET_BATCH,
)
# the blog, as PRESETS["seed"]: seed format, byte-level BPE, GPT-2 4x128, n_positions 512, pad to 512, batch 8
BLOG = Setup(
    name="blog (seed format, byte_bpe, gpt2 4x128, pad to 512, batch 8)",
    data=DataConfig(format="seed", max_money=20_000, small_share=1.0), tokenizer="byte_bpe",
    model=ModelArguments(arch="gpt2", n_layer=4, n_embd=128, n_head=4, n_positions=512), batch=8,
    loss=LossArguments(tail_weight=4.0, ticket_weight=1.0, work_weight=1.0),
    max_length=512, pad_to_max_length=True, sampling="random", lr=5e-4,
)


def prepare(setup: Setup, rows: int, seed: int = 0):
    """Data, tokenizer and model of a setup (data built in memory, `rows` sessions)."""
    raw = build_dataset_dict({"train": rows}, seed, setup.data, num_proc=2)["train"]
    fmt = get_format(setup.data.format)
    tok = build_tokenizer(setup.tokenizer, fmt, raw.select(range(min(2000, rows)))["text"])
    tokenized = raw.map(tokenize_rows, batched=True, remove_columns=raw.column_names,
                        fn_kwargs={"tokenizer": tok, "max_length": setup.max_length})
    model = build_model(setup.model, tok, seed=seed)
    return tok, tokenized, model


def make_trainer(setup: Setup, tok, tokenized, model, output_dir: str, **overrides) -> TailWeightedTrainer:
    kwargs = dict(
        output_dir=output_dir, use_cpu=True, report_to="none", remove_unused_columns=False,
        per_device_train_batch_size=setup.batch, learning_rate=setup.lr, weight_decay=0.01,
        train_sampling_strategy=setup.sampling, length_column_name="length", dataloader_num_workers=0,
        save_strategy="no", eval_strategy="no", disable_tqdm=True, logging_steps=10**9, seed=0,
    )
    kwargs.update(overrides)
    collator = WeightedCollator(tok.pad_token_id, setup.loss.by_kind_id(),
                                pad_to_multiple_of=setup.max_length if setup.pad_to_max_length else None)
    return TailWeightedTrainer(model=model, args=TrainingArguments(**kwargs), data_collator=collator,
                               train_dataset=tokenized, processing_class=tok)


class Runner:
    """Real training steps of one setup, resumable in segments (the data loader keeps its place)."""

    def __init__(self, setup: Setup, rows: int, output_dir: str, compile_model: bool = False):
        self.setup = setup
        tok, tokenized, model = prepare(setup, rows)
        self.parameters = count_parameters(model)
        self.trainer = make_trainer(setup, tok, tokenized, model, output_dir)
        self.model = model
        if compile_model:
            self.model = torch.compile(model, dynamic=True)
        self.trainer.create_optimizer()
        self.loader = self.trainer.get_train_dataloader()
        self.batches = iter(self.loader)
        self.totals = dict(steps=0, seconds=0.0, cpu_seconds=0.0, tokens=0, real_tokens=0, rows=0)
        self.mean_length = sum(tokenized["length"]) / len(tokenized)

    def _next(self):
        try:
            return next(self.batches)
        except StopIteration:
            self.batches = iter(self.loader)
            return next(self.batches)

    def steps(self, n: int, record: bool = True) -> None:
        trainer, device = self.trainer, self.trainer.args.device
        for _ in range(n):
            started, cpu_started = time.perf_counter(), time.process_time()
            batch = self._next()  # collation is part of the cost
            mass = trainer._get_num_items_in_batch([batch], device)
            trainer.training_step(self.model, batch, mass)
            trainer.optimizer.step()
            trainer.optimizer.zero_grad(set_to_none=True)
            elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
            if record:
                t = self.totals
                t["steps"] += 1
                t["seconds"] += elapsed
                t["cpu_seconds"] += cpu
                t["tokens"] += batch["input_ids"].numel()
                t["real_tokens"] += int(batch["attention_mask"].sum())
                t["rows"] += batch["input_ids"].shape[0]

    def report(self) -> dict:
        t = self.totals
        return {
            "setup": self.setup.name, "parameters": self.parameters, "steps": t["steps"],
            "seconds": round(t["seconds"], 2), "steps_per_s": round(t["steps"] / t["seconds"], 3),
            "tokens_per_s": round(t["tokens"] / t["seconds"]),
            "nonpad_tokens_per_s": round(t["real_tokens"] / t["seconds"]),
            "pad_share": round(1 - t["real_tokens"] / t["tokens"], 4),
            # per CPU-second of this process: the figure that survives a CPU shared with other jobs
            # (meaningful with --threads 1; with more threads it also counts their spin-waiting)
            "cpu_seconds": round(t["cpu_seconds"], 2),
            "nonpad_tokens_per_cpu_s": round(t["real_tokens"] / t["cpu_seconds"]),
            "tokens_per_cpu_s": round(t["tokens"] / t["cpu_seconds"]),
            "sessions_per_s": round(t["rows"] / t["seconds"], 2),
            "mean_row_tokens": round(self.mean_length, 1),
        }


def alternate(runners: list[Runner], rounds: int, steps: int, warmup: int) -> list[dict]:
    for runner in runners:
        runner.steps(warmup, record=False)
    for r in range(rounds):
        for runner in runners:
            runner.steps(steps)
        print(f"round {r + 1}/{rounds}: " + "; ".join(
            f"{x.setup.name.split(' (')[0]}{' [compiled]' if x.model is not x.trainer.model else ''} "
            f"{x.totals['real_tokens'] / x.totals['seconds']:,.0f} non-pad tok/s, "
            f"{x.totals['real_tokens'] / x.totals['cpu_seconds']:,.0f} per CPU-s" for x in runners), flush=True)
    return [x.report() for x in runners]


# ---------------------------------------------------------------- data parallel

def dp_worker(args) -> None:
    """One Trainer.train() run of the cpu preset; rank 0 prints a JSON line of its throughput."""
    from transformers import TrainerCallback

    setup = CPU_PRESET
    tok, tokenized, model = prepare(setup, args.rows)

    class Clock(TrainerCallback):
        """Times the optimizer steps after the warm-up (forward, backward, all-reduce, optimizer)."""

        def __init__(self):
            self.start = None
            self.seconds = 0.0

        def on_step_begin(self, a, state, control, **kw):
            if state.global_step >= args.warmup:
                self.start = time.perf_counter()

        def on_step_end(self, a, state, control, **kw):
            if self.start is not None:
                self.seconds += time.perf_counter() - self.start
                self.start = None

    clock = Clock()
    with tempfile.TemporaryDirectory() as out:
        trainer = make_trainer(setup, tok, tokenized, model, out, max_steps=args.warmup + args.steps,
                               per_device_train_batch_size=args.batch)
        trainer.add_callback(clock)
        counted = []  # (tokens, non-padding tokens) of each batch, in the order the steps use them
        collate = trainer.data_collator

        def counting_collator(features):
            batch = collate(features)
            counted.append((batch["input_ids"].numel(), int(batch["attention_mask"].sum())))
            return batch

        trainer.data_collator = counting_collator
        trainer.train()
        # tokens of the timed steps only (gradient accumulation 1: step i uses batch i), all processes
        world = trainer.args.world_size
        timed = counted[args.warmup:args.warmup + args.steps]
        totals = torch.tensor([sum(t for t, _ in timed), sum(r for _, r in timed)], dtype=torch.float64)
        if world > 1:
            totals = trainer.accelerator.reduce(totals, reduction="sum")
        if trainer.is_world_process_zero():
            print("DP_RESULT " + json.dumps({
                "processes": world, "threads_per_process": torch.get_num_threads(),
                "per_device_batch": args.batch, "global_batch": args.batch * world, "steps": args.steps,
                "seconds": round(clock.seconds, 2),
                "tokens_per_s": round(totals[0].item() / clock.seconds),
                "nonpad_tokens_per_s": round(totals[1].item() / clock.seconds),
                "steps_per_s": round(args.steps / clock.seconds, 3),
            }), flush=True)


def run_dp(args) -> list[dict]:
    script = os.path.abspath(__file__)
    common = ["dp-worker", "--rows", str(args.rows), "--steps", str(args.steps), "--warmup", str(args.warmup)]
    b = args.batch  # the global batch, the same on both sides
    variants = {
        f"1 process x 2 threads, batch {b}": (
            [sys.executable, script, *common, "--batch", str(b)], {"OMP_NUM_THREADS": "2"}),
        f"2 processes x 1 thread (torchrun, gloo), batch {b // 2} each": (
            [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
             script, *common, "--batch", str(b // 2)], {"OMP_NUM_THREADS": "1"}),
    }
    results = {name: [] for name in variants}
    for r in range(args.rounds):
        for name, (cmd, extra) in variants.items():
            env = dict(os.environ, **extra, TOKENIZERS_PARALLELISM="false")
            proc = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=ROOT)
            line = next((x for x in proc.stdout.splitlines() if x.startswith("DP_RESULT ")), None)
            if proc.returncode or line is None:
                raise SystemExit(f"{name} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
            result = json.loads(line[len("DP_RESULT "):])
            results[name].append(result)
            print(f"round {r + 1}/{args.rounds}: {name}: {result['nonpad_tokens_per_s']:,} non-pad tok/s", flush=True)
    out = []
    for name, runs in results.items():
        seconds = sum(x["seconds"] for x in runs)
        steps = sum(x["steps"] for x in runs)
        out.append({
            "setup": name, "steps": steps, "seconds": round(seconds, 2),
            "steps_per_s": round(steps / seconds, 3),
            "tokens_per_s": round(sum(x["tokens_per_s"] * x["seconds"] for x in runs) / seconds),
            "nonpad_tokens_per_s": round(sum(x["nonpad_tokens_per_s"] * x["seconds"] for x in runs) / seconds),
        })
    return out


# ---------------------------------------------------------------- main

def machine() -> dict:
    load = os.getloadavg()
    return {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
            "torch_threads": torch.get_num_threads(), "torch": torch.__version__,
            "loadavg_at_end": [round(x, 2) for x in load], "date": time.strftime("%Y-%m-%d %H:%M:%S %Z")}


def print_table(results: list[dict]) -> None:
    keys = [k for k in ("steps", "seconds", "steps_per_s", "tokens_per_s", "nonpad_tokens_per_s", "pad_share",
                        "sessions_per_s", "cpu_seconds", "tokens_per_cpu_s", "nonpad_tokens_per_cpu_s",
                        "mean_row_tokens") if any(k in r for r in results)]
    print("| setup | " + " | ".join(keys) + " |")
    print("|---|" + "---|" * len(keys))
    for r in results:
        print(f"| {r['setup']} | " + " | ".join(f"{r.get(k, '')}" for k in keys) + " |")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["compare", "compile", "dp", "dp-worker"])
    parser.add_argument("--rounds", type=int, default=4, help="alternations of the compared sides")
    parser.add_argument("--steps", type=int, default=50, help="timed optimizer steps per side and round")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps first (per side)")
    parser.add_argument("--rows", type=int, default=4000, help="sessions built per setup")
    parser.add_argument("--batch", type=int, default=PRESET_BATCH,
                        help="dp: the global batch (split over the processes); dp-worker: per-device batch")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads for compare/compile (default: torch's choice, one per core); "
                             "1 keeps the measurement meaningful on a CPU shared with other jobs")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args(argv)
    if args.threads and args.mode in ("compare", "compile"):
        torch.set_num_threads(args.threads)

    if args.mode == "dp-worker":
        return dp_worker(args)
    if args.mode == "dp":
        results = run_dp(args)
        ratio = {"2proc_over_1proc_nonpad": round(results[1]["nonpad_tokens_per_s"] / results[0]["nonpad_tokens_per_s"], 3)}
    else:
        with tempfile.TemporaryDirectory() as out:
            if args.mode == "compare":
                runners = [Runner(CPU_PRESET, args.rows, out), Runner(BLOG, args.rows, out)]
            else:
                runners = [Runner(CPU_PRESET, args.rows, out), Runner(CPU_PRESET, args.rows, out, compile_model=True)]
                runners[1].setup = Setup(**{**CPU_PRESET.__dict__, "name": CPU_PRESET.name + " + torch.compile"})
            results = alternate(runners, args.rounds, args.steps, args.warmup)
        a, b = results
        ratio = {
            "nonpad_tokens_per_s_ratio": round(a["nonpad_tokens_per_s"] / b["nonpad_tokens_per_s"], 3),
            "nonpad_tokens_per_cpu_s_ratio": round(a["nonpad_tokens_per_cpu_s"] / b["nonpad_tokens_per_cpu_s"], 3),
            "tokens_per_s_ratio": round(a["tokens_per_s"] / b["tokens_per_s"], 3),
            "sessions_per_s_ratio": round(a["sessions_per_s"] / b["sessions_per_s"], 3),
        }
    print_table(results)
    summary = {"mode": args.mode, "command": " ".join(sys.argv), "machine": machine(), "results": results,
               "ratios": ratio, "rounds": args.rounds, "steps": args.steps, "warmup": args.warmup}
    print(json.dumps(summary["ratios"]), json.dumps(summary["machine"]))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(summary, f, indent=2)
    return summary


if __name__ == "__main__":
    main()
