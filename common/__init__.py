"""What every part may take: Solana token basics (SPL Token ids, layouts and instruction
builders) shared by the client and the localnet, so neither depends on the other
(`token.py`); the command line's shared pieces, for the `crowd` CLI and the node daemon
alike: Solana's options (`cluster_options.py`) and what a command prints (`output.py`);
loader-v3's id and account layout (`loader_v3.py`: the localnet deploys with it, the
client verifies what a cluster runs with it);
the version. It imports no other part."""
