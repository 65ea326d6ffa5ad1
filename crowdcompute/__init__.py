"""crowdcompute: a decentralized crowd computer for GPU and AI jobs on Solana."""

__version__ = "0.1.0"
