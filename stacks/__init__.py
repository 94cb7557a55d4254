from stacks.deployment_stacks import add_deployment_stacks, add_shared_endpoint_stacks
from stacks.shared_endpoint_stack import SharedEndpointStack
from stacks.tgi_endpoint_stack import TgiEndpointStack

__all__ = ["SharedEndpointStack", "TgiEndpointStack", "add_deployment_stacks", "add_shared_endpoint_stacks"]
