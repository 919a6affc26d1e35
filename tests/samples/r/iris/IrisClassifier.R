# Serves the multinomial iris classifier train.R saved: class probabilities for each row,
# named setosa / versicolor / virginica.
#
# nnet comes from Debian's prebuilt r-cran-nnet (R_DEBIAN_PACKAGES in .s2i/environment);
# irisfeatures, a package shipped with this source, from install.R.
library(nnet)
library(irisfeatures)

initialise_seldon <- function(params) {
  path <- if (is.null(params$model_file)) "iris-multinom.rds" else params$model_file
  structure(list(fit = readRDS(path)), class = "iris_classifier")
}

predict.iris_classifier <- function(model, newdata) {
  newdata <- as_iris_features(newdata)
  probabilities <- predict(model$fit, newdata = newdata, type = "probs")
  if (is.null(dim(probabilities))) {
    # one row: nnet answers a named vector
    probabilities <- matrix(probabilities, nrow = 1, dimnames = list(NULL, names(probabilities)))
  }
  probabilities
}
