"""The Hugging Face SGLang container: its SageMaker images, the flags of its server and ``Sglang``, its runtime."""
