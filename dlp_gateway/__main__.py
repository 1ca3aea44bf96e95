import sys

from dlp_gateway.cli import main

sys.exit(main())
