"""The embedded chain: LiteSVM (solders) running the programs' real SBF builds."""
