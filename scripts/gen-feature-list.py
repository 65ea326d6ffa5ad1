#!/usr/bin/env python3
"""Writes localnet/data/agave_features.json, the localnet's feature set, from
agave's sources:

- agave-feature-set 3.1.12, FEATURE_NAMES: the features agave 3.1 knows (id, name);
- solana-test-validator 3.1.12, TestValidatorGenesis::default: those the test validator
  deactivates at genesis (it activates every other one at slot 0);
- solana-feature-set 2.2.1, FEATURE_NAMES: the features the runtime in LiteSVM (solders 0.26
  builds it from agave 2.2 crates) knows.

Each agave 3.1 feature gets `runtime`: "active" (the runtime implements it: the same id, or
`runtime_id`, the older id of the same gate under the same module name), "deactivated" (the
test validator turns it off) or "missing" (the runtime predates it). Each runtime feature that
agave 3.1 no longer lists is classified in REMOVED below (by hand: why agave removed it).

Usage: python scripts/gen-feature-list.py [CARGO_REGISTRY_SRC_DIR]
(the three crates come from the cargo registry: `cargo fetch` of a crate that depends on them)
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import re
import sys
from pathlib import Path

AGAVE = ("agave-feature-set", "3.1.12")
TEST_VALIDATOR = ("solana-test-validator", "3.1.12")
RUNTIME = ("solana-feature-set", "2.2.1")
OUT = Path(__file__).resolve().parents[1] / "crowdcompute" / "localnet" / "data" / "agave_features.json"

# Runtime (agave 2.2) features whose ids agave 3.1 no longer lists, by module name: whether
# agave 3.1 behaves as if each were active, and why.
REMOVED = {
    "disable_new_loader_v3_deployments": (False, "SIMD-0167's gate on new loader-v3 deployments; dropped, agave 3.1 deploys with loader-v3"),
    "lift_cpi_caller_restriction": (False, "withdrawn; agave 3.1 still requires a CPI callee's program account among the caller's accounts"),
    "enable_partitioned_epoch_reward": (True, "cleaned up: partitioned rewards are always on"),
}
# The same gate under another module name in agave 3.1 (runtime module -> agave 3.1 module).
RENAMED = {"bpf_account_data_direct_mapping": "account_data_direct_mapping"}


def crate_file(registry: str, crate: tuple[str, str], rel: str) -> Path:
    name, version = crate
    hits = sorted(glob.glob(os.path.join(registry, "*", f"{name}-{version}", rel)))
    if not hits:
        sys.exit(f"{name}-{version}/{rel} not found under {registry}")
    return Path(hits[0])


def rust_string(body: str) -> str:
    """The value of a Rust string literal's body: `\\` + newline + indentation is dropped."""
    body = re.sub(r"\\\n\s*", "", body)
    return body.replace('\\"', '"').replace("\\\\", "\\")


def module_ids(source: str) -> dict[str, str]:
    """Every `[pub] mod a { pub mod b { declare_id!("...") } }` as {"a::b": id}."""
    ids: dict[str, str] = {}
    stack: list[tuple[str, int]] = []  # (module, brace depth at which it opened)
    depth = 0
    for line in source.splitlines():
        opened = re.match(r"\s*(?:pub )?mod (\w+) \{", line)
        if opened:
            stack.append((opened.group(1), depth))
        declared = re.search(r'declare_id!\("(\w+)"\)', line)
        if declared and stack:
            ids["::".join(name for name, _ in stack)] = declared.group(1)
        depth += line.count("{") - line.count("}")
        while stack and depth <= stack[-1][1]:
            stack.pop()
    return ids


