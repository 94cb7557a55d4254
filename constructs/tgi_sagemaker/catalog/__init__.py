"""Platform facts: the models we know, the SageMaker instance types, and the sizing rule that fits one on the other."""
