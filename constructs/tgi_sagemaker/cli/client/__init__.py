"""The serving client: request payloads, SageMaker-runtime and URL transports, stream decoding, R1 reasoning."""
