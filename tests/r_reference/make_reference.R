# R's survival results for the datasets in this folder (run via tests/r_reference/run.py).
#   Rscript tests/r_reference/make_reference.R tests/r_reference
# Writes r_results.csv: case, quantity, index, value (value printed with 17 significant digits).
# Needs only base R and survival (>= 3.0; the values committed come from survival 3.5-3).
args <- commandArgs(TRUE)
dir <- if (length(args)) args[1] else "."
suppressPackageStartupMessages(library(survival))
rows <- list()
put <- function(case, quantity, value) {
  value <- as.numeric(value)
  if (!length(value)) return(invisible())
  rows[[length(rows) + 1]] <<- data.frame(case = case, quantity = quantity, index = seq_along(value),
                                          value = sprintf("%.17g", value))
}

# ------------------------------------------------------------------ Cox models
put_cox <- function(case, fit) {
  s <- summary(fit)
  robust <- !is.null(fit$naive.var)
  put(case, "coef", coef(fit))
  put(case, "var_model", if (robust) fit$naive.var else fit$var)
  if (robust) put(case, "var_robust", fit$var)
  put(case, "se", sqrt(diag(fit$var)))
  put(case, "p", s$coefficients[, ncol(s$coefficients)])
  put(case, "hr_lower", s$conf.int[, 3])
  put(case, "hr_upper", s$conf.int[, 4])
  put(case, "loglik", fit$loglik)
  put(case, "score_test", fit$score)
  put(case, "wald_test", fit$wald.test)
  put(case, "lr_test", 2 * diff(fit$loglik))
  if (robust) put(case, "robust_score_test", fit$rscore)
  put(case, "score_residuals", residuals(fit, type = "score"))
}

d <- read.csv(file.path(dir, "cox_ties.csv"))
for (ties in c("efron", "breslow")) {
  put_cox(paste0(ties, "_plain"), coxph(Surv(time, event) ~ x1 + x2, d, ties = ties))
  put_cox(paste0(ties, "_robust"), coxph(Surv(time, event) ~ x1 + x2, d, ties = ties, robust = TRUE))
  put_cox(paste0(ties, "_cluster"), coxph(Surv(time, event) ~ x1 + x2, d, ties = ties, cluster = cluster))
  put_cox(paste0(ties, "_strata"), coxph(Surv(time, event) ~ x1 + x2 + strata(stratum), d, ties = ties))
  put_cox(paste0(ties, "_strata_cluster"),
          coxph(Surv(time, event) ~ x1 + x2 + strata(stratum), d, ties = ties, cluster = cluster))
  put_cox(paste0(ties, "_weights"), coxph(Surv(time, event) ~ x1 + x2, d, ties = ties, weights = w, robust = FALSE))
  put_cox(paste0(ties, "_weights_cluster"),
          coxph(Surv(time, event) ~ x1 + x2, d, ties = ties, weights = w, cluster = cluster))
}

# a group with no events: R warns that the coefficient may be infinite
sep <- read.csv(file.path(dir, "separation.csv"))
warned <- 0
invisible(withCallingHandlers(coxph(Surv(time, event) ~ x1, sep),
                    warning = function(w) { if (grepl("infinite", conditionMessage(w))) warned <<- 1
                                            invokeRestart("muffleWarning") }))
put("separation", "r_warned_infinite", warned)

# ------------------------------------------------------------------ PH test
# pre-3.0 cox.zph (survival 2.x), transcribed from its source: scaled Schoenfeld residuals
# regressed on g(t), g = 1 - S(t-) (km), rank or identity over the death times
zph_pre3 <- function(fit, transform) {
  sresid <- as.matrix(residuals(fit, "schoenfeld"))
  ndead <- nrow(sresid)
  times <- fit$y[fit$y[, 2] == 1, 1]
  times <- sort(times)
  ttimes <- switch(transform,
    identity = times,
    rank = rank(times),
    km = {
      temp <- survfit(Surv(fit$y[, 1], fit$y[, 2]) ~ 1)
      t1 <- temp$surv[temp$n.event > 0]
      t2 <- temp$n.event[temp$n.event > 0]
      1 - rep(c(1, t1), c(t2, 0))
    })
  xx <- ttimes - mean(ttimes)
  r2 <- sresid %*% fit$var * ndead
  test <- xx %*% r2
  z <- c(test^2 / (diag(fit$var) * ndead * sum(xx^2)))
  gtest <- c(xx %*% sresid)
  g <- c(gtest %*% fit$var %*% gtest) * ndead / sum(xx^2)
  c(z, g)
}
zfits <- list(efron = coxph(Surv(time, event) ~ x1 + x2, d),
              breslow = coxph(Surv(time, event) ~ x1 + x2, d, ties = "breslow"),
              efron_strata = coxph(Surv(time, event) ~ x1 + x2 + strata(stratum), d),
              efron_weights = coxph(Surv(time, event) ~ x1 + x2, d, weights = w))
