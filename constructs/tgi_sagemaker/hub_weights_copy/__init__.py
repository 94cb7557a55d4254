"""The Hub-to-S3 weights copy as one component: its infrastructure (``infrastructure.py``: ``HubWeightsCopy``) and
its runtime (``runtime/``: the Lambda asset folder, whose ``weights_copy`` package is also the shell's engine).

``runtime`` is a symbolic link to the repository's ``lambda/weights_copy`` (the runtime's source, at the top level
as the design card keeps it): a checkout, an editable install and a wheel all find the runtime beside the
construct, and the built distribution carries its files (setuptools follows the link when it collects packages).

``HubWeightsCopy`` loads on first use, so that the config layer reads the runtime's settings
(``runtime/weights_copy/settings.py``) without importing the construct and aws_cdk with it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tgi_sagemaker.hub_weights_copy.infrastructure import HubWeightsCopy

__all__ = ["HubWeightsCopy"]


def __getattr__(name: str) -> Any:
    if name != "HubWeightsCopy":
        raise AttributeError(f"module 'tgi_sagemaker.hub_weights_copy' has no attribute {name!r}")
    return importlib.import_module("tgi_sagemaker.hub_weights_copy.infrastructure").HubWeightsCopy
