"""CID vectors from kubo and from js-ipfs-unixfs's parity tests with go-ipfs, with the content
each was computed over. Sources (read in the upstream repositories):

- HELLO_WORLD_NL: the issue's check, `echo "hello world" | ipfs add`.
- EMPTY: the empty file under `ipfs add` (kubo's well-known empty-file CID; its block is
  0a 04 08 02 18 00).
- KUBO_PROFILE: ipfs/kubo test/cli/cid_profiles_test.go, profile unixfs-v0-2015 (kubo's
  default import settings), at commit 67c89bbd7e13ea6778fb1c17c4373320b7b878e2. Files are
  kubo's testutils.DeterministicRandomReaderBytes(size, seed): the ChaCha20 keystream under
  key sha256(seed) and a zero nonce (test/cli/testutils/random_deterministic.go).
- ZEROS_45_9MB: ipfs/js-ipfs-unixfs packages/ipfs-unixfs-importer/test/
  hash-parity-with-go-ipfs.spec.ts (balanced, cidVersion 0, rawLeaves false, "yields the
  same tree as go-ipfs"), commit 9ecf0337e0aa0d7f6988451b00728c40b753652e. Its "random"
  stream is `256 & Math.floor(random(seed) * 256)`, always 0: 153 chunks of 300000 zero
  bytes, 45,900,000 bytes, past 174 * 256 KiB, so a two-level DAG.
"""

from __future__ import annotations

import hashlib

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms

CHUNK = 262_144

HELLO_WORLD_NL = (b"hello world\n", "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o")
EMPTY = (b"", "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH")

# (what, size, seed or None for the literal "hello world", CID)
KUBO_PROFILE = [
    ("small file 'hello world'", 11, None, "Qmf412jQZiuVUtdgnB36FXFX7xg5V6KEbSJ4dpQuhkLyfD"),
    ("file at chunk size", CHUNK, "chunk-v0-seed", "QmWmRj3dFDZdb6ABvbmKhEL6TmPbAfBZ1t5BxsEyJrcZhE"),
    ("file over chunk size", CHUNK + 1, "chunk-v0-seed", "QmYyLxtzZyW22zpoVAtKANLRHpDjZtNeDjQdJrcQNWoRkJ"),
    ("file at max links", 174 * CHUNK, "v0-seed", "QmUbBALi174SnogsUzLpYbD4xPiBSFANF4iztWCsHbMKh2"),
    ("file over max links (two levels)", 174 * CHUNK + 1, "v0-seed", "QmV81WL765sC8DXsRhE5fJv2rwhS4icHRaf3J9Zk5FdRnW"),
]

ZEROS_45_9MB = (45_900_000, "QmRdPboiJQoZ5cdazR9a8vGqdJvWg6M5bfdtUSKNHpuscj")


def deterministic_bytes(size: int, seed: str) -> bytes:
    """kubo's DeterministicRandomReaderBytes: ChaCha20(key=sha256(seed), nonce=0) keystream."""
    # cryptography's 16-byte nonce is the 32-bit block counter then the 96-bit IETF nonce.
    cipher = Cipher(algorithms.ChaCha20(hashlib.sha256(seed.encode()).digest(), bytes(16)), mode=None)
    return cipher.encryptor().update(bytes(size))


def profile_content(size: int, seed: str | None) -> bytes:
    return b"hello world" if seed is None else deterministic_bytes(size, seed)
