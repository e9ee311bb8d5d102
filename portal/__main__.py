"""``python -m portal ...`` is the ``portal`` command (``portal run`` starts the worker this way)."""
from .cli import main

if __name__ == "__main__":
    main()
