"""Tests of the localnet server (crowdcompute/localnet), over real HTTP and websockets."""
