"""Data processing: canonical bars, validation, calendars, resampling, features, futures rolls.

Everything here is a pure transformation of frames (no I/O), so the same functions serve research,
the backtester and the live runtime.
"""

from quantstrata.process.adjust import ACTION_COLUMNS, ActionKind, adjust_for_actions
from quantstrata.process.align import FillMethod, align, to_wide, to_wide_pandas
from quantstrata.process.calendar import (
    ALWAYS_OPEN,
    canonical_calendar_code,
    expected_bar_opens,
    get_calendar,
    session_table,
)
from quantstrata.process.config import GapPolicy, ValidationConfig, ValidationPolicy
from quantstrata.process.continuous import (
    ROLL_SCHEMA,
    Adjustment,
    ContinuousFutures,
    RollMethod,
    RollRule,
    continuous_futures,
    front_contract,
    roll_session,
)
from quantstrata.process.features import (
    FeatureSet,
    add_features,
    compute_feature,
    high_low_range,
    log_returns,
    returns,
    rolling_mean,
    rolling_std,
    rolling_zscore,
    volume_weighted_return,
)
from quantstrata.process.normalize import to_bars
from quantstrata.process.resample import ResampleAnchor, resample
from quantstrata.process.validate import (
    SessionGap,
    ValidationReport,
    ValidationResult,
    validate_bars,
)

__all__ = [
    "ACTION_COLUMNS",
    "ALWAYS_OPEN",
    "ROLL_SCHEMA",
    "ActionKind",
    "Adjustment",
    "ContinuousFutures",
    "FeatureSet",
    "FillMethod",
    "GapPolicy",
    "ResampleAnchor",
    "RollMethod",
    "RollRule",
    "SessionGap",
    "ValidationConfig",
    "ValidationPolicy",
    "ValidationReport",
    "ValidationResult",
    "add_features",
    "adjust_for_actions",
    "align",
    "canonical_calendar_code",
    "compute_feature",
    "continuous_futures",
    "expected_bar_opens",
    "front_contract",
    "get_calendar",
    "high_low_range",
    "log_returns",
    "resample",
    "returns",
    "roll_session",
    "rolling_mean",
    "rolling_std",
    "rolling_zscore",
    "session_table",
    "to_bars",
    "to_wide",
    "to_wide_pandas",
    "validate_bars",
    "volume_weighted_return",
]
