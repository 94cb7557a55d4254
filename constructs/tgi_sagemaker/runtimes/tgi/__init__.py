"""The Hugging Face TGI container: its SageMaker images and its environment."""
