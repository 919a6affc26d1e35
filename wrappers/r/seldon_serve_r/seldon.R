# The R side of the Seldon wrapper for R models (the seldon-core-s2i-r images).
#
# The Seldon contract -- REST, gRPC, metrics, metadata, error bodies -- is served by the
# python wrapper (seldon_serve), which calls into R through rpy2 for each request. A model
# file defines `initialise_seldon(params)`, returning an S3 object, and methods for that
# object's class: predict, route, transform_input, ... (see the image's `usage`).
#
# This file is attached as "seldon", so a model file can call seldon_error() without library().

#' Answer the request with an error: `seldon_error("no such customer", status = 404)`.
#' Any other error answers 500 with its message.
#' Its reasons are the contract's (seldon_reasons, set by runtime.py from contract.yaml).
seldon_error <- function(message, status = 400L, reason = seldon_reasons[["BAD_DATA"]]) {
  condition <- structure(
    class = c("seldon_error", "error", "condition"),
    list(message = message, call = sys.call(-1), status = as.integer(status), reason = reason)
  )
  stop(condition)
}

# The generics of the hooks R does not already have (predict and aggregate are R's own), so
# a model file defines plain S3 methods -- route.myrouter -- and may call them itself.
route <- function(object, ...) UseMethod("route")
send_feedback <- function(object, ...) UseMethod("send_feedback")
transform_input <- function(object, ...) UseMethod("transform_input")
transform_output <- function(object, ...) UseMethod("transform_output")
class_names <- function(object, ...) UseMethod("class_names")
tags <- function(object, ...) UseMethod("tags")
metrics <- function(object, ...) UseMethod("metrics")
metadata <- function(object, ...) UseMethod("metadata")
health_status <- function(object, ...) UseMethod("health_status")
predict_raw <- function(object, ...) UseMethod("predict_raw")
route_raw <- function(object, ...) UseMethod("route_raw")
transform_input_raw <- function(object, ...) UseMethod("transform_input_raw")
transform_output_raw <- function(object, ...) UseMethod("transform_output_raw")
aggregate_raw <- function(object, ...) UseMethod("aggregate_raw")
send_feedback_raw <- function(object, ...) UseMethod("send_feedback_raw")

# ---- called by the wrapper -------------------------------------------------------------------

# Sources the model file into the global environment, where S3 dispatch finds its methods.
seldon_source <- function(path) {
  sys.source(path, envir = globalenv(), keep.source = FALSE, toplevel.env = globalenv())
  exists("initialise_seldon", envir = globalenv(), mode = "function", inherits = FALSE)
}

# The method a verb dispatches to for this object, or NULL; methods of the object's class
# from packages count too (an `lm` from readRDS() has predict.lm).
seldon_method <- function(verb, object) {
  for (cls in class(object)) {
    method <- get0(paste0(verb, ".", cls), envir = globalenv(), mode = "function")
    if (is.null(method)) method <- utils::getS3method(verb, cls, optional = TRUE, envir = globalenv())
    if (!is.null(method)) {
      return(method)
    }
  }
  NULL
}

# Names of the functions in the global environment that look like methods of `verbs`.
seldon_defined_methods <- function(verbs) {
  defined <- ls(globalenv())
  defined[vapply(defined, function(name) {
    is.function(get(name, envir = globalenv())) && any(startsWith(name, paste0(verbs, ".")))
  }, logical(1))]
}

seldon_formals <- function(fun) names(formals(fun))

# Calls fun(args) -- with flatten, its value as seldon_flatten() makes it (one call into R, not
# two) -- and answers list(value, warnings), read by position, which costs the Python side less
# than names. What the call signals goes to calling handlers made once: a warning is kept for
# the log and muffled; an error the model does not catch itself, or the interrupt the wrapper's
# watchdog raises once REQUEST_TIMEOUT_SECONDS has passed, ends the call through the "abort"
# restart (R prints nothing) and leaves its failure for seldon_failure(). No tryCatch, whose
# handlers, made anew for each call, cost a small request more than the model's own call.
seldon_invoke <- function(fun, args, flatten = FALSE) {
  withCallingHandlers(
    {
      value <- seldon_call(fun, args)
      if (flatten) value <- seldon_flatten(value)
      seldon_answer(value)
    },
    warning = seldon_on_warning, error = seldon_on_error, interrupt = seldon_on_interrupt
  )
}

