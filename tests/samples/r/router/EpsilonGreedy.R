# A multi-armed bandit: route to the child with the best mean reward so far, except for a
# share `epsilon` of requests that explore a random child. Feedback rewards teach it.
#
# A request whose names include "misbehave" gets a string back instead of a child index, so
# the wrapper's handling of a broken router can be tested.
initialise_seldon <- function(params) {
  n_branches <- if (is.null(params$n_branches)) 2L else params$n_branches
  state <- new.env()
  state$rewards <- numeric(n_branches)
  state$counts <- integer(n_branches)
  set.seed(if (is.null(params$seed)) 0L else params$seed)
  structure(
    list(n_branches = n_branches, epsilon = if (is.null(params$epsilon)) 0.1 else params$epsilon, state = state),
    class = "epsilon_greedy"
  )
}

# Children are numbered from 0, as Seldon's graph numbers them.
route.epsilon_greedy <- function(router, newdata) {
  if ("misbehave" %in% names(newdata)) {
    return("the left one")
  }
  if (runif(1) < router$epsilon) {
    return(sample.int(router$n_branches, 1) - 1L)
  }
  counts <- router$state$counts
  means <- ifelse(counts > 0, router$state$rewards / pmax(counts, 1), 0)
  which.max(means) - 1L
}

# routing: the child Seldon recorded for this unit when it routed the request (NULL if none).
send_feedback.epsilon_greedy <- function(router, newdata, reward, truth, routing) {
  if (!is.null(routing) && routing >= 0 && routing < router$n_branches) {
    child <- routing + 1
    router$state$counts[child] <- router$state$counts[child] + 1L
    router$state$rewards[child] <- router$state$rewards[child] + reward
  }
  invisible(NULL)
}
