# Shared definitions: the studies, where their inputs live, and helpers for rule inputs.
STUDIES = sorted(config["studies"])
SYNTHETIC_TWIN = "resources/synthetic/{study}.{ext}"  # the only inputs a rule makes (data.smk)

# Before any job: every configured input and codebook is a readable file (a twin may be made yet),
# and a file at a twin's path that the workflow did not write is refused, never replaced.
sys.path.insert(0, str(Path(workflow.basedir) / "src"))
from nenbone.io.inputs import input_problems

INPUT_PROBLEMS = input_problems(config, SYNTHETIC_TWIN, ["sav", "dta"])
if INPUT_PROBLEMS:
    raise WorkflowError(INPUT_PROBLEMS)


def study_input(wildcards):
    """The raw export a study reads: the synthetic twin by default, or the user's own file."""
    return config["studies"][wildcards.study]["input"]


def study_codebook(wildcards):
    return config["studies"][wildcards.study]["codebook"]


def hashed_inputs(wildcards):
    """Files the results depend on that no job makes (raw exports, codebooks, config, published numbers)."""
    files = [config["studies"][s]["input"] for s in STUDIES]
    files += [config["studies"][s]["codebook"] for s in STUDIES]
    files += [
        "config/config.yaml",
        "config/analysis.yaml",
        "config/figures.yaml",
        "config/schema.yaml",
    ]
    files += expand("resources/published/{study}.yaml", study=STUDIES)
    return sorted(set(files))


# Figures (rules/figures.smk)


def km_inputs(wildcards):
    """The derived table of the figure's study; for the matched cohort also the match list."""
    spec = config["figure_specs"]["km"][wildcards.analysis]
    files = {"derived": f"results/derived/{spec['study']}.parquet"}
    if spec.get("cohort") == "matched":
        files["matched"] = f"results/matched/{spec['study']}_matched.parquet"
    return files


def km_plan(wildcards):
    """The figure's survival plan from config/analysis.yaml; a missing plan is a config error."""
    spec = config["figure_specs"]["km"][wildcards.analysis]
    plans = config.get("plans", {}).get(spec["study"], {}).get("survival", [])
    found = [p for p in plans if p["name"] == spec["plan"]]
    if len(found) != 1:
        raise WorkflowError(
            f"figure '{wildcards.analysis}': config plans.{spec['study']}.survival has "
            f"{len(found)} plan(s) named '{spec['plan']}' (need exactly one)"
        )
    return found[0]


def km_category(wildcards):
    return config["figure_specs"]["category"][
        config["figure_specs"]["km"][wildcards.analysis]["study"]
    ]


def flow_inputs(wildcards):
    """Screened (validated) and eligible (derived) rows; Study B also who entered the model and who was matched."""
    files = {
        "validated": f"results/validated/{wildcards.study}.parquet",
        "derived": f"results/derived/{wildcards.study}.parquet",
    }
    if wildcards.study == "mayo":
        files["scores"] = "results/matched/mayo_scores.parquet"
        files["matched"] = "results/matched/mayo_matched.parquet"
    return files


def flow_settings(wildcards):
    """Only the config the flow counts depend on (eligibility or groups, period and matching)."""
    keys = {
        "christie": ["eligibility", "derivation"],
        "mayo": ["groups", "period", "matching"],
    }
    return {k: config[wildcards.study][k] for k in keys[wildcards.study]}
