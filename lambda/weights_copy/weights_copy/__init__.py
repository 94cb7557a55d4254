"""Copy Hugging Face Hub repositories into S3, verified, with bounded memory (stdlib + boto3 only)."""
