"""The jobs program on its own: its instructions in LiteSVM (real SBF), the attacks it refuses,
its properties against a model."""
