"""Buffered random ids (cnop_common/randomness.py): right sizes, never handed out twice,
not shared across threads, and not repeated by a forked child."""

import os
import re
import threading

import pytest

from cnop_common import randomness

pytestmark = pytest.mark.unit


def test_sizes_and_alphabets_match_the_secrets_module():
    assert re.fullmatch(r"[0-9a-f]{32}", randomness.token_hex(16))
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", randomness.token_urlsafe(16))
    assert len(randomness.token_bytes(randomness.BLOCK_BYTES + 1)) == randomness.BLOCK_BYTES + 1


def test_bytes_are_never_handed_out_twice_across_block_refills():
    # 16-byte values across many refills: a reused slice would repeat a value.
    values = [randomness.token_bytes(16) for _ in range(5 * randomness.BLOCK_BYTES // 16)]
    assert len(set(values)) == len(values)
    # An odd size that does not divide the block: the tail is not reused either.
    odd = [randomness.token_bytes(7) for _ in range(3 * randomness.BLOCK_BYTES // 7)]
    assert len(set(odd)) == len(odd)


def test_each_thread_draws_from_its_own_block():
    seen: list[bytes] = []
    lock = threading.Lock()

    def draw() -> None:
        mine = [randomness.token_bytes(16) for _ in range(500)]
        with lock:
            seen.extend(mine)

    threads = [threading.Thread(target=draw) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(seen)) == len(seen) == 2000


def test_a_forked_child_does_not_repeat_its_parents_next_bytes():
    randomness.token_bytes(16)  # the parent's block is loaded and partly used
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its next value, to the parent, then out
        os.write(write, randomness.token_bytes(16))
        os._exit(0)
    os.close(write)
    child_value = os.read(read, 16)
    os.close(read)
    os.waitpid(pid, 0)
    assert child_value != randomness.token_bytes(16)
