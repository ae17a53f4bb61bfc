"""Tokenizers, built with `tokenizers` and wrapped as `PreTrainedTokenizerFast`.

`lotto`: the base design (the cpu preset uses its `lotto_thousands` variant). A BPE model whose
vocabulary is designed rather than trained, because the split of numbers is the point of the
design (trained merges would cut amounts arbitrarily):
- every maximal run of one or two digits is one token ("8", "21"): one token per lotto
  number in draws and typed winning numbers, whatever the spacing; leading zeros of a typed
  number are their own token ("034" is `0` `34`); a comma right before a
  number from 1 to 45 is part of it (`9,37,39` is `9` `,37` `,39`), so the numbers of a typed
  line are consecutive tokens too and restating them is a plain induction copy; a typed
  ", " stays apart (`9, 37` is `9` `, ` `37`): `, 37` is a ticket-line token only;
- inside a ticket line a number carries its separator: `[8, 21, 23]` is `[8` `, 21` `, 23` `]`,
  so a ticket's numbers are consecutive tokens, each naming its number, and the work line
  that copies the ticket is the same token run (a plain induction copy, see formats/transcript);
- longer runs (amounts like "8000") and digits next to a decimal point ("62.5") stay single
  digits, so arithmetic reads digit by digit;
- every fixed program text (prompts, errors, labels) and every hidden work token is one
  added token;
- any other character is itself if printable ASCII, else its UTF-8 bytes (`byte_fallback`):
  any typed line encodes and decodes losslessly, with no unknown token.

`lotto_stride`: the same, except that what stands between typed numbers (spaces, a comma, leading
zeros) is one token and a typed number is always the bare number token (measured; not the default).

`lotto_fused`: the same as `lotto` everywhere but in what the user typed, where a number carries its
spaces, leading zeros and the comma after it (`9,` ` 037 ,` `39`): one token per typed number however
it was spaced or padded (measured; see BENCHMARKS.md).

`lotto_thousands`: the same as `lotto` except that a typed amount in whole thousands is its count of thousands
and then `000` (`20000` is `20` `000`): the ticket count is a copy (the cpu preset's, with `fold_other`, since
session 27: BENCHMARKS.md).

`lotto_fused_thousands`: both, `lotto_fused`'s typed numbers and `lotto_thousands`'s typed amounts (measured; see
BENCHMARKS.md, session 29).

`fold_other=True` (any `lotto` kind, train.py's `--fold_other_chars`): every character of the text that is not printable
ASCII or a newline is one token, `OTHER` (a normalizer: added tokens, the program's texts, are matched before it).
The program reads only ASCII digits, spaces and commas (`rules._DIGITS`, `rules._trim`); every other character
is the same to it, so a typed junk character is one token the model has seen, whatever its script, in place of
its 2-4 UTF-8 bytes (unseen bytes and unseen byte sequences were how never-seen junk differed). Typed lines
decode with their junk as `OTHER`; the console never prints typed lines.

`byte_bpe`: a GPT-2-style byte-level BPE trained on the seed corpus (the blog's setup; the
real `gpt2` files load by name where the Hub is reachable: `load_tokenizer("gpt2")`).
"""
from __future__ import annotations

from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
from transformers import AutoTokenizer, PreTrainedTokenizerFast

BOS, EOS, PAD = "<s>", "</s>", "<pad>"
# `byte_fallback`'s names for the UTF-8 bytes of a character that is not in the vocabulary
BYTE_TOKENS = [f"<0x{b:02X}>" for b in range(256)]
GPT2_EOS = "<|endoftext|>"
PRINTABLE_ASCII = range(0x20, 0x7F)  # one token each in the designed vocabularies, with the newline
# `fold_other`: what every character but printable ASCII and the newline becomes (one token)
OTHER = "\ufffd"
OTHER_CHARS = rf"[^\n\x{PRINTABLE_ASCII.start:02x}-\x{PRINTABLE_ASCII.stop - 1:02x}]"
# a 1-2 digit run not touching another digit or a decimal point, with what BPE merges into it
# for 1..45: the "[" before it, the ", " before it inside a ticket line (that is, followed by
# more ", N" and then "]" or the end of the piece: a work line's copy stops before "]" and an
# added token), or a bare "," before it; else a single digit. A typed "1, 16" is thus `1` `, `
# `16`, not the ticket-line token `, 16`: the copy of a ticket finds its numbers in ticket lines
# only (3 seeds: 75.6/62.4/54.0% fully right, against 54.4/30.8/36.8% with the typed ", 16"
# fused; BENCHMARKS.md, data v7).
TICKET_NUMBER = (r"\[(?<![\d.])\d{1,2}(?![\d.])"
                 r"|, \d{1,2}(?![\d.])(?=(?:, \d{1,2}(?![\d.]))*(?:\]|\z))")
