"""What every part may take: Solana token basics (SPL Token ids, layouts and instruction
builders) shared by the client and the localnet, so neither depends on the other."""
