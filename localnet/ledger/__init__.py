"""Durability: the SQLite ledger, its journal and writer process (and the helper-process
plumbing it runs on), finality and genesis."""
