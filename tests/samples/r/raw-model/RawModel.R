# predict_raw receives the whole SeldonMessage (nested lists, as jsonlite reads JSON) and
# returns a whole message: here, which parts the request had, under the same puid.
initialise_seldon <- function(params) structure(list(), class = "raw_model")

predict_raw.raw_model <- function(model, message) {
  names <- if (is.null(message$data$names)) list() else message$data$names
  puid <- if (is.null(message$meta$puid)) "" else message$meta$puid
  list(
    jsonData = list(received = as.list(sort(names(message))), names = names),
    meta = list(puid = puid)
  )
}
