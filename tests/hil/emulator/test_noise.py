import random

from hil.emulator.noise import gauss_triple


def test_gauss_triple_draws_what_three_gauss_calls_draw() -> None:
    fast, slow = random.Random("noise"), random.Random("noise")
    for k in range(2_000):
        sigma = 0.001 * (k % 50) + 1e-4
        assert gauss_triple(fast, sigma) == (slow.gauss(0.0, sigma), slow.gauss(0.0, sigma), slow.gauss(0.0, sigma))
        if k % 3 == 0:  # interleaved single draws leave the same cached second draw behind
            assert fast.gauss(0.0, 1.0) == slow.gauss(0.0, 1.0)
    assert fast.random() == slow.random()
