"""The model: a small standard HF causal LM, built from a plain config.

Four architectures, all loadable with `AutoModelForCausalLM` and `pipeline("text-generation")`:
- `llama`: `LlamaConfig` (rotary positions, SwiGLU). The default: in the feasibility runs
  it copied ticket numbers almost perfectly (0.03% error) and stepped ~1.8x faster on this CPU.
- `smollm3`: `SmolLM3Config`, the llama blocks with some layers left without rotary positions
  (`--nope_layers`): attention there matches by content alone, at any distance. With the second of two layers so,
  a ticket's copy held where the default's broke (3-13% wrong at 1,228 tokens on three seeds against 45-67%), but
  walking a typed line by position got weaker and the small suite fell 2-3.4 points (BENCHMARKS.md, session 33).
- `stablelm`: `StableLmConfig`, llama-like blocks (SwiGLU, LayerNorm) whose heads rotate only a share of their
  dimensions (`--partial_rotary_factor`): every head can match by position and by content alone. At 0.5 it had not
  learned the copy after 29 minutes (session 33).
- `gpt2`: `GPT2LMHeadModel` (learned absolute positions), the model of the blog and of the card.

One initialisation choice, no custom modules: the restated draw tokens `<dX>`/`<bX>` and the
ticket-line numbers `[X` / `, X` start as the embedding of the number token `X` plus one random
vector per family, so "is this ticket number drawn" can match equal numbers from the first
step (see feasibility-notes, third round). And one step after training: byte tokens that no
training row holds take the mean embedding of those that do (`fill_unseen_byte_embeddings`).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
from transformers import AutoModelForCausalLM, GPT2Config, LlamaConfig, PreTrainedModel, SmolLM3Config, StableLmConfig

from .tokenizer import BYTE_TOKENS, FUSED_AFFIXES


@dataclass
class ModelArguments:
    arch: str = field(default="llama", metadata={"help": "llama (rotary positions), smollm3 (llama with --nope_layers "
                                                         "left without them), stablelm (rotary on a share of each "
                                                         "head, --partial_rotary_factor) or gpt2"})
    n_layer: int = field(default=4, metadata={"help": "transformer blocks"})
    n_embd: int = field(default=128, metadata={"help": "hidden size"})
    n_head: int = field(default=4, metadata={"help": "attention heads"})
    n_positions: int = field(default=4096, metadata={"help": "longest sequence (100 tickets ~ 3,300 tokens)"})
    rope_theta: float = field(
        default=10000.0, metadata={"help": "rotary base (llama, smollm3, stablelm): larger turns more of each head "
                                           "slowly, so far tokens are told apart less by position (500,000 in "
                                           "session 33: small suite 81.0 against 98.0 percent)"}
    )
    partial_rotary_factor: float = field(
        default=0.25, metadata={"help": "stablelm: the share of each head's dimensions that rotate (the rest match "
                                        "by content at any distance)"}
    )
    nope_layers: list[int] = field(
        default_factory=list,
        metadata={"help": "smollm3: the layers (from 0) without rotary positions (`1` on the 2-layer preset: the far "
                          "copy held, the small suite 2-3.4 points lower)"}
    )
    tie_word_embeddings: bool = field(
        default=True, metadata={"help": "one matrix for the input embedding and the output layer (false: two)"}
    )
    init_number_families: bool = field(
        default=True, metadata={"help": "start <dX>, <bX>, [X and ', X' embeddings from the number X's"}
    )
    family_shift: float = field(
        default=0.1, metadata={"help": "size of each family's random offset, in embedding std units "
                                       "(small: `<dX>` starts close to `X`)"}
    )
    fill_unseen_bytes: bool = field(
        default=True, metadata={"help": "after training, byte tokens (<0xNN>) that no training row holds take the "
                                        "mean input embedding of those that do, so text in a script never typed in "
                                        "training reads as the junk it is (train_summary.json lists them)"}
    )
    model_name_or_path: str | None = field(
        default=None, metadata={"help": "start from a saved model instead of a fresh one"}
    )


def model_problems(args: ModelArguments) -> list[str]:
    """What makes these arguments no model (train.py turns each into a usage error)."""
    problems = []
    if args.arch not in ("llama", "smollm3", "stablelm", "gpt2"):
        problems.append(f"--arch {args.arch!r}: choose llama, smollm3, stablelm or gpt2")
    if not 0 < args.partial_rotary_factor <= 1:
        problems.append(f"--partial_rotary_factor must be in (0, 1], got {args.partial_rotary_factor}")
    if args.nope_layers and args.arch != "smollm3":
        problems.append("--nope_layers needs --arch smollm3")
    if bad := [i for i in args.nope_layers if not 0 <= i < args.n_layer]:
        problems.append(f"--nope_layers {bad}: a model of {args.n_layer} layers numbers them 0-{args.n_layer - 1}")
    if args.rope_theta <= 0:
        problems.append(f"--rope_theta must be positive, got {args.rope_theta}")
    return problems


def make_config(args: ModelArguments, tokenizer):
    if problems := model_problems(args):
        raise ValueError("; ".join(problems))
    ids = dict(
        vocab_size=len(tokenizer),
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    if args.arch == "gpt2":
        return GPT2Config(
            n_layer=args.n_layer, n_embd=args.n_embd, n_head=args.n_head, n_positions=args.n_positions,
            resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, tie_word_embeddings=args.tie_word_embeddings, **ids,
        )
    llama = dict(
        num_hidden_layers=args.n_layer, hidden_size=args.n_embd,
        intermediate_size=_swiglu_width(args.n_embd), num_attention_heads=args.n_head,
        num_key_value_heads=args.n_head, max_position_embeddings=args.n_positions,
        rope_parameters={"rope_type": "default", "rope_theta": args.rope_theta},
        tie_word_embeddings=args.tie_word_embeddings, **ids,
    )
    if args.arch == "llama":
        return LlamaConfig(**llama)
    if args.arch == "stablelm":
        llama["rope_parameters"]["partial_rotary_factor"] = args.partial_rotary_factor
        return StableLmConfig(**llama)
    # smollm3: its `no_rope_layers` holds 1 where a layer keeps rotary positions
    return SmolLM3Config(no_rope_layers=[int(i not in args.nope_layers) for i in range(args.n_layer)], **llama)


def _swiglu_width(n_embd: int) -> int:
    """8/3 x hidden (the parameter count of a 4x GELU MLP), rounded up to a multiple of 32."""
    return -(-(8 * n_embd // 3) // 32) * 32


def build_model(args: ModelArguments, tokenizer, seed: int = 0) -> PreTrainedModel:
    if args.model_name_or_path:
        return AutoModelForCausalLM.from_pretrained(args.model_name_or_path)
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(make_config(args, tokenizer), attn_implementation="sdpa")
    if args.init_number_families:
        init_number_families(model, tokenizer, args.family_shift)
    return model


def init_number_families(model: PreTrainedModel, tokenizer, shift_scale: float = 1.0) -> int:
    """Embedding of `<dX>` = embedding of `X` + v_d (`<bX>`, `[X`, `, X`, `,X`, `<tK>`, `<nK>`, the
    flags `<oX>`, `<+X>`, `<xX>` and `lotto_fused`'s typed `X,`, ` 0X ,` ... likewise: each family shares
    the number's identity). Returns rows set."""
    vocab = tokenizer.get_vocab()
    emb = model.get_input_embeddings().weight
    std = emb.std().item()
    done = 0
    with torch.no_grad():
        # restated draw and bonus, numbers in ticket and typed lines; ticket index and divisor
        families = [("<d{}>", 45), ("<b{}>", 45), ("[{}", 45), (", {}", 45), (",{}", 45), ("<t{}>", 99), ("<n{}>", 99),
                    ("<o{}>", 45), ("<+{}>", 45), ("<x{}>", 45)]
        # `lotto_fused`'s typed numbers (" 037 ,"): one family per affix, drawn only where the vocabulary
        # has them, so the other tokenizers' initialisation (and their measured runs) stays as it was
        families += [(space + zeros + "{}" + comma, 45) for space, zeros, comma in FUSED_AFFIXES
                     if (space + zeros + "1" + comma) in vocab]
        for family, top in families:
            shift = torch.randn(emb.shape[1]) * std * shift_scale
            for x in range(1, top + 1):
                src, dst = vocab.get(str(x)), vocab.get(family.format(x))
                if src is not None and dst is not None:
                    emb[dst] = emb[src] + shift
                    done += 1
    return done


def fill_unseen_byte_embeddings(model: PreTrainedModel, tokenizer, token_counts) -> list[str]:
    """Give the byte tokens that occur nowhere in the training data (`token_counts[id] == 0`) the mean input
    embedding of the byte tokens that do; returns the filled tokens (none for a tokenizer without byte tokens).

    Why: eval.py types junk from scripts the data never holds (Cyrillic, Greek, Hebrew, Arabic, CJK), whose
    UTF-8 lead bytes are then tokens the model has never read: their input embeddings are still the random
    initialisation, and the model read them as anything, a number or another stage's prompt (`21000Κ` answered
    with the range error, `ΛΟΚΤζίι` taken as the winning numbers). The mean of the trained byte tokens is what
    every such byte is: part of a character that is not a digit. transformers' `resize_token_embeddings` starts
    new tokens at the mean embedding for the same reason. (The mean of the trained bytes of the same UTF-8 role,
    lead of a 2- or 3-byte character, measured no better: BENCHMARKS.md, session 24.) Only byte tokens: a work
    token never trained (`<t99>` in a small-money run) is written by the model, not read from the user."""
    vocab = tokenizer.get_vocab()
    byte_ids = [vocab[token] for token in BYTE_TOKENS if token in vocab]
    seen = [i for i in byte_ids if token_counts[i] > 0]
    unseen = [i for i in byte_ids if token_counts[i] == 0]
    if not seen or not unseen:
        return []
    emb = model.get_input_embeddings().weight
    with torch.no_grad():
        emb[unseen] = emb[seen].mean(0)
    return tokenizer.convert_ids_to_tokens(unseen)


def count_parameters(model) -> int:
    return sum(p.numel() for p in model.parameters())
