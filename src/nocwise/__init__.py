"""nocwise: an AIOps overlay for telecom operators, with the MLOps that keeps its models useful."""

__version__ = "0.1.0"
