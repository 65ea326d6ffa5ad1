"""Just enough ed25519 arithmetic (RFC 8032, pure Python, slow and fine for tests) to craft
the signatures that separate a strict check from a lax or cofactored one: keys and R values
of small or mixed order, and signatures made from a raw secret scalar."""

from __future__ import annotations

import hashlib

P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, -1, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)

Point = tuple[int, int, int, int]  # extended coordinates (X, Y, Z, T)
IDENTITY: Point = (0, 1, 1, 0)


def add(a: Point, b: Point) -> Point:
    x1, y1, z1, t1 = a
    x2, y2, z2, t2 = b
    aa, bb = (y1 - x1) * (y2 - x2) % P, (y1 + x1) * (y2 + x2) % P
    cc, dd = 2 * t1 * t2 * D % P, 2 * z1 * z2 % P
    e, f, g, h = bb - aa, dd - cc, dd + cc, bb + aa
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def mul(k: int, point: Point) -> Point:
    out = IDENTITY
    while k:
        if k & 1:
            out = add(out, point)
        point, k = add(point, point), k >> 1
    return out


def encode(point: Point) -> bytes:
    x, y, z, _ = point
    zi = pow(z, -1, P)
    x, y = x * zi % P, y * zi % P
    return (y | ((x & 1) << 255)).to_bytes(32, "little")


def decode(data: bytes) -> Point:
    """The point of a canonical encoding (ValueError for none)."""
    value = int.from_bytes(data, "little")
    y, sign = value & ((1 << 255) - 1), value >> 255
    if y >= P:
        raise ValueError("non-canonical y")
    u, v = (y * y - 1) % P, (D * y * y + 1) % P
    x = u * pow(v, 3, P) * pow(u * pow(v, 7, P), (P - 5) // 8, P) % P
    if v * x * x % P == (-u) % P:
        x = x * SQRT_M1 % P
    if v * x * x % P != u:
        raise ValueError("not on the curve")
    if x & 1 != sign:
        x = (-x) % P
    return (x, y, 1, x * y % P)


B = decode((4 * pow(5, -1, P) % P).to_bytes(32, "little"))
# A point of order 8 (its multiples are the whole torsion subgroup).
TORSION8 = decode(bytes.fromhex("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"))
SMALL_ORDER = [encode(mul(i, TORSION8)) for i in range(8)]  # IDENTITY first


def challenge(r: bytes, key: bytes, message: bytes) -> int:
    return int.from_bytes(hashlib.sha512(r + key + message).digest(), "little") % L


def sign_with(secret: int, key: bytes, message: bytes, nonce: int) -> bytes:
    """A signature by the raw scalar `secret` under the key bytes `key` (which need not be
    secret * B: a mixed-order key is secret * B plus torsion)."""
    r = encode(mul(nonce, B))
    s = (nonce + challenge(r, key, message) * secret) % L
    return r + s.to_bytes(32, "little")
