import sys

from supervisor.daemon.startup import main

sys.exit(main())