for (name in names(zfits)) {
  for (tr in c("km", "rank", "identity")) {
    z <- cox.zph(zfits[[name]], transform = tr)
    case <- paste0("zph_", name, "_", tr)
    put(case, "chisq", z$table[, "chisq"])
    put(case, "df", z$table[, "df"])
    put(case, "p", z$table[, "p"])
    put(case, "x", z$x)
    put(case, "y", z$y)
    if (name %in% c("efron", "breslow")) put(case, "pre3_chisq", zph_pre3(zfits[[name]], tr))
  }
}

# plot.cox.zph's smoothed curve and band, as R draws them: its own code run with `lines` recording
# the (x, y) it is given (three calls per covariate: the fit, the upper and the lower band)
plot_zph_lines <- function(z) {
  captured <- list()
  f <- survival:::plot.cox.zph
  env <- new.env(parent = environment(f))
  env$lines <- function(x, y, ...) captured[[length(captured) + 1]] <<- list(x = x, y = y)
  environment(f) <- env
  pdf(NULL)
  on.exit(dev.off())
  f(z)
  captured
}
for (name in c("efron", "efron_strata")) {
  for (tr in c("km", "identity")) {
    z <- cox.zph(zfits[[name]], transform = tr)
    drawn <- plot_zph_lines(z)
    case <- paste0("zph_", name, "_", tr)
    put(case, "var", z$var)
    for (i in seq_len(ncol(z$y))) {
      put(case, paste0("smooth_x_", i), drawn[[3 * i - 2]]$x)
      put(case, paste0("smooth_fit_", i), drawn[[3 * i - 2]]$y)
      put(case, paste0("smooth_upper_", i), drawn[[3 * i - 1]]$y)
      put(case, paste0("smooth_lower_", i), drawn[[3 * i]]$y)
    }
  }
}

# ------------------------------------------------------------------ Kaplan-Meier and log-rank
km <- read.csv(file.path(dir, "km_edges.csv"))
for (curve in unique(km$curve)) {
  part <- km[km$curve == curve, ]
  fit <- survfit(Surv(time, event) ~ 1, part, conf.type = "log-log")
  tab <- summary(fit)$table
  put(paste0("km_", curve), "median", tab["median"])
  put(paste0("km_", curve), "lower", tab["0.95LCL"])
  put(paste0("km_", curve), "upper", tab["0.95UCL"])
  put(paste0("km_", curve), "surv", fit$surv)
  put(paste0("km_", curve), "time", fit$time)
}
for (pair in list(c("mixed", "reaches_zero"), c("mixed", "no_events"), c("mixed", "reaches_zero", "no_events"))) {
  part <- km[km$curve %in% pair, ]
  lr <- survdiff(Surv(time, event) ~ curve, part)
  put(paste0("logrank_", paste(pair, collapse = "_")), "chisq", lr$chisq)
}

# ------------------------------------------------------------------ the matched cohort (Study B twin)
mc <- file.path(dir, "matched_cohort.csv")
if (file.exists(mc)) {
  m <- read.csv(mc)
  m$group <- relevel(factor(m$group), ref = "L")
  for (ties in c("efron", "breslow")) {
    put_cox(paste0("matched_", ties, "_cluster"),
            coxph(Surv(os_months, os_event) ~ group, m, ties = ties, cluster = match_id))
    put_cox(paste0("matched_", ties, "_plain"), coxph(Surv(os_months, os_event) ~ group, m, ties = ties))
  }
  fit <- coxph(Surv(os_months, os_event) ~ group, m)
  put("matched_zph_km", "chisq", cox.zph(fit)$table[, "chisq"])
  put("matched_zph_km", "p", cox.zph(fit)$table[, "p"])
  put("matched_zph_km", "pre3_chisq", zph_pre3(fit, "km"))
}

out <- do.call(rbind, rows)
write.csv(out, file.path(dir, "r_results.csv"), row.names = FALSE, quote = FALSE)
cat("survival", as.character(packageVersion("survival")), ":", nrow(out), "values written to",
    file.path(dir, "r_results.csv"), "\n")
