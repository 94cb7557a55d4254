"""Every limit that both the config layer and the constructs check, written once.

The spec (``config/spec.py``) declares its fields' ranges with these values, its rules (``config/rules/``) check
against them, and the constructs check their props against the same ones: a value the config accepts is one a
construct accepts. Plain values only: this module imports nothing (as ``defaults.py`` beside it).
"""

from __future__ import annotations

# Inclusive (lowest, highest) in seconds: SageMaker's ModelDataDownloadTimeoutInSeconds and
# ContainerStartupHealthCheckTimeoutInSeconds.
STARTUP_TIMEOUT_SECONDS = (60, 3600)
# Inclusive (lowest, highest) in seconds of an autoscaling policy's cooldowns, scale in and out.
COOLDOWN_SECONDS = (0, 3600)
# Instances an instance-based variant keeps at least: only an inference component's instances scale to 0.
MIN_VARIANT_INSTANCES = 1
# Inclusive (lowest, highest) in seconds of an update's bake time: TerminationWaitInSeconds and WaitIntervalInSeconds
# of an endpoint's or inference component's update policy.
BAKE_TIME_SECONDS = (0, 3600)
# An alarm threshold given as a percentage: above 0, at most this.
MAX_ALARM_PERCENT = 100
# The retention periods CloudWatch Logs offers, in days (PutRetentionPolicy refuses any other).
LOG_RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)
