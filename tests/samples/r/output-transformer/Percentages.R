# Output transformer: turns a model's probabilities into percentages with one decimal.
initialise_seldon <- function(params) structure(list(), class = "percentages")

transform_output.percentages <- function(transformer, newdata) {
  round(as.matrix(newdata) * 100, 1)
}

class_names.percentages <- function(transformer) "percent"
