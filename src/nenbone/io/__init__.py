"""Reading and writing SPSS/Stata/parquet files; the lowest layer."""
