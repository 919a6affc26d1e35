# Trains the iris classifier this sample serves: a multinomial logistic regression (nnet) on
# R's built-in iris data, saved as iris-multinom.rds beside this script.
#
#   Rscript train.R      (needs nnet: Debian's r-cran-nnet, or install.packages("nnet"))
library(nnet)

set.seed(42)
fit <- multinom(Species ~ Sepal.Length + Sepal.Width + Petal.Length + Petal.Width, data = iris, trace = FALSE)
fit$fitted.values <- NULL  # not needed to predict; keeps the file small
fit$residuals <- NULL
accuracy <- mean(predict(fit, iris) == iris$Species)
cat(sprintf("training accuracy: %.3f\n", accuracy))
saveRDS(fit, "iris-multinom.rds")
