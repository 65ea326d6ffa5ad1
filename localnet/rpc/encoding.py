"""Account encodings for the RPC and PubSub answers, as Solana shapes them: base58, base64,
base64+zstd (only when the `zstandard` package is importable), jsonParsed (SPL Token and
Token-2022 accounts and mints without extensions, BPF Loader Upgradeable accounts; anything else falls back to base64, as
Solana does), dataSlice, and the memcmp / dataSize filters."""

from __future__ import annotations

import base64
from decimal import Decimal

import based58
from solders.account import Account
from solders.pubkey import Pubkey

from crowdcompute.common.token import TOKEN_2022_PROGRAM_ID, TOKEN_PROGRAM_ID
from ..runtime.loader import parse_upgradeable_loader

try:  # optional
    import zstandard  # type: ignore
except ImportError:  # pragma: no cover - depends on the environment
    zstandard = None

__all__ = ["RpcError", "encode_account", "parse_filters", "matches", "ui_amount", "parse_token_account", "parse_mint", "ENCODINGS"]

ENCODINGS = ("base58", "base64", "base64+zstd", "jsonParsed")
MAX_BASE58_BYTES = 128


class RpcError(Exception):
    def __init__(self, code: int, message: str, data: object = None) -> None:
        super().__init__(message)
        self.code, self.message, self.data = code, message, data

    def to_json(self) -> dict:
        error = {"code": self.code, "message": self.message}
        if self.data is not None:
            error["data"] = self.data
        return error


def invalid_params(message: str) -> RpcError:
    return RpcError(-32602, message)


def check_encoding(encoding: str | None) -> None:
    if encoding is not None and encoding not in ENCODINGS + ("binary",):
        raise invalid_params(f"Invalid params: unknown variant `{encoding}`, expected one of `binary`, `base58`, `base64`, `jsonParsed`, `base64+zstd`")
    if encoding == "base64+zstd" and zstandard is None:
        raise invalid_params("base64+zstd encoding is not available on this localnet (the zstandard package is not installed)")


def _slice(data: bytes, data_slice: dict | None) -> bytes:
    if not data_slice:
        return data
    try:
        offset, length = int(data_slice["offset"]), int(data_slice["length"])
    except (KeyError, TypeError, ValueError):
        raise invalid_params("Invalid params: dataSlice needs offset and length") from None
    if offset < 0 or length < 0:
        raise invalid_params("Invalid params: dataSlice offset and length must be non-negative")
    return data[offset:offset + length]


def encode_data(data: bytes, encoding: str | None) -> object:
    if encoding in (None, "binary"):
        if len(data) > MAX_BASE58_BYTES:
            raise RpcError(-32600, "Encoded binary (base 58) data should be less than 128 bytes, please use Base64 encoding.")
        return based58.b58encode(data).decode()
    if encoding == "base58":
        if len(data) > MAX_BASE58_BYTES:
            raise RpcError(-32600, "Encoded binary (base 58) data should be less than 128 bytes, please use Base64 encoding.")
        return [based58.b58encode(data).decode(), "base58"]
    if encoding == "base64+zstd":
        return [base64.b64encode(zstandard.ZstdCompressor().compress(data)).decode(), "base64+zstd"]
    return [base64.b64encode(data).decode(), "base64"]


def encode_account(account: Account | None, encoding: str | None, data_slice: dict | None = None, *, mint_lookup=None) -> dict | None:
    """Solana's UiAccount. `mint_lookup(pubkey) -> Account | None` serves jsonParsed token
    accounts (their decimals live in the mint)."""
    if account is None:
        return None
    data = bytes(account.data)
    out = {"lamports": account.lamports, "owner": str(account.owner), "executable": account.executable, "rentEpoch": account.rent_epoch, "space": len(data)}
    if encoding == "jsonParsed":
        parsed = parse_token(account, mint_lookup) or parse_upgradeable_loader(account)
        if parsed is not None and not data_slice:
            out["data"] = parsed
            return _ordered(out)
        out["data"] = encode_data(_slice(data, data_slice), "base64")
        return _ordered(out)
    out["data"] = encode_data(_slice(data, data_slice), encoding)
    return _ordered(out)


def _ordered(out: dict) -> dict:
    return {k: out[k] for k in ("data", "executable", "lamports", "owner", "rentEpoch", "space")}


def deleted_account(encoding: str | None) -> dict:
    return encode_account(Account(0, b"", Pubkey.default(), False, 0), encoding if encoding != "jsonParsed" else "base64")


