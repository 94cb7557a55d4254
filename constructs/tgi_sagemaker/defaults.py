"""Every default that both the config layer and the constructs apply, written once.

The spec (``config/spec.py``) declares its fields with these values, and a construct used without the config layer
falls back to the same ones, so a platform team composing constructs gets what ``cdk.json`` users get. Plain
numbers only: this module imports nothing, the command line's ``invoke`` and ``bench`` included.
The weights copy's engine settings (the Hub endpoint, part size, parts in flight, file patterns) live with the copy's
runtime, which is shipped to Lambda without this library: ``weights_copy.settings`` (``hub_weights_copy/runtime/``).
"""

from __future__ import annotations

# Serving: SageMaker's own limits on how long a container may take, stated explicitly.
MODEL_DATA_DOWNLOAD_TIMEOUT_SECONDS = 1800
CONTAINER_STARTUP_HEALTH_CHECK_TIMEOUT_SECONDS = 1800
VARIANT_NAME = "AllTraffic"

# Scaling, both modes.
MAX_INSTANCES = 2
SCALE_IN_COOLDOWN_SECONDS = 600
SCALE_OUT_COOLDOWN_SECONDS = 120
# Instance-based variants.
MIN_INSTANCES_WITH_INSTANCES = 1
INVOCATIONS_PER_INSTANCE = 30.0
# Inference components that scale to zero.
MIN_INSTANCES_WITH_SCALE_TO_ZERO = 0
MIN_COPIES = 0
CONCURRENT_REQUESTS_PER_COPY = 5.0
SCALE_OUT_FROM_ZERO_COOLDOWN_SECONDS = 300
# A model on a shared endpoint: one copy at most unless it says more (the models share the instances).
MAX_COPIES_ON_SHARED_ENDPOINT = 1

# Network: availability zones of a new VPC.
MAX_AZS = 2

# The weights copy's orchestration (the engine's own settings are in weights_copy.settings).
COPY_MAX_CONCURRENCY = 16
COPY_MEMORY_MB = 2048

# Operations.
LOG_RETENTION_DAYS = 365
ERROR_RATE_PERCENT = 5.0
MODEL_LATENCY_P90_SECONDS = 120.0
GPU_MEMORY_PERCENT = 98.0
# Updates: how long the rollback alarms watch new capacity before the old goes (instance fleets and copies alike).
BAKE_MINUTES = 10

# Cost (the command line's plan and bench): the monthly estimate's traffic profile. Stated assumptions, not
# measurements: override them with plan's --busy-* options for your own traffic.
BUSY_HOURS_PER_DAY = 8.0  # assumption: one working day of traffic
BUSY_DAYS_PER_WEEK = 5.0  # assumption: working days only
BUSY_INSTANCES = 1  # assumption: one instance carries the busy hours (plan notes when it exceeds max_instances)
# Scale to zero: instance time billed around the busy hours each busy day.
# FACTS.md (scale-out from zero): "provisioning takes minutes", no figure given; 10 is an assumption that covers an
# instance starting and the model loading (the weights copy serves them from S3). Measure yours: invoke's wake-up.
WAKE_UP_MINUTES = 10.0
# FACTS.md: "Copies reach 0 after ~10-15 idle min, instances ~10 min later": 15 + 10, the upper end.
IDLE_MINUTES_BEFORE_ZERO = 25.0
# A shared endpoint: how long its fleet may sit at max_instances, or a model find no copy, before an alarm.
SHARED_ENDPOINT_ALARM_MINUTES = 15

# report: the percentile the SLOs must hold at, and the share of failed requests a level may have.
REPORT_SLO_PERCENTILE = 90.0
REPORT_MAX_ERROR_RATE = 0.0
