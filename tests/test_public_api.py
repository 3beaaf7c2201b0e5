"""The public API is what ``accelboost`` and its user-facing modules export;
everything else is private (an underscore), as scikit-learn keeps
``_hist_gradient_boosting``."""

import importlib
import pkgutil

import accelboost

#: Modules meant for users; any other module must start with an underscore.
PUBLIC_MODULES = {
    "additive", "callbacks", "dask", "diagnostics", "estimators", "parametric",
    "plotting",
}


def test_only_user_facing_modules_lack_an_underscore():
    names = {module.name for module in pkgutil.iter_modules(accelboost.__path__)}
    public = {name for name in names if not name.startswith("_")}
    assert public == PUBLIC_MODULES


def test_the_top_level_exports_the_estimators():
    assert sorted(accelboost.__all__) == [
        "AccelBoostClassifier", "AccelBoostRegressor", "AdditiveBoostClassifier",
        "AdditiveBoostRegressor", "StackedBoostClassifier", "StackedBoostRegressor",
        "__version__",
    ]
    for name in accelboost.__all__:
        assert hasattr(accelboost, name)


def test_public_modules_declare_what_they_export():
    for name in PUBLIC_MODULES - {"additive", "estimators", "parametric"}:
        module = importlib.import_module(f"accelboost.{name}")
        assert module.__all__, name
        for exported in module.__all__:
            assert not exported.startswith("_")
            assert getattr(module, exported).__doc__, f"{name}.{exported}"


def test_the_parametric_package_keeps_its_engine_private():
    from accelboost import parametric

    names = {module.name for module in pkgutil.iter_modules(parametric.__path__)}
    assert {name for name in names if not name.startswith("_")} == {
        "estimators", "optimizers"
    }
    assert sorted(parametric.__all__) == [
        "StackedBoostClassifier", "StackedBoostRegressor"
    ]