# The warnings of the call in progress, and the failure of the last call that failed.
seldon_warned <- character()
seldon_failed <- NULL

# A call's answer: list(value, its warnings), which are taken, not left to the next call. value
# is computed before, so that a warning it gives is among them.
seldon_answer <- function(value) {
  warned <- seldon_warned
  if (length(warned)) seldon_warned <<- character()
  list(value, warned)
}

seldon_on_warning <- function(w) {
  seldon_warned <<- c(seldon_warned, conditionMessage(w))
  invokeRestart("muffleWarning")
}

seldon_on_error <- function(e) seldon_fail(e, conditionMessage(e), seldon_stack(sys.calls()))

seldon_on_interrupt <- function(i) seldon_fail(i, "", character())

# The failure, read by position (runtime._failure):
#   list(warnings, message, class, status, reason, stack)
# with status and reason NULL unless the model chose them (seldon_error), and the class
# "interrupt" for a call past its time.
seldon_fail <- function(condition, message, stack) {
  chosen <- inherits(condition, "seldon_error")
  seldon_failed <<- list(
    seldon_warned, message, class(condition)[[1L]],
    if (chosen) as.integer(condition$status) else NULL, if (chosen) condition$reason else NULL, stack
  )
  seldon_warned <<- character()
  invokeRestart("abort")
}

# The last failure, once: NULL if R's evaluation failed without one (R's own message says why).
# The failed call's warnings either went with its failure or are dropped: none reach the next call.
seldon_failure <- function() {
  failed <- seldon_failed
  seldon_failed <<- NULL
  seldon_warned <<- character()
  failed
}

# fun(args...): called directly for up to three arguments, which costs a request far less than
# do.call (that quotes each argument).
seldon_call <- function(fun, args) {
  switch(min(length(args), 4L) + 1L,
    fun(),
    fun(args[[1L]]),
    fun(args[[1L]], args[[2L]]),
    fun(args[[1L]], args[[2L]], args[[3L]]),
    do.call(fun, args, quote = TRUE)
  )
}

# A data hook's caller, made once per hook with its method and the model's object: a request
# then crosses into R with its numbers and its answer comes out flattened, in one call. It is
# seldon_invoke(fun, list(object, <data.frame of values, attributes, rows>, meta), flatten = TRUE)
# written out (meta left out when NULL), which spares a small request the calls in between.
seldon_frame_caller <- function(fun, object) {
  function(values, attributes, rows, meta) {
    withCallingHandlers(
      {
        frame <- seldon_numeric_frame(values, attributes, rows)
        value <- if (is.null(meta)) fun(object, frame) else fun(object, frame, meta)
        value <- seldon_flatten(value)
        seldon_answer(value)
      },
      warning = seldon_on_warning, error = seldon_on_error, interrupt = seldon_on_interrupt
    )
  }
}

seldon_stack <- function(calls) {
  lines <- vapply(calls, function(call) substr(paste(deparse(call, nlines = 1L), collapse = ""), 1L, 120L), "")
  # The model's frames are what helps: those below the handlers seldon_invoke (or a frame
  # caller) set, less seldon_call's and its call of the method (deparsed as fun(args[[1L]], ...)
  # or fun(object, frame), which says nothing), less the error handling's own.
  ours <- match(TRUE, startsWith(lines, "withCallingHandlers("))
  if (!is.na(ours)) lines <- lines[-seq_len(ours)]
  if (length(lines) && startsWith(lines[[1L]], "seldon_call(")) lines <- lines[-1L]
  if (length(lines) && startsWith(lines[[1L]], "fun(")) lines <- lines[-1L]
  lines[!grepl("^(do.call|h\\(|\\.handleSimpleError)", lines)]
}

