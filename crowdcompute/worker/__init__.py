"""The worker node: runs jobs in containers and settles them on-chain (README.md here)."""
