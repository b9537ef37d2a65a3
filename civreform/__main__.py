"""The `civreform` command (pyproject's entry point) and `python -m civreform`."""

import gc

# Importing Typer and Rich makes ~100k objects, and Python's cycle collector goes over
# them ~40 times meanwhile (5 of the ~60 ms the imports take); none of them is garbage.
# So it pauses for the imports, and what they made is then frozen: later collections
# (of a load's millions of objects, say) skip it.
gc.disable()
from civreform.cli import main  # noqa: E402

gc.freeze()
gc.enable()

if __name__ == "__main__":
    main()
