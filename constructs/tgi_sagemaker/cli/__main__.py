import sys

from tgi_sagemaker.cli import main

sys.exit(main())
