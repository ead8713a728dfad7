#!/usr/bin/env python3
"""Renders the terraform-docs style reference (Requirements, Providers, Resources, Inputs,
Outputs) of the module from its .tf files with python-hcl2, since terraform-docs itself is not
installable offline. The README keeps it between the <!-- BEGIN_TF_DOCS --> and
<!-- END_TF_DOCS --> markers; test_structure.py fails when the two drift apart.

    target/venvs/hcl2/bin/python terraform/tests/tfdocs.py           # print
    target/venvs/hcl2/bin/python terraform/tests/tfdocs.py --write   # update terraform/README.md
"""

import glob
import json
import os
import re
import sys

import hcl2

MODULE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = os.path.join(MODULE_DIR, "README.md")
BEGIN, END = "<!-- BEGIN_TF_DOCS -->", "<!-- END_TF_DOCS -->"
OPTIONS = hcl2.SerializationOptions(strip_string_quotes=True, explicit_blocks=False)


def hcl_value(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, list):
        return "[" + ", ".join(hcl_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k} = {hcl_value(x)}" for k, x in v.items()) + "}"
    return str(v)


def cell(text):
    return text.replace("$${", "${").replace("|", "\\|").replace("\n", " ")


def render(module_dir=MODULE_DIR):
    variables, outputs, resources, data, terraform = [], [], [], [], []
    for path in sorted(glob.glob(os.path.join(module_dir, "*.tf"))):
        with open(path, encoding="utf-8") as f:
            doc = hcl2.load(f, serialization_options=OPTIONS)
        for block in doc.get("variable", []):
            variables += block.items()
        for block in doc.get("output", []):
            outputs += block.items()
        for kind, target in (("resource", resources), ("data", data)):
            for block in doc.get(kind, []):
                for rtype, named in block.items():
                    target += [f"{rtype}.{name}" for name in named]
        terraform += doc.get("terraform", [])

    required_version = terraform[0]["required_version"]
    providers = terraform[0]["required_providers"][0]
    lines = ["## Requirements", "", "| Name | Version |", "|------|---------|",
             f"| terraform | {required_version} |"]
    lines += [f"| {name} | {p['version']} |" for name, p in providers.items() if not name.startswith("__")]
    lines += ["", "## Providers", "", "| Name | Version |", "|------|---------|"]
    lines += [f"| {name} | {p['version']} |" for name, p in providers.items() if not name.startswith("__")]
    lines += ["", "## Resources", "", "| Name | Type |", "|------|------|"]
    lines += [f"| {r} | resource |" for r in sorted(resources)]
    lines += [f"| {d} | data source |" for d in sorted(data)]
    lines += ["", "## Inputs", "", "| Name | Description | Type | Default | Required |",
              "|------|-------------|------|---------|:--------:|"]
    # required inputs first, then the rest, each alphabetically (as terraform-docs sorts them)
    for name, body in sorted(variables, key=lambda nb: ("default" in nb[1], nb[0])):
        vtype = re.sub(r"^\$\{(.*)\}$", r"\1", body["type"])
        default = f"`{hcl_value(body['default'])}`" if "default" in body else "n/a"
        required = "no" if "default" in body else "yes"
        lines.append(f"| {name} | {cell(body['description'])} | `{vtype}` | {default} | {required} |")
    lines += ["", "## Outputs", "", "| Name | Description |", "|------|-------------|"]
    lines += [f"| {name} | {cell(body['description'])} |" for name, body in sorted(outputs)]
    return "\n".join(lines) + "\n"


def readme_section():
    with open(README, encoding="utf-8") as f:
        text = f.read()
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    return text, start, end


def main():
    docs = render()
    if sys.argv[1:] == ["--write"]:
        text, start, end = readme_section()
        with open(README, "w", encoding="utf-8") as f:
            f.write(text[:start] + "\n" + docs + text[end:])
    else:
        sys.stdout.write(docs)


if __name__ == "__main__":
    main()