def feature_names(source: str) -> dict[str, dict]:
    """FEATURE_NAMES as {id: {id, module, name}} (a map in Rust: a repeated id keeps its last name)."""
    ids = module_ids(source)
    start = re.search(r"pub static (ref )?FEATURE_NAMES", source).start()
    table = source[start:source.index(".collect()", start)]
    out: dict[str, dict] = {}
    entries = re.findall(r'\(\s*([\w:]+)::id\(\),\s*"((?:[^"\\]|\\.)*)"\s*,?\s*\)', table, re.S)
    declared = len(re.findall(r"::id\(\)", table))
    if declared != len(entries):
        sys.exit(f"parsed {len(entries)} of {declared} FEATURE_NAMES entries: the layout changed")
    for path, name in entries:
        out[ids[path]] = {"id": ids[path], "module": path, "name": rust_string(name)}
    return out


def test_validator_deactivated(source: str, ids: dict[str, str]) -> set[str]:
    match = re.search(r"let deactivate_feature_set = \[([^\]]*)\]", source)
    if not match:
        sys.exit("solana-test-validator: the default deactivate_feature_set was not found")
    return {ids[path] for path in re.findall(r"([\w:]+)::id\(\)", match.group(1))}


def main() -> None:
    registry = sys.argv[1] if len(sys.argv) > 1 else os.path.expanduser("~/.cargo/registry/src")
    files = {
        "agave": crate_file(registry, AGAVE, "src/lib.rs"),
        "test_validator": crate_file(registry, TEST_VALIDATOR, "src/lib.rs"),
        "runtime": crate_file(registry, RUNTIME, "src/lib.rs"),
    }
    agave_source = files["agave"].read_text()
    agave = feature_names(agave_source)
    runtime = feature_names(files["runtime"].read_text())
    deactivated = test_validator_deactivated(files["test_validator"].read_text(), module_ids(agave_source))
    agave_by_module = {f["module"]: f for f in agave.values()}

    # The runtime's features: each is on unless agave 3.1 behaves as if it were off.
    runtime_out = []
    renamed_to: dict[str, str] = {}  # agave 3.1 id -> the runtime's id of the same gate
    for fid, feature in sorted(runtime.items()):
        module = feature["module"]
        if fid in agave:
            active, reason = fid not in deactivated, "the same id in agave 3.1"
        elif RENAMED.get(module, module) in agave_by_module:
            successor = agave_by_module[RENAMED.get(module, module)]
            active, reason = successor["id"] not in deactivated, f"agave 3.1 gates it as {successor['id']}"
            renamed_to[successor["id"]] = fid
        elif module in REMOVED:
            active, reason = REMOVED[module]
        else:
            sys.exit(f"runtime feature {fid} ({module}) is not in agave 3.1: classify it in REMOVED")
        runtime_out.append({**feature, "active": active, "why": reason})

    unused = set(REMOVED) - {f["module"] for f in runtime_out if f["module"] in REMOVED and f["why"] == REMOVED[f["module"]][1]}
    if unused:
        sys.exit(f"REMOVED names features the runtime does not have or agave 3.1 still gates: {sorted(unused)}")

    features_out = []
    for fid, feature in sorted(agave.items()):
        entry = dict(feature)
        if fid in deactivated:
            entry["runtime"] = "deactivated"
        elif fid in runtime or fid in renamed_to:
            entry["runtime"] = "active"
            if fid in renamed_to:
                entry["runtime_id"] = renamed_to[fid]
        else:
            entry["runtime"] = "missing"
        features_out.append(entry)

    data = {
        "source": {
            f"{name}-{version}": {"file": "src/lib.rs", "sha256": hashlib.sha256(files[key].read_bytes()).hexdigest()}
            for key, (name, version) in (("agave", AGAVE), ("test_validator", TEST_VALIDATOR), ("runtime", RUNTIME))
        },
        "generator": "scripts/gen-feature-list.py",
        "features": features_out,
        "runtime_features": runtime_out,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(data, indent=1) + "\n")
    counts = {state: sum(f["runtime"] == state for f in features_out) for state in ("active", "deactivated", "missing")}
    print(f"{OUT}: agave 3.1 features {len(features_out)} {counts}; runtime features {len(runtime_out)}, "
          f"{sum(not f['active'] for f in runtime_out)} off")


if __name__ == "__main__":
    main()
