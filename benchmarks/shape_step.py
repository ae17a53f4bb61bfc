"""What one optimizer step costs for each model shape, on this CPU, as a ratio to the first shape's.

    OMP_NUM_THREADS=1 python benchmarks/shape_step.py [--shapes 4x128 4x96 3x128] [--lengths 250 600]

The step of `train.py`'s model (llama, untied embeddings, the `lotto` tokenizer's vocabulary) on a
batch of 8 random token ids of each length: the median of 5 timed AdamW steps after one untimed,
each shape timed twice with the others in between so drift shows. The 29-minute budget reads
about (ratio x) the rows of the first shape, so a shape's curriculum and step-counted schedule
scale by its ratio to cover the same part of training (BENCHMARKS.md, session 16).
"""
import argparse
import statistics
import time

import torch

from lotto_gpt.formats import get_format
from lotto_gpt.modeling import ModelArguments, build_model, count_parameters
from lotto_gpt.tokenizer import build_tokenizer


def parse_shape(text: str) -> tuple[int, int]:
    """'4x128' -> (layers, hidden size)."""
    try:
        layers, width = (int(x) for x in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"a shape is LAYERSxWIDTH, e.g. 4x128 (got {text!r})") from None
    if layers < 1 or width < 1:
        raise argparse.ArgumentTypeError(f"layers and width must be positive (got {text!r})")
    return layers, width


def step_ms(model, batch: torch.Tensor, steps: int) -> float:
    """Median wall time of `steps` AdamW steps on `batch` as its own labels, after one untimed step."""
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    times = []
    for _ in range(steps + 1):
        start = time.perf_counter()
        model(input_ids=batch, labels=batch).loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times[1:])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shapes", type=parse_shape, nargs="+", default=[(4, 128), (4, 96), (3, 128), (3, 96)],
                        help="LAYERSxWIDTH; the first is the baseline of the ratios")
    parser.add_argument("--n_head", type=int, default=4)
    parser.add_argument("--lengths", type=int, nargs="+", default=[250, 600])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--steps", type=int, default=5)
    args = parser.parse_args()
    bad = [f"{layers}x{width}" for layers, width in args.shapes if width % args.n_head]
    if bad:
        parser.error(f"the width must be a multiple of --n_head {args.n_head}: {', '.join(bad)}")
    tokenizer = build_tokenizer("lotto", get_format("transcript"), [])

    def model_of(shape):
        return build_model(ModelArguments(n_layer=shape[0], n_embd=shape[1], n_head=args.n_head,
                                          tie_word_embeddings=False), tokenizer)

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch {args.batch}")
    print("| length | shape | parameters | ms/step (two rounds) | steps per minute vs the first shape |")
    print("|---|---|---|---|---|")
    for length in args.lengths:
        batch = torch.randint(0, len(tokenizer), (args.batch, length), generator=torch.Generator().manual_seed(0))
        times, parameters = {shape: [] for shape in args.shapes}, {}
        for _ in range(2):
            for shape in args.shapes:
                model = model_of(shape)  # fresh weights and optimizer state for every timing
                parameters[shape] = count_parameters(model)
                times[shape].append(step_ms(model, batch, args.steps))
        base = statistics.mean(times[args.shapes[0]])
        for shape in args.shapes:
            rounds = ", ".join(f"{t:.0f}" for t in times[shape])
            print(f"| {length} | {shape[0]}x{shape[1]} | {parameters[shape]:,} | {rounds} | "
                  f"{base / statistics.mean(times[shape]):.2f} |")


if __name__ == "__main__":
    main()