NUMBER_PATTERN = TICKET_NUMBER + r"|,?(?<![\d.])\d{1,2}(?![\d.])|\d"
# leading zeros of a typed lotto number ("034", "07") are split off first, so the number
# itself is the same token as without them (`0` `34`): restating it stays a plain copy
LEADING_ZEROS = r"(?<![\d.])0+(?=[1-9]\d?(?![\d.]))"
# `lotto_stride` (measured, not the default): what stands between typed numbers is one piece and one
# token (spaces, a comma, spaces, leading zeros: " , 00" in "7 , 0024"), and a typed number is
# always the bare number token, so a typed line is number, separator, number, ...: the k-th
# number is two tokens after the one before it however the user spaced and padded it. Variant
# winning lines were then restated wrongly 1/96 and 11/97 times (v7: 47/96, 97/97), but the
# membership flags failed (first wrong line in 249 and 154 of 500 sessions; BENCHMARKS.md)
STRIDE_TICKET_NUMBER = (r"\[[1-9]\d?(?![\d.])"
                        r"|, [1-9]\d?(?![\d.])(?=(?:, \d{1,2}(?![\d.]))*(?:\]|\z))")
TYPED_SEPARATOR = r"(?:[ ]*,[ ]*0*|(?<![\d.])[ ]*0+|(?<![\d.,])[ ]+)(?=[1-9]\d?(?![\d.]))"
WHOLE_SEPARATOR = r"\A(?=.)[ ]*,?[ ]*0*\z"  # the second split keeps a separator piece whole
STRIDE_NUMBER = r"(?<![\d.])\d{1,2}(?![\d.])|\d"
# `lotto_fused`: a typed number carries one leading space, one or two leading zeros and the comma (with
# one space before it) that ends it: "9, 037 ,39" is `9,` ` 037 ,` `39`, so the k-th typed number is the
# k-th token of its line however it was spaced or padded (a stride of one, as in "9,37,39"), and no typed
# token is a ticket-line token (a ticket's `, 37` starts with its comma, a typed `37,` ends with one).
# The program's amounts and rates keep `lotto`'s digits: a comma that opens thousands groups ending in
# "." or "원" is not fused ("5,000원", "40,002,100.0%"), nor one that ends its piece (the rate line's
# "4,<p3>" before a place token; a typed line's piece always ends with its newline); a typed "5,000" is
# `5,` `0` `0` `0`.
THOUSANDS_GROUPS = r"\d{3}(?:,\d{3})*[.원]"  # what follows the comma of "5,000원" or "40,002,100.0%"
FUSED_TYPED_NUMBER = (r"(?: )?(?<![\d.])(?:0{1,2}[1-9]\d?(?![\d.])(?!," + THOUSANDS_GROUPS + r")|[1-9]\d?(?![\d.]))"
                      r"(?: ?,(?!" + THOUSANDS_GROUPS + r"|\z))?")
# otherwise leading zeros and the number after them are split as `lotto` splits them ("0" "37")
FUSED_PATTERN = (TICKET_NUMBER + "|" + FUSED_TYPED_NUMBER + "|" + LEADING_ZEROS
                 + r"|(?<=[^\d.]0|[^\d.]00|\A0|\A00)[1-9]\d?(?![\d.])|\d")
FUSED_AFFIXES = [(space, zeros, comma) for space in ("", " ") for zeros in ("", "0", "00") for comma in ("", ",", " ,")
                 if (space, zeros, comma) != ("", "", "")]
