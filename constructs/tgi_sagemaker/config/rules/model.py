"""``model``: what the config or the catalog says of the model's size and context, at the precision it runs in."""

from __future__ import annotations

from tgi_sagemaker.catalog.models import CatalogModel
from tgi_sagemaker.catalog.sizing import weights_bytes_from_parameters
from tgi_sagemaker.config.errors import Problems
from tgi_sagemaker.config.spec import DeploymentSpec


def resolve_weights_bytes(spec: DeploymentSpec, model: CatalogModel | None, problems: Problems) -> int | None:
    """GPU memory the weights take once loaded: the catalog's figure at the checkpoint's precision, else from
    model.parameters_billion; None when unknown (a problem unless num_gpus is given, which makes it unneeded)."""
    precision = spec.tgi.quantize or spec.tgi.dtype
    parameters = spec.model.parameters_billion or (model.parameters_billion if model else None)
    if model is not None and precision in (None, model.native_dtype) and spec.model.parameters_billion is None:
        return model.weights_bytes
    if parameters is not None:
        return weights_bytes_from_parameters(parameters, precision or (model.native_dtype if model else "bfloat16"))
    if spec.num_gpus is None:
        problems.add(
            "model.parameters_billion",
            None,
            f"model '{spec.model.id}' is not in the catalog, so its size and GPU needs are unknown",
            "set model.parameters_billion (e.g. 8 for an 8B model) so it can be sized, or set num_gpus yourself",
        )
    return None


def resolve_context_length(spec: DeploymentSpec, model: CatalogModel | None) -> int | None:
    """The model's context length in tokens: the config's, else the catalog's; None outside the catalog."""
    return spec.model.context_length or (model.context_length if model else None)
