from stacks.deployment_stacks import add_deployment_stacks
from stacks.tgi_endpoint_stack import TgiEndpointStack

__all__ = ["TgiEndpointStack", "add_deployment_stacks"]
