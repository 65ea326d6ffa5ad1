"""The jobs program as the SDK sees it: instruction builders and market settings (`program.py`),
typed accounts and layouts, PDAs, which accounts each instruction needs under a market's
settings (`instruction_plan.py`), why a job is not running (`explain.py`) and waiting for a
job's status (`waiting.py`)."""
