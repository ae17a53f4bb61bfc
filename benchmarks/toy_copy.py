"""How many steps does a 4x128 Llama need to copy one of K indexed ticket lines?

A probe of the hardest early step of the transcript format (the copy of ticket K into its
work line), isolated from everything else. Each row: K lines `<iK> a , b , ... f \\n`, a
marker, then K lines `<iK> <a><b>...<f>` in a separate token family; the loss covers only
the copies. Prints the copy accuracy every 100 steps.

    OMP_NUM_THREADS=1 python benchmarks/toy_copy.py --lines 8 --steps 1500
"""
import argparse
import time

import torch
from transformers import AutoModelForCausalLM, LlamaConfig


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--lines", type=int, default=8)
    p.add_argument("--steps", type=int, default=1500)
    p.add_argument("--batch_size", type=int, default=16)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    torch.manual_seed(args.seed)
    n, width = 45, 6
    sep, mark, newline, index0 = n + 1, n + 2, n + 3, n + 4
    family0 = index0 + args.lines
    vocab = family0 + n + 2
    config = LlamaConfig(vocab_size=vocab, hidden_size=128, intermediate_size=352, num_hidden_layers=4,
                         num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=1024,
                         tie_word_embeddings=True)
    model = AutoModelForCausalLM.from_config(config, attn_implementation="sdpa")
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=0.01)
    started = time.time()
    for step in range(args.steps + 1):
        rows, weights = [], []
        for _ in range(args.batch_size):
            tickets = [(torch.randperm(n)[:width].sort().values + 1).tolist() for _ in range(args.lines)]
            seq, w = [], []
            for k, t in enumerate(tickets):
                line = [index0 + k] + [tok for x in t for tok in (x, sep)][:-1] + [newline]
                seq += line
                w += [0] * len(line)
            seq.append(mark)
            w.append(0)
            for k, t in enumerate(tickets):
                line = [index0 + k] + [family0 + x - 1 for x in t] + [newline]
                seq += line
                w += [1] * len(line)
            rows.append(seq)
            weights.append(w)
        ids = torch.tensor(rows)
        w = torch.tensor(weights, dtype=torch.float)[:, 1:]
        logits = model(input_ids=ids).logits[:, :-1]
        ce = torch.nn.functional.cross_entropy(logits.reshape(-1, vocab), ids[:, 1:].reshape(-1), reduction="none")
        loss = (ce.view_as(w) * w).sum() / w.sum()
        loss.backward()
        opt.step()
        opt.zero_grad()
        if step % 100 == 0:
            copies = ids[:, 1:] >= family0
            right = ((logits.argmax(-1) == ids[:, 1:]) & copies).sum().item() / copies.sum().item()
            print(f"step {step:5d}  loss {loss.item():.3f}  copy accuracy {right:.3f}  {time.time() - started:.0f}s",
                  flush=True)


if __name__ == "__main__":
    main()
