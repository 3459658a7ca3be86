import sys

from wan.cli.main import main

sys.exit(main())
