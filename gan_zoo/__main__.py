"""``python -m gan_zoo`` is the ``gan-zoo`` command."""

from gan_zoo.cli import main

if __name__ == "__main__":
    main()
