"""The core every provider shares: pipeline, cache, throttle, retry, errors, stats, waiting."""
