#' The four measurements the iris model was trained on, in the data set's order.
iris_features <- function() c("Sepal.Length", "Sepal.Width", "Petal.Length", "Petal.Width")

#' `newdata` with the iris feature names: kept when the request named them, given by
#' position when it did not (the wrapper then calls the columns t:0 .. t:3).
as_iris_features <- function(newdata) {
  features <- iris_features()
  if (all(features %in% names(newdata))) {
    return(newdata[features])
  }
  if (length(newdata) != length(features)) {
    stop(sprintf("expected %d features (%s), got %d", length(features), paste(features, collapse = ", "), length(newdata)))
  }
  names(newdata) <- features
  newdata
}
