import sys

from holdem.cli import main

sys.exit(main())
