"""Rule render_supplement: provenance of the run, then the supplement as HTML and PDF."""

from nenbone.runner import run_rule


def main(smk, log):
    import hashlib
    import json
    from pathlib import Path

    import yaml

    from nenbone import provenance as pv
    from nenbone.io.files import json_bytes, write_bytes_atomic
    from nenbone.render import render_supplement

    root = Path(smk.params.root)
    inputs = pv.input_hashes(list(smk.input.hashed), root)
    env, packages, git = pv.environment(), pv.package_versions(), pv.git_state(root)
    config_text = yaml.safe_dump(smk.params.config, sort_keys=True)
    config_sha = hashlib.sha256(config_text.encode("utf-8")).hexdigest()
    write_bytes_atomic(json_bytes({"inputs_sha256": inputs, "environment": env, "git": git,
                                   "config_sha256": config_sha}), smk.output.provenance_json)
    write_bytes_atomic("".join(f"{k}=={v}\n" for k, v in packages.items()).encode("utf-8"), smk.output.packages)
    write_bytes_atomic(config_text.encode("utf-8"), smk.output.config)
    write_bytes_atomic(pv.provenance_markdown(inputs, env, packages, git, config_sha).encode("utf-8"), smk.output.provenance_md)
    info = render_supplement(smk.input.source, smk.output.html, smk.output.pdf, list(smk.input.metadata), root,
                             engine=smk.params.engine, source_date_epoch=smk.params.source_date_epoch)
    write_bytes_atomic(json_bytes(info), smk.output.render_info)
    log.info("rendered with %s", json.dumps(info, sort_keys=True))


run_rule(snakemake, main)  # noqa: F821 (injected by Snakemake)
