# Input transformer: scales features from [low, high] to [0, 1] before the model sees them.
# low and high come from PREDICTIVE_UNIT_PARAMETERS (type FLOAT).
initialise_seldon <- function(params) {
  low <- if (is.null(params$low)) 0 else params$low
  high <- if (is.null(params$high)) 10 else params$high
  if (high <= low) stop(sprintf("high (%.1f) must be above low (%.1f)", high, low))
  structure(list(low = low, high = high), class = "min_max_scaler")
}

transform_input.min_max_scaler <- function(scaler, newdata) {
  (newdata - scaler$low) / (scaler$high - scaler$low)
}
