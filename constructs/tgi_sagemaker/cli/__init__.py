"""The command line (`tgi-sagemaker`): catalog, plan, invoke, bench; the HTTP client is in ``client``.

Imports nothing at package level, so `invoke` and `bench` start without aws_cdk.
"""
