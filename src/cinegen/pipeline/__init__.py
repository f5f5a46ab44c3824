"""Everything a user asks for, composed from the models, the text encoder and the flow sampler."""
from cinegen.pipeline.pipeline import Condition, GenerationResult, Pipeline

__all__ = ["Pipeline", "GenerationResult", "Condition"]
