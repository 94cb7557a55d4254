"""The command line (`tgi-sagemaker`): catalog, plan, invoke, bench; the HTTP client is in ``client``.

Imports nothing at package level, so `invoke` and `bench` start without aws_cdk. ``main`` is the console entry
point (``tgi_sagemaker.cli:main``, also ``python -m tgi_sagemaker.cli``); the commands are in ``command_line``.
"""

from __future__ import annotations


def main(argv: list[str] | None = None) -> int:
    from tgi_sagemaker.cli.command_line import main as run  # on call: keeps `import tgi_sagemaker.cli` light

    return run(argv)
