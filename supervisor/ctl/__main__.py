import sys

from supervisor.ctl.commands import main

sys.exit(main())