# `lotto_thousands`: an amount typed in whole thousands is the count and then `000`: "20000" is `20`
# `000`, "5000" is `5` `000`, "100000" is `1` `0` `0` `000`, so the ticket count ("20개를 구매했습니다.")
# and the countdown's first index (`<t20>`) are copies of the token before `000`. With digits
# only, the count needs the number of digits ("2000" -> 2, "20000" -> 20), and "20000" came out
# as "2개" in up to 32 of 500 sessions (BENCHMARKS.md, session 12). Only a run of four or more
# digits ending in exactly three zeros is split this way ("1,000" and "2000.5" are not).
THOUSANDS = r"(?<![\d.,])\d{1,2}(?=000(?![\d.]))|(?<=\d)000(?![\d.])"
# leading zeros before such an amount are split off first, as before a lotto number ("012000": `0` `12` `000`)
THOUSANDS_LEADING_ZEROS = r"(?<![\d.])0+(?=[1-9]\d?(?:000)?(?![\d.]))"
# `lotto_fused_thousands`: both. The ticket numbers and the fused typed numbers are cut out of the whole text first;
# the later splits keep such a piece whole (they see one piece at a time, where " 037 ," ends its piece) and
# cut the rest as `lotto_thousands` does
FUSED_PIECE = r"\A(?:" + TICKET_NUMBER + r"|[ ]?0{0,2}[1-9]\d?(?:[ ]?,)?)\z"
TICKET_OPEN, TICKET_SEP, TYPED_SEP = "[", ", ", ","
MODEL_MAX_LENGTH = 4096  # 100 tickets with work lines is about 3,300 tokens


def number_tokens() -> list[str]:
    return [str(n) for n in range(1, 46)]


def first_number_tokens() -> list[str]:
    """`[1` .. `[45`: the first number of a ticket line, with its bracket."""
    return [TICKET_OPEN + n for n in number_tokens()]


def next_number_tokens() -> list[str]:
    """`, 1` .. `, 45`: the second to sixth numbers of a ticket line, with the separator."""
    return [TICKET_SEP + n for n in number_tokens()]


def typed_separators() -> list[str]:
    """`lotto_stride`'s separator tokens: up to one space each side of a comma, up to three
    leading zeros (longer runs stay lossless, as several tokens)."""
    with_comma = [a + "," + b + z for a in ("", " ") for b in ("", " ") for z in ("", "0", "00", "000")]
    return with_comma + [a + z for a in ("", " ") for z in ("0", "00", "000")] + [" "]


def fused_number_tokens() -> list[str]:
    """`lotto_fused`'s typed number tokens for 1..45: " 037 ," and the like (`FUSED_AFFIXES`)."""
    return [space + zeros + n + comma for space, zeros, comma in FUSED_AFFIXES for n in number_tokens()]


def _merge_into_one_token(text: str, vocab: dict, merges: list) -> None:
    """Append the merges that make `text` one token: BPE applies merges by rank, so split `text`
    as the merges so far do, then join the first two pieces, until one is left."""
    while len(parts := [t.value for t in models.BPE(vocab=dict(vocab), merges=list(merges)).tokenize(text)]) > 1:
        vocab[parts[0] + parts[1]] = len(vocab)
        merges.append((parts[0], parts[1]))


