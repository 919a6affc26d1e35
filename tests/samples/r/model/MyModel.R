# The seed's identity model in R: answers every prediction with its input.
#
# initialise_seldon(params) runs once per worker; load the model's files here.
initialise_seldon <- function(params) {
  message("Initializing")
  structure(list(), class = "mymodel")
}

# newdata: a data.frame for 2-D data (columns named by the request's names), a vector for
# 1-D data, a string for strData, a raw vector for binData, a list for jsonData.
predict.mymodel <- function(model, newdata) {
  newdata
}
