import sys

from camlib.app.cli import main

sys.exit(main())
