"""The Hugging Face TGI container: its SageMaker images, its environment and ``Tgi``, its runtime."""
