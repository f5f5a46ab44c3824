"""Datasets: the procedural world stream, folders of real captioned videos, and (frames, H, W) bucketing."""
from cinegen.data.buckets import (
    Bucket,
    BucketBatchSampler,
    assign_bucket,
    fit_to_bucket,
    make_buckets,
    resize_crop,
    valid_length,
)
from cinegen.data.video_folder import VideoFolder
from cinegen.data.world_stream import WorldStream

__all__ = [
    "Bucket", "BucketBatchSampler", "VideoFolder", "WorldStream", "assign_bucket", "fit_to_bucket",
    "make_buckets", "resize_crop", "valid_length",
]
