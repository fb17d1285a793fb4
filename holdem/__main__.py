import sys

from holdem.cli.commands import main

sys.exit(main())
