"""Names of the forecast models storeops fits and the order it prefers them in."""

SEASONAL_NAIVE = "SeasonalNaive"
ENSEMBLE = "Ensemble"
SMOOTH_MODELS = ("AutoETS", "DynamicOptimizedTheta", "CES", "AutoARIMA")
INTERMITTENT_MODELS = ("CrostonSBA", "ADIDA", "IMAPA", "TSB")
MODEL_NAMES = (SEASONAL_NAIVE, ENSEMBLE, *SMOOTH_MODELS, *INTERMITTENT_MODELS)
# On a tie in cross-validation the simpler model wins; the ensemble comes before any one
# of its members because it varies less from window to window.
PREFERENCE = {name: rank for rank, name in enumerate(MODEL_NAMES)}
