# An identity model using every optional hook: tags, metrics, metadata, class names, health
# and errors. jsonData list(fail = "refuse") answers 422 through seldon_error(); "crash"
# signals a plain R error of class ValueError (500); list(sleep = s) takes s seconds. Faults
# (tests/contract/test_faults.py): list(fail = "exit") ends the worker's process at once, as a
# crash in native code would; list(leak = n) keeps n more MiB for good. The parameter
# load_seconds makes loading take that long (tests/contract/test_startup_failures.py).
#
# S3 objects are values: state that changes between requests lives in an environment.
initialise_seldon <- function(params) {
  if (!is.null(params$load_seconds)) Sys.sleep(params$load_seconds)
  state <- new.env()
  state$calls <- 0
  state$last_ms <- 0
  state$hoard <- list()
  structure(list(state = state), class = "extras")
}

predict.extras <- function(model, newdata, meta) {
  started <- proc.time()[["elapsed"]]
  model$state$calls <- model$state$calls + 1
  if (is.list(newdata) && !is.data.frame(newdata)) {
    if (identical(newdata$fail, "refuse")) seldon_error("refusing this input", status = 422)
    if (identical(newdata$fail, "crash")) stop(errorCondition("the model crashed", class = "ValueError"))
    if (identical(newdata$fail, "exit")) quit(save = "no", status = 3, runLast = FALSE)
    if (!is.null(newdata$leak)) model$state$hoard[[length(model$state$hoard) + 1]] <- rep(1, newdata$leak * 131072)
    # Computing, not Sys.sleep(): R acts on REQUEST_TIMEOUT_SECONDS' interrupt only then.
    if (!is.null(newdata$sleep)) while (proc.time()[["elapsed"]] - started < newdata$sleep) NULL
  }
  model$state$last_ms <- (proc.time()[["elapsed"]] - started) * 1000
  newdata
}

class_names.extras <- function(model) c("first", "second")

tags.extras <- function(model) list(model = "extras", calls = model$state$calls)

metrics.extras <- function(model) {
  list(
    list(type = "COUNTER", key = "extras_calls", value = 1),
    list(type = "GAUGE", key = "extras_last_calls", value = model$state$calls, tags = list(kind = "gauge")),
    list(type = "TIMER", key = "extras_predict_ms", value = model$state$last_ms)
  )
}

# JSON arrays are lists: jsonlite writes a length-one vector as a plain value.
metadata.extras <- function(model) {
  list(
    name = "extras-model",
    versions = list("extras/v1"),
    inputs = list(list(messagetype = "ndarray", schema = list(names = list("a", "b"), shape = list(2)))),
    outputs = list(list(messagetype = "ndarray", schema = list(names = list("first", "second"), shape = list(2)))),
    custom = list(author = "tests")
  )
}

health_status.extras <- function(model) matrix(model$state$calls, nrow = 1)
