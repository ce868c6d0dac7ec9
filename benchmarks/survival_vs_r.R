# One survival fit in R on the dataset benchmarks/run.py wrote (float64 binary columns), timed inside R.
#   Rscript benchmarks/survival_vs_r.R <dir> <n> <p> <what: efron|breslow|km|logrank>
# Prints: seconds (the fit only), peak resident memory of this R process (MB, VmHWM) and the estimates.
args <- commandArgs(TRUE)
dir <- args[1]; n <- as.integer(args[2]); p <- as.integer(args[3]); what <- args[4]
suppressPackageStartupMessages(library(survival))
rd <- function(name) readBin(file.path(dir, paste0(name, ".f64")), "double", n)
d <- data.frame(time = rd("time"), event = rd("event"))
for (j in 1:p) d[[paste0("x", j)]] <- rd(paste0("x", j))
form <- as.formula(paste("Surv(time, event) ~", paste0("x", 1:p, collapse = " + ")))
invisible(gc())
elapsed <- system.time(est <- switch(what,
  efron = coef(coxph(form, d, ties = "efron")),
  breslow = coef(coxph(form, d, ties = "breslow")),
  km = { s <- summary(survfit(Surv(time, event) ~ 1, d))$table; unname(s["median"]) },
  logrank = survdiff(Surv(time, event) ~ x1, d)$chisq))[["elapsed"]]
hwm <- grep("^VmHWM", readLines("/proc/self/status"), value = TRUE)
cat("seconds", sprintf("%.4f", elapsed), "\n")
cat("peak_mb", as.numeric(gsub("[^0-9]", "", hwm)) / 1024, "\n")
cat("estimates", sprintf("%.17g", est), "\n")
cat("survival", as.character(packageVersion("survival")), "\n")
