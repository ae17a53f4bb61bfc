"""One optimizer step of the cpu preset's model of sessions 1-15 (llama 4x128) on this CPU: fp32 vs bf16 autocast.

    OMP_NUM_THREADS=2 python benchmarks/cpu_bf16_step.py

Batch 8 of random token ids at two lengths; the median of 6 steps after the first, alternating
fp32 and bf16 twice so drift shows. bf16 pays only where the CPU has bf16 matrix units (AMX,
AVX512-BF16); the Trainer takes it as `--bf16 --use_cpu`.
"""
import statistics
import time

import torch

from lotto_gpt.formats import get_format
from lotto_gpt.modeling import ModelArguments, build_model
from lotto_gpt.tokenizer import build_tokenizer


def train_step(model, opt, x, bf16: bool) -> None:
    """One AdamW step on `x` as its own labels, under bf16 autocast if asked."""
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        loss = model(input_ids=x, labels=x).loss
    loss.backward()
    opt.step()
    opt.zero_grad()


def step_ms(model, opt, x, bf16: bool) -> float:
    times = []
    for _ in range(7):
        start = time.perf_counter()
        train_step(model, opt, x, bf16)
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times[1:])


def main():
    tokenizer = build_tokenizer("lotto", get_format("transcript"), [])
    model = build_model(ModelArguments(), tokenizer)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    for length in (400, 1200):
        x = torch.randint(0, len(tokenizer), (8, length))
        for bf16 in (False, True, False, True):
            print(f"length {length:5d} {'bf16' if bf16 else 'fp32'}: {step_ms(model, opt, x, bf16):6.0f} ms/step")


if __name__ == "__main__":
    main()
