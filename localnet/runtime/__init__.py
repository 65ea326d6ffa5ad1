"""Executing transactions: the bank over LiteSVM, program loaders, features, fees, rent,
nonces, signature checks and the transaction intake."""
