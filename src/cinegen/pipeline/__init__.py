"""Everything a user asks for, composed from the models, the text encoder and the flow sampler."""
from cinegen.pipeline.pipeline import Condition, GenerationResult, Pipeline
from cinegen.pipeline.run import MODES, Generation, VideoRequest, run
from cinegen.pipeline.sampling_config import SamplingConfig

__all__ = ["Pipeline", "GenerationResult", "Condition", "VideoRequest", "Generation", "run", "MODES", "SamplingConfig"]
