"""Models as files: save_model / load_model (versioned JSON) and dump_model."""


class ModelFileMixin:
    """save_model, load_model and dump_model for the AccelBoost estimators."""
