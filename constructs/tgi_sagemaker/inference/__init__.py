"""Client side of a TGI endpoint: transports, streamed responses, reasoning split, invoke and bench.

Needs the library's ``cli`` extra (boto3, rich, matplotlib); the constructs never import this package.
"""
