"""Schema titles and keys with the names of `aiplatform.metadata.constants`."""

SYSTEM_RUN = "system.Run"
SYSTEM_EXPERIMENT = "system.Experiment"
SYSTEM_EXPERIMENT_RUN = "system.ExperimentRun"
SYSTEM_PIPELINE = "system.Pipeline"
SYSTEM_PIPELINE_RUN = "system.PipelineRun"
SYSTEM_METRICS = "system.Metrics"
SYSTEM_DATASET = "system.Dataset"
SYSTEM_MODEL = "system.Model"
SYSTEM_ARTIFACT = "system.Artifact"
SYSTEM_CONTAINER_EXECUTION = "system.ContainerExecution"
GOOGLE_CLASSIFICATION_METRICS = "google.ClassificationMetrics"
GOOGLE_REGRESSION_METRICS = "google.RegressionMetrics"
GOOGLE_FORECASTING_METRICS = "google.ForecastingMetrics"
GOOGLE_EXPERIMENT_MODEL = "google.ExperimentModel"
_EXPERIMENTS_V2_TENSORBOARD_RUN = "google.VertexTensorboardRun"

_DEFAULT_SCHEMA_VERSION = "0.0.1"

# A pipeline's runtime parameters are the "input:"-prefixed keys of its system.Run execution's metadata.
PIPELINE_PARAM_PREFIX = "input:"
PIPELINE_OUTPUT_PREFIX = "output:"

_PARAM_KEY = "_params"
_METRIC_KEY = "_metrics"
_STATE_KEY = "_state"
_PARAM_PREFIX = "param"
_METRIC_PREFIX = "metric"
_TIME_SERIES_METRIC_PREFIX = "time_series_metric"

# The artifact schemas whose metadata a pipeline row shows as metric.* columns.
METRICS_SCHEMAS = (SYSTEM_METRICS, GOOGLE_CLASSIFICATION_METRICS, GOOGLE_REGRESSION_METRICS, GOOGLE_FORECASTING_METRICS)
