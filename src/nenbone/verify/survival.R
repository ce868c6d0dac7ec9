# Cross-engine check: Kaplan-Meier medians with log-log intervals, log-rank tests and Cox models
# (Efron and Breslow ties, robust SE clustered on the matched set), recomputed with R's survival
# package from the derived and matched data that nenbone.verify.cross_engine exported as CSV.
#
# Usage: Rscript survival.R <folder>   (reads <folder>/analyses.csv and the data files it names,
# writes <folder>/r_results.csv with columns id, quantity, value).
# Only base R and the recommended package `survival` are used.
suppressPackageStartupMessages(library(survival))

args <- commandArgs(trailingOnly = TRUE)
folder <- args[[1]]
spec <- read.csv(file.path(folder, "analyses.csv"), stringsAsFactors = FALSE, na.strings = "")
rows <- list()
put <- function(id, quantity, value) {
  rows[[length(rows) + 1]] <<- data.frame(id = id, quantity = quantity, value = as.numeric(value))
}
na_to <- function(x) if (length(x) == 0 || is.na(x)) NA_real_ else x

for (i in seq_len(nrow(spec))) {
  a <- spec[i, ]
  d <- read.csv(file.path(folder, a$data), stringsAsFactors = FALSE, na.strings = "")
  if (!is.na(a$where)) d <- d[with(d, eval(parse(text = a$where))), , drop = FALSE]
  d$time <- as.numeric(d[[a$duration]])
  d$status <- as.integer(as.logical(d[[a$event]]))
  level <- as.numeric(a$level)
  if (a$kind == "km") {
    strata <- if (is.na(a$group)) list(all = rep(TRUE, nrow(d))) else
      setNames(lapply(strsplit(a$groups, ";")[[1]], function(g) d[[a$group]] == g), strsplit(a$groups, ";")[[1]])
    for (s in names(strata)) {
      part <- d[strata[[s]] & !is.na(d$time) & !is.na(d$status), ]
      fit <- survfit(Surv(time, status) ~ 1, data = part, conf.type = "log-log", conf.int = level)
      q <- quantile(fit, probs = 0.5, conf.int = TRUE)
      prefix <- if (s == "all") "" else paste0(tolower(s), ".")
      put(a$id, paste0(prefix, "median"), na_to(unname(q$quantile)))
      put(a$id, paste0(prefix, "ci_loglog_lower"), na_to(unname(q$lower)))
      put(a$id, paste0(prefix, "ci_loglog_upper"), na_to(unname(q$upper)))
    }
    if (!is.na(a$group)) {
      part <- d[d[[a$group]] %in% strsplit(a$groups, ";")[[1]], ]
      lr <- survdiff(Surv(time, status) ~ part[[a$group]], data = part)
      put(a$id, "logrank_p", pchisq(lr$chisq, df = length(lr$n) - 1, lower.tail = FALSE))
    }
  } else if (a$kind == "cox") {
    d$exposure <- as.integer(d[[a$group]] == a$groups)  # a$groups holds the exposed level
    covs <- if (is.na(a$covariates)) character(0) else strsplit(a$covariates, ";")[[1]]
    for (v in covs) if (is.character(d[[v]])) d[[v]] <- factor(d[[v]])
    rhs <- paste(c("exposure", covs), collapse = " + ")
    f <- as.formula(paste("Surv(time, status) ~", rhs))
    d$cluster_id <- d[[a$cluster]]
    fit <- coxph(f, data = d, ties = a$ties, cluster = cluster_id)
    b <- unname(coef(fit)["exposure"])
    se <- sqrt(fit$var[1, 1])  # robust (clustered) variance
    z <- qnorm(1 - (1 - level) / 2)
    put(a$id, "hr", exp(b))
    put(a$id, "lower", exp(b - z * se))
    put(a$id, "upper", exp(b + z * se))
    put(a$id, "p", 2 * pnorm(-abs(b / se)))
  }
}
out <- do.call(rbind, rows)
write.csv(out, file.path(folder, "r_results.csv"), row.names = FALSE)
