"""Tests of the localnet server (localnet), over real HTTP and websockets."""