def build_lotto_tokenizer(extra_tokens=(), typed_stride: bool = False, typed_fused: bool = False,
                          thousands: bool = False, fold_other: bool = False) -> PreTrainedTokenizerFast:
    """The designed tokenizer; `extra_tokens` are the format's program and work texts;
    `typed_stride`: the `lotto_stride` variant (typed separators as one token); `typed_fused`: the
    `lotto_fused` variant (a typed number and its separators as one token); `thousands`: the
    `lotto_thousands` variant (a typed amount is its count of thousands, then `000`); `fold_other`: every
    character but printable ASCII and the newline is the one token `OTHER`."""
    vocab: dict[str, int] = {}
    for token in [PAD, BOS, EOS] + BYTE_TOKENS:
        vocab[token] = len(vocab)
    for char in ["\n"] + [chr(c) for c in PRINTABLE_ASCII] + ([OTHER] if fold_other else []):
        vocab.setdefault(char, len(vocab))
    merges = []
    for a in "0123456789":
        for b in "0123456789":
            vocab[a + b] = len(vocab)
            merges.append((a, b))
    vocab[", "] = len(vocab)
    merges.append((",", " "))
    for prefix in (TICKET_OPEN, TICKET_SEP) if typed_stride or typed_fused else (TICKET_OPEN, TICKET_SEP, TYPED_SEP):
        for n in number_tokens():
            vocab[prefix + n] = len(vocab)
            merges.append((prefix, n))
    if typed_stride:
        for separator in typed_separators():
            _merge_into_one_token(separator, vocab, merges)
        splits = [STRIDE_TICKET_NUMBER + "|" + TYPED_SEPARATOR,
                  "|".join([STRIDE_TICKET_NUMBER, WHOLE_SEPARATOR, STRIDE_NUMBER])]
    elif typed_fused:
        for token in fused_number_tokens():
            _merge_into_one_token(token, vocab, merges)
        splits = [TICKET_NUMBER + "|" + FUSED_TYPED_NUMBER, FUSED_PIECE + "|" + THOUSANDS_LEADING_ZEROS,
                  FUSED_PIECE + "|" + THOUSANDS + "|" + NUMBER_PATTERN] if thousands else [FUSED_PATTERN]
    elif thousands:
        splits = [THOUSANDS_LEADING_ZEROS, THOUSANDS + "|" + NUMBER_PATTERN]
    else:
        splits = [LEADING_ZEROS, NUMBER_PATTERN]
    if thousands:
        _merge_into_one_token("000", vocab, merges)
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges, byte_fallback=True, fuse_unk=False))
    if fold_other:
        tok.normalizer = normalizers.Replace(Regex(OTHER_CHARS), OTHER)
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Split(Regex(pattern), behavior="isolated") for pattern in splits])
    tok.decoder = decoders.Sequence([decoders.ByteFallback(), decoders.Fuse()])
    tok.add_special_tokens([PAD, BOS, EOS])
    tok.add_tokens([AddedToken(t, normalized=False, single_word=False) for t in extra_tokens])
    # every text starts with BOS, so a prompt tokenizes exactly like the start of a training row
    tok.post_processor = processors.TemplateProcessing(
        single=f"{BOS} $A", pair=f"{BOS} $A $B", special_tokens=[(BOS, vocab[BOS])]
    )
    return _wrap(tok, bos=BOS, eos=EOS, pad=PAD)


def build_byte_bpe_tokenizer(texts, vocab_size: int = 2000) -> PreTrainedTokenizerFast:
    """GPT-2-style byte-level BPE trained on `texts` (the seed baseline's tokenizer)."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[GPT2_EOS],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer)
    return _wrap(tok, bos=GPT2_EOS, eos=GPT2_EOS, pad=GPT2_EOS)


def _wrap(tok: Tokenizer, bos: str, eos: str, pad: str) -> PreTrainedTokenizerFast:
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token=bos,
        eos_token=eos,
        pad_token=pad,
        padding_side="left",  # generation pads left; the training collator pads itself
        model_max_length=MODEL_MAX_LENGTH,
        clean_up_tokenization_spaces=False,
    )


LOTTO_KINDS = ("lotto", "lotto_stride", "lotto_fused", "lotto_thousands", "lotto_fused_thousands")


def build_tokenizer(kind: str, fmt, corpus=(), fold_other: bool = False) -> PreTrainedTokenizerFast:
    """`lotto` (designed), `lotto_stride` / `lotto_fused` / `lotto_thousands` (its variants), `byte_bpe`
    (trained on `corpus`) or `gpt2` (the Hub's files); `fold_other`: a `lotto` kind's junk characters as one token."""
    if kind in LOTTO_KINDS:
        return build_lotto_tokenizer(fmt.program_vocabulary() + fmt.work_vocabulary(),
                                     typed_stride=kind == "lotto_stride",
                                     typed_fused=kind in ("lotto_fused", "lotto_fused_thousands"),
                                     thousands=kind in ("lotto_thousands", "lotto_fused_thousands"), fold_other=fold_other)
    if fold_other:
        raise ValueError(f"fold_other is a lotto tokenizer option ({', '.join(LOTTO_KINDS)}), not {kind!r}'s")
    if kind == "byte_bpe":
        return build_byte_bpe_tokenizer(corpus)
    if kind == "gpt2":
        tokenizer = AutoTokenizer.from_pretrained("gpt2")
        tokenizer.pad_token = tokenizer.eos_token
        return tokenizer
    raise ValueError(f"unknown tokenizer {kind!r}; choose {', '.join(LOTTO_KINDS)}, byte_bpe or gpt2")
