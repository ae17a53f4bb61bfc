"""lotto-gpt: a tiny GPT trained from scratch to be the Woowa Tech Course lotto console program.

    from lotto_gpt import LottoMachine
    machine = LottoMachine.from_pretrained("outputs/cpu")        # or a Hub id, "owner/name"
    play = machine.play(["8000", "1,2,3,4,5,6", "7"], seed=1)
    print(play.stdout)

`LottoMachine`, `Play` and `Session` are imported lazily (torch and transformers load on first
use), so `import lotto_gpt` and `lotto_gpt.rules` stay light.
"""
from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["LottoMachine", "Play", "Session", "__version__"]

_LAZY = {"LottoMachine": "generation", "Play": "generation", "Session": "generation"}


def __getattr__(name: str):
    if name in _LAZY:
        from importlib import import_module

        value = getattr(import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_LAZY))
