# A model ensemble's combiner: the element-wise mean of its children's predictions.
initialise_seldon <- function(params) structure(list(), class = "average")

# inputs: one entry per child, each a data.frame (or vector) like predict's newdata.
aggregate.average <- function(combiner, inputs) {
  Reduce(`+`, lapply(inputs, as.matrix)) / length(inputs)
}
