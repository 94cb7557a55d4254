"""The Hugging Face vLLM container: its SageMaker images, the flags of its server and ``Vllm``, its runtime."""
