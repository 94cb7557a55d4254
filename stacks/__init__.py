from stacks.tgi_endpoint_stack import TgiEndpointStack

__all__ = ["TgiEndpointStack"]
