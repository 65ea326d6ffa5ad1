"""Finality's bookkeeping (localnet/ledger/finality.py) without a server: the root,
the pre-images of the slots above it, and what a rooted slot hands to notifications."""

from __future__ import annotations

import pytest
from solders.account import Account
from solders.pubkey import Pubkey

from crowdcompute.localnet.ledger.finality import CURRENT, FINALITY_LAG, Finality


def acct(lamports: int) -> Account:
    return Account(lamports, b"", Pubkey.default(), False, 0)


def test_lag_is_max_lockout_history():
    assert FINALITY_LAG == 31
    f = Finality()
    assert f.target(40) == 9 and f.target(10) == max(f.root, -21)
    with pytest.raises(ValueError):
        Finality(-1)


def test_value_at_root_is_the_earliest_pre_image_above_it():
    f = Finality(2)
    key, other = Pubkey.new_unique(), Pubkey.new_unique()
    f.note_write(0, key, None)        # created in slot 0
    f.note_write(0, key, acct(5))     # a second write in slot 0: the slot's pre-image stays None
    f.note_write(1, key, acct(7))
    f.note_write(3, key, acct(9))
    assert f.at_root(key) is None      # root -1: before slot 0 it did not exist
    assert f.at_root(other) is CURRENT
    rooted = f.advance(1)
    assert [slot for slot, _ in rooted] == [0, 1]
    assert rooted[0][1] == [(key, acct(7))]  # as slot 0 left it: slot 1's pre-image
    assert rooted[1][1] == [(key, acct(9))]
    assert f.root == 1 and f.at_root(key) == acct(9)
    assert f.advance(3) == [(2, []), (3, [(key, CURRENT)])]  # nothing later: its current value
    assert f.at_root(key) is CURRENT and f.root_keys() == []
    assert f.advance(2) == [] and f.root == 3  # the root never moves back


def test_immediate_mode_reads_latest_and_still_reports_written_keys():
    f = Finality(None)
    key = Pubkey.new_unique()
    f.note_write(0, key, None)
    assert f.immediate and f.at_root(key) is CURRENT and f.root_keys() == []
    assert f.target(5) == 5
    assert f.advance(0) == [(0, [(key, CURRENT)])]


def test_transaction_count_at_root_and_restart():
    f = Finality(1)
    f.note_slot_end(0, 3)
    f.note_slot_end(1, 8)
    f.advance(0)
    assert f.tx_count_at_root(10) == 3
    f.restart_at(50, 99)
    assert f.root == 50 and f.tx_count_at_root(120) == 99