def ui_amount(amount: int, decimals: int) -> dict:
    value = Decimal(amount).scaleb(-decimals)
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return {"amount": str(amount), "decimals": decimals, "uiAmount": float(value), "uiAmountString": text}


def _coption_pubkey(data: bytes, at: int) -> str | None:
    return str(Pubkey(data[at + 4:at + 36])) if int.from_bytes(data[at:at + 4], "little") == 1 else None


def parse_mint(data: bytes) -> dict | None:
    if len(data) != 82:
        return None
    return {
        "decimals": data[44],
        "freezeAuthority": _coption_pubkey(data, 46),
        "isInitialized": bool(data[45]),
        "mintAuthority": _coption_pubkey(data, 0),
        "supply": str(int.from_bytes(data[36:44], "little")),
    }


def parse_token_account(data: bytes, decimals: int) -> dict | None:
    if len(data) != 165:
        return None
    state = {0: "uninitialized", 1: "initialized", 2: "frozen"}.get(data[108], "uninitialized")
    is_native = int.from_bytes(data[109:113], "little") == 1
    info: dict = {
        "isNative": is_native,
        "mint": str(Pubkey(data[0:32])),
        "owner": str(Pubkey(data[32:64])),
        "state": state,
        "tokenAmount": ui_amount(int.from_bytes(data[64:72], "little"), decimals),
    }
    delegate = _coption_pubkey(data, 72)
    if delegate is not None:
        info["delegate"] = delegate
        info["delegatedAmount"] = ui_amount(int.from_bytes(data[121:129], "little"), decimals)
    if is_native:
        info["rentExemptReserve"] = ui_amount(int.from_bytes(data[113:121], "little"), decimals)
    close = _coption_pubkey(data, 129)
    if close is not None:
        info["closeAuthority"] = close
    return info


def parse_token(account: Account, mint_lookup) -> dict | None:
    if account.owner not in (TOKEN_PROGRAM_ID, TOKEN_2022_PROGRAM_ID):
        return None
    program = "spl-token" if account.owner == TOKEN_PROGRAM_ID else "spl-token-2022"
    data = bytes(account.data)
    if len(data) == 82:
        info = parse_mint(data)
        return {"parsed": {"info": info, "type": "mint"}, "program": program, "space": 82} if info else None
    if len(data) == 165:
        mint = mint_lookup(Pubkey(data[0:32])) if mint_lookup else None
        mint_info = parse_mint(bytes(mint.data)) if mint is not None else None
        if mint_info is None:
            return None
        info = parse_token_account(data, mint_info["decimals"])
        return {"parsed": {"info": info, "type": "account"}, "program": program, "space": 165} if info else None
    return None


def parse_filters(filters: object) -> list[tuple]:
    """[{"dataSize": n} | {"memcmp": {"offset", "bytes", "encoding"?}}] -> matchers."""
    if filters is None:
        return []
    if not isinstance(filters, list) or len(filters) > 4:
        raise invalid_params("Invalid params: filters must be a list of at most 4 filters")
    out: list[tuple] = []
    for f in filters:
        if not isinstance(f, dict) or len(f) != 1:
            raise invalid_params("Invalid params: bad filter")
        if "dataSize" in f:
            if not isinstance(f["dataSize"], int) or f["dataSize"] < 0:
                raise invalid_params("Invalid params: bad dataSize filter")
            out.append(("size", f["dataSize"]))
        elif "memcmp" in f:
            m = f["memcmp"]
            try:
                offset, raw, enc = int(m["offset"]), m["bytes"], m.get("encoding", "base58")
                if enc == "base58":
                    if len(raw) > 175:
                        raise ValueError("too long")
                    data = based58.b58decode(raw.encode())
                elif enc == "base64":
                    data = base64.b64decode(raw, validate=True)
                else:
                    raise ValueError(enc)
            except (KeyError, TypeError, ValueError, AttributeError):
                raise invalid_params("Invalid params: bad memcmp filter") from None
            if offset < 0 or len(data) > 128:
                raise invalid_params("Invalid params: bad memcmp filter")
            out.append(("memcmp", offset, data))
        elif "tokenAccountState" in f:
            out.append(("token", None))
        else:
            raise invalid_params("Invalid params: unknown filter")
    return out


def matches(data: bytes, filters: list[tuple]) -> bool:
    for f in filters:
        if f[0] == "size" and len(data) != f[1]:
            return False
        if f[0] == "memcmp" and data[f[1]:f[1] + len(f[2])] != f[2]:
            return False
        if f[0] == "token" and len(data) < 165:
            return False
    return True
