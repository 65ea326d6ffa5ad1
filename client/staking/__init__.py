"""The staking program as the SDK sees it: instruction builders (`program.py`), typed
accounts, PDAs, config settings, the staking calls of a client (`stakes.py`) and a market's
admission by stake (`admission.py`)."""
