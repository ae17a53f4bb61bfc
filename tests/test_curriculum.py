"""The curriculum sampler: short sessions first, every row once, reproducible."""
import random

import pytest

from lotto_gpt.trainer import CurriculumSampler


def lengths(n, seed=0):
    rng = random.Random(seed)
    return [rng.randint(50, 3000) for _ in range(n)]


@pytest.mark.parametrize("n", [1, 7, 64, 500])
def test_every_row_appears_once_even_when_the_warmup_exceeds_the_data(n):
    order = list(CurriculumSampler(lengths(n), batch_size=8, warmup_samples=8000, seed=0))
    assert sorted(order) == list(range(n))


def test_same_seed_same_order_and_another_seed_another():
    data = lengths(2000)
    first = list(CurriculumSampler(data, 8, 400, seed=1))
    assert first == list(CurriculumSampler(data, 8, 400, seed=1))
    assert first != list(CurriculumSampler(data, 8, 400, seed=2))


def test_the_warmup_starts_with_the_shortest_rows():
    data = lengths(5000)
    order = list(CurriculumSampler(data, 8, 1000, seed=0))
    cutoff = sorted(data)[len(data) // 10]  # the early window is the shortest 5% to 10%
    assert all(data[i] <= cutoff for i in order[:40])
    assert max(data[i] for i in order[1000:]) == max(data)


def test_without_warmup_it_is_plain_length_grouping():
    data = lengths(300)
    assert sorted(CurriculumSampler(data, 8, 0, seed=0)) == list(range(300))
