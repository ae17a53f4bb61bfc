"""Training-step time of the cpu preset's shape of sessions 1-15 (llama 4x128) with 4 or 8 heads, fp32 or bf16 autocast.

    python benchmarks/heads_bf16_step.py          # fp32
    python benchmarks/heads_bf16_step.py bf16     # bf16 autocast

One thread, batch 8 x 650 random ids (a vocabulary of 1,000), AdamW; seconds per step over 10 steps
after 3, for 4, 8, 4, 8 heads (two rounds each, so drift shows).
"""
import sys
import time

import torch
from transformers import AutoModelForCausalLM, LlamaConfig

from cpu_bf16_step import train_step  # the same step as the fp32/bf16 benchmark beside this file

torch.set_num_threads(1)
bf16 = len(sys.argv) > 1 and sys.argv[1] == "bf16"
seconds = {}
for heads in [4, 8, 4, 8]:
    torch.manual_seed(0)
    config = LlamaConfig(num_hidden_layers=4, hidden_size=128, intermediate_size=352, num_attention_heads=heads,
                         num_key_value_heads=heads, vocab_size=1000, max_position_embeddings=4096,
                         tie_word_embeddings=True)
    model = AutoModelForCausalLM.from_config(config, attn_implementation="sdpa")
    opt = torch.optim.AdamW(model.parameters(), 1e-3)
    x = torch.randint(0, 1000, (8, 650))
    for i in range(13):
        if i == 3:
            start = time.time()
        train_step(model, opt, x, bf16)
    seconds.setdefault(heads, []).append((time.time() - start) / 10)
print("bf16" if bf16 else "fp32", {h: [round(s, 3) for s in v] for h, v in seconds.items()})