# ---- requests into R -------------------------------------------------------------------------

# The attributes that make a list of equally long columns a data.frame (faster than
# as.data.frame: set at once, row names in R's compact form). The wrapper makes them once for
# each names and row count its requests have, and hands them to every request's frame.
seldon_frame_attributes <- function(names, rows) {
  list(names = names, class = "data.frame", row.names = c(NA_integer_, -as.integer(rows)))
}

seldon_frame <- function(columns, attributes) {
  attributes(columns) <- attributes
  columns
}

# The same from one double vector holding the columns one after the other. A row of a request
# is the common case: each column is one of its values, cut by as.vector(values, "list") -- what
# as.list does, less its method dispatch, which took half the frame's time.
seldon_numeric_frame <- function(values, attributes, rows) {
  columns <- if (rows == 1L) {
    as.vector(values, "list")
  } else {
    lapply(seq_along(attributes$names) - 1L, function(j) values[j * rows + seq_len(rows)])
  }
  attributes(columns) <- attributes
  columns
}

seldon_array <- function(values, dims) array(values, dim = dims)

seldon_from_json <- function(text) jsonlite::fromJSON(text, simplifyVector = FALSE)

# ---- results out of R ------------------------------------------------------------------------

seldon_to_json <- function(value) {
  as.character(jsonlite::toJSON(value, auto_unbox = TRUE, digits = NA, null = "null", na = "null"))
}

# A result in a shape the wrapper reads without knowing R: list(kind, ...), read by position
# (convert.from_flat); the names are for the reader of this file.
seldon_flatten <- function(x) {
  if (is.null(x)) {
    return(list(kind = "null"))
  }
  if (is.raw(x)) {
    return(list(kind = "bytes", value = as.vector(x)))
  }
  if (is.data.frame(x)) {
    columns <- unclass(x) # a plain list: data.frame's own [[, nrow and names dispatch, and cost a request dearly
    if (length(columns) > 0L && length(columns[[1L]]) > 0L && seldon_all_double(columns)) {
      # c(recursive = TRUE) is unlist's work without unlist's closure
      return(list(kind = "numeric_table", value = c(columns, recursive = TRUE, use.names = FALSE), names = names(columns)))
    }
    return(list(kind = "table", columns = lapply(columns, seldon_plain), names = names(columns)))
  }
  if (is.array(x)) {
    names <- if (length(dim(x)) == 2L) colnames(x) else NULL
    return(list(kind = "array", value = seldon_plain(x), dim = dim(x), names = names))
  }
  if (is.factor(x) || (is.atomic(x) && !is.complex(x))) {
    return(list(kind = "vector", value = seldon_plain(x)))
  }
  if (is.list(x)) {
    return(list(kind = "json", value = seldon_to_json(x)))
  }
  stop(sprintf(
    "cannot answer with an object of class %s: return a data.frame, matrix, vector, list, string or raw vector",
    paste(class(x), collapse = "/")
  ))
}

# Whether every column is double (a loop: vapply costs a request more).
seldon_all_double <- function(columns) {
  for (column in columns) if (!is.double(column)) return(FALSE)
  TRUE
}

# A plain vector the wrapper converts directly: factors as labels, integers with NA as doubles.
seldon_plain <- function(v) {
  if (is.factor(v)) v <- as.character(v)
  if (is.list(v)) v <- vapply(v, function(item) paste(format(item), collapse = " "), "")
  if (is.complex(v)) stop("complex numbers have no place in a SeldonMessage")
  v <- as.vector(v)
  if ((is.integer(v) || is.logical(v)) && anyNA(v)) v <- as.double(v)
  if (is.numeric(v) && !is.integer(v)) v <- as.double(v)
  v
}
