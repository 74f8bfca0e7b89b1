"""The `practice` command line: thin click commands over the PracticeLedger."""

import os

# pydantic looks for plugins the first time it builds a model: it lists every installed
# distribution's entry points (importlib.metadata), at the start of each CLI process, to
# find none (we ship no plugin). Set before pydantic builds anything; a
# user's own setting wins.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
