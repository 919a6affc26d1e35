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
  probabilities <- predict(model$fit, newdata = as_iris_features(newdata), type = "probs")
  # A matrix for several rows, a vector for one: either way one column per class.
  classes <- model$fit$lev
  matrix(probabilities, ncol = length(classes), dimnames = list(NULL, classes))
}
