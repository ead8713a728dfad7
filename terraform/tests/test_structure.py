#!/usr/bin/env python3
"""Structural tests of the nocbox Terraform module, without Terraform or AWS.

Parses every .tf file of the module and of examples/complete with python-hcl2 (8.x) and checks the
lessons the module exists for: each NLB listener forwards to the target group of its own input on
the right container port and protocol (514 TCP_UDP -> 5514, 162 UDP -> 5162, 123 UDP -> 5123),
connection termination, client IP preservation, ip targets, HTTP health checks on the API port
with per-input paths, an internal NLB with fixed addresses, the container's read-only root
filesystem, health check, ping sysctl and stop timeout, the log group's retention, least
privilege, and that every reference points at something declared (a stand-in for
`terraform validate`, which needs the AWS provider).

Run with the python of a venv that has python-hcl2 8.x (not checkov's venv: checkov's
bc-python-hcl2 installs a module of the same name):
    target/venvs/hcl2/bin/python terraform/tests/test_structure.py
The last line is "N passed, N failed"; the exit status is 1 when a test failed.
"""

import glob
import os
import re
import sys
import traceback

import hcl2

MODULE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLE_DIR = os.path.join(MODULE_DIR, "examples", "complete")
OPTIONS = hcl2.SerializationOptions(strip_string_quotes=True, explicit_blocks=False)

# input -> (listener port, listener protocol, container port, target protocol, health path)
EXPECTED_INPUTS = {
    "syslog": (514, "TCP_UDP", 5514, "TCP_UDP", "/healthz/syslog"),
    "traps": (162, "UDP", 5162, "UDP", "/healthz/traps"),
    "ntp": (123, "UDP", 5123, "UDP", "/healthz/ntp"),
}
API_PORT = 8080


class Unresolved(Exception):
    pass


def load(path):
    with open(path, encoding="utf-8") as f:
        return hcl2.load(f, serialization_options=OPTIONS)


def strip_comments(text):
    return "\n".join(line for line in text.splitlines() if not re.match(r"\s*(#|//)", line))


class Config:
    """The .tf files of one directory, merged by block type."""

    def __init__(self, directory):
        self.directory = directory
        self.paths = sorted(glob.glob(os.path.join(directory, "*.tf")))
        assert self.paths, f"no .tf files in {directory}"
        self.text = {os.path.basename(p): open(p, encoding="utf-8").read() for p in self.paths}
        self.resources, self.data, self.variables = {}, {}, {}
        self.outputs, self.locals, self.modules = {}, {}, {}
        self.terraform, self.providers = [], []
        for path in self.paths:
            doc = load(path)
            for block in doc.get("resource", []):
                for rtype, named in block.items():
                    for name, body in named.items():
                        self.resources[(rtype, name)] = body
            for block in doc.get("data", []):
                for dtype, named in block.items():
                    for name, body in named.items():
                        self.data[(dtype, name)] = body
            for kind, target in (("variable", self.variables), ("output", self.outputs), ("module", self.modules)):
                for block in doc.get(kind, []):
                    target.update(block)
            for block in doc.get("locals", []):
                self.locals.update({k: v for k, v in block.items() if not k.startswith("__")})
            self.terraform += doc.get("terraform", [])
            self.providers += doc.get("provider", [])

    def resource(self, rtype, name):
        assert (rtype, name) in self.resources, f"resource {rtype}.{name} missing"
        return self.resources[(rtype, name)]

    def default(self, var):
        assert var in self.variables, f"variable {var} not declared"
        body = self.variables[var]
        assert "default" in body, f"variable {var} has no default"
        return body["default"]

    def resolve(self, value, each=None, each_key=None):
        """Resolves a single reference "${var.x}", "${local.a.b}", "${each.value.x}", "${each.key}"
        or "${tostring(...)}" to its literal value (variables: their defaults)."""
        if not isinstance(value, str):
            return value
        m = re.fullmatch(r"\$\{(.*)\}", value, re.S)
        if not m or "${" in m.group(1):
            return value
        expr = m.group(1).strip()
        if (mm := re.fullmatch(r"var\.(\w+)", expr)):
            return self.resolve(self.default(mm.group(1)))
        if (mm := re.fullmatch(r"local\.([\w.]+)", expr)):
            node = self.locals
            for part in mm.group(1).split("."):
                assert isinstance(node, dict) and part in node, f"local.{mm.group(1)} not found"
                node = node[part]
            return self.resolve(node, each, each_key)
        if (mm := re.fullmatch(r"each\.value\.([\w.]+)", expr)) and each is not None:
            node = each
            for part in mm.group(1).split("."):
                node = node[part]
            return self.resolve(node, each, each_key)
        if expr == "each.key" and each_key is not None:
            return each_key
        if (mm := re.fullmatch(r"tostring\((.+)\)", expr)):
            return str(self.resolve("${" + mm.group(1) + "}", each, each_key))
        raise Unresolved(expr)


MODULE = Config(MODULE_DIR)
EXAMPLE = Config(EXAMPLE_DIR)
TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


def block(body, name):
    """The single nested block `name` of a parsed body (python-hcl2 gives blocks as lists)."""
    value = body.get(name)
    assert isinstance(value, list) and len(value) == 1, f"expected one {name} block, got {value!r}"
    return value[0]


def dynamic(body, name):
    for entry in body.get("dynamic", []):
        if name in entry:
            return entry[name]
    raise AssertionError(f"no dynamic {name} block")


def container():
    return MODULE.locals["container_definition_base"]


# ---------------------------------------------------------------------------------------------
# Listeners, target groups, NLB
# ---------------------------------------------------------------------------------------------


def check_input(key):
    lport, lproto, cport, tproto, path = EXPECTED_INPUTS[key]
    inp = MODULE.locals["inputs"][key]
    listener = MODULE.resource("aws_lb_listener", key)
    assert listener["count"] == "${var.enable_%s ? 1 : 0}" % key, f"{key} listener not gated by enable_{key}"
    assert listener["load_balancer_arn"] == "${aws_lb.this.arn}"
    assert MODULE.resolve(listener["port"]) == lport, f"{key} listener port {MODULE.resolve(listener['port'])} != {lport}"
    assert MODULE.resolve(listener["protocol"]) == lproto, f"{key} listener protocol"
    action = block(listener, "default_action")
    assert action["type"] == "forward"
    assert action["target_group_arn"] == '${aws_lb_target_group.this["%s"].arn}' % key, (
        f"{key} listener forwards to {action['target_group_arn']}"
    )
    tg = MODULE.resource("aws_lb_target_group", "this")
    assert tg["for_each"] == "${local.enabled_inputs}"
    assert MODULE.resolve(tg["port"], each=inp) == cport, f"{key} target group port"
    assert MODULE.resolve(tg["protocol"], each=inp) == tproto, f"{key} target group protocol"
    hc = block(tg, "health_check")
    assert MODULE.resolve(hc["path"], each=inp) == path, f"{key} health check path"
    assert MODULE.resolve(hc["port"]) == str(API_PORT), f"{key} health check port"
    assert hc["protocol"] == "HTTP"


@test
def test_syslog_listener_514_tcp_udp_to_5514():
    check_input("syslog")


@test
def test_traps_listener_162_udp_to_5162():
    check_input("traps")


@test
def test_ntp_listener_123_udp_to_5123():
    check_input("ntp")


@test
def test_inputs_enabled_by_variables_syslog_default_on():
    assert MODULE.default("enable_syslog") is True
    assert MODULE.default("enable_traps") is False and MODULE.default("enable_ntp") is False
    for key in EXPECTED_INPUTS:
        assert MODULE.locals["inputs"][key]["enabled"] == "${var.enable_%s}" % key
    enabled = MODULE.locals["enabled_inputs"]
    assert "local.inputs" in enabled and "if input.enabled" in enabled, enabled
    # nothing else defines a listener
    assert sorted(n for (t, n) in MODULE.resources if t == "aws_lb_listener") == sorted(EXPECTED_INPUTS)


@test
def test_target_groups_terminate_connections_preserve_client_ip_ip_targets():
    tg = MODULE.resource("aws_lb_target_group", "this")
    assert tg["connection_termination"] is True
    assert tg["preserve_client_ip"] is True
    assert tg["target_type"] == "ip"
    assert tg["vpc_id"] == "${var.vpc_id}"
    assert MODULE.resolve(tg["deregistration_delay"]) == 10
    conditions = " ".join(v["condition"] for v in MODULE.variables["deregistration_delay"]["validation"])
    assert ">= 0" in conditions and "<= 3600" in conditions


@test
def test_target_group_health_checks_http_on_api_port_explicit_thresholds():
    hc = block(MODULE.resource("aws_lb_target_group", "this"), "health_check")
    assert hc["enabled"] is True and hc["protocol"] == "HTTP" and hc["matcher"] == "200"
    assert hc["port"] == "${tostring(var.api_port)}" and MODULE.default("api_port") == API_PORT
    for attr in ("interval", "timeout", "healthy_threshold", "unhealthy_threshold"):
        assert isinstance(MODULE.resolve(hc[attr]), int), f"health check {attr} must be set explicitly"


@test
def test_nlb_internal_fixed_addresses_cross_zone_security_group():
    lb = MODULE.resource("aws_lb", "this")
    assert lb["internal"] is True
    assert lb["load_balancer_type"] == "network"
    assert lb["security_groups"] == ["${aws_security_group.nlb.id}"]
    assert MODULE.resolve(lb["enable_cross_zone_load_balancing"]) is True
    assert MODULE.resolve(lb["enable_deletion_protection"]) is True
    assert "subnets" not in lb, "use subnet_mapping, not subnets"
    mapping = dynamic(lb, "subnet_mapping")
    assert mapping["for_each"] == "${var.subnet_mappings}"
    content = mapping["content"][0]
    assert content["private_ipv4_address"] == "${subnet_mapping.value.private_ipv4_address}"
    assert content["subnet_id"] == "${subnet_mapping.value.subnet_id}"
    var = MODULE.variables["subnet_mappings"]
    assert "default" not in var, "subnet_mappings must be required"
    assert "private_ipv4_address = string" in var["type"]
    assert any("length(var.subnet_mappings) >= 1" in v["condition"] for v in var["validation"])


@test
def test_outputs_fixed_ips_and_identifiers():
    ips = MODULE.outputs["nlb_ip_addresses"]["value"]
    assert "var.subnet_mappings" in ips and "private_ipv4_address" in ips, ips
    for name in ("nlb_arn", "nlb_dns_name", "service_name", "task_definition_arn", "nlb_security_group_id",
                 "task_security_group_id", "log_group_name", "device_endpoints", "target_group_arns"):
        assert name in MODULE.outputs, f"output {name} missing"


# ---------------------------------------------------------------------------------------------
# Task definition and container
# ---------------------------------------------------------------------------------------------


@test
def test_task_definition_fargate_awsvpc_volumes():
    td = MODULE.resource("aws_ecs_task_definition", "this")
    assert td["network_mode"] == "awsvpc"
    assert td["requires_compatibilities"] == ["FARGATE"]
    assert td["container_definitions"] == "${jsonencode([local.container_definition])}"
    assert "local.container_definition_base" in MODULE.locals["container_definition"]
    assert td["execution_role_arn"] == "${aws_iam_role.execution.arn}"
    assert td["task_role_arn"] == "${aws_iam_role.task.arn}"
    volumes = [v["name"] for v in td["volume"]]
    assert volumes == ["state"], volumes
    for v in td["volume"]:
        assert set(v) <= {"name"}, f"volume {v['name']} must be a task (ephemeral) volume"


@test
def test_container_read_only_root_with_writable_state_volume():
    c = container()
    assert c["readonlyRootFilesystem"] is True
    mounts = {m["sourceVolume"]: m for m in c["mountPoints"]}
    assert mounts["state"]["containerPath"] == "${var.state_path}" and mounts["state"]["readOnly"] is False
    assert list(mounts) == ["state"], "the state volume is the one writable path"
    assert MODULE.default("state_path") == "/var/lib/nocbox"


@test
def test_container_health_check_runs_nocbox_health():
    hc = container()["healthCheck"]
    assert hc["command"].startswith('${concat(["CMD", var.nocbox_binary_path, "health"]'), hc["command"]
    assert MODULE.default("nocbox_binary_path") == "/usr/local/bin/nocbox"
    for attr in ("interval", "timeout", "retries", "startPeriod"):
        assert isinstance(MODULE.resolve(hc[attr]), int)


@test
def test_container_system_controls_ping_group_range():
    assert container()["systemControls"] == [
        {"namespace": "net.ipv4.ping_group_range", "value": "0 2147483647"}
    ]


@test
def test_container_stop_timeout_30_at_most_120():
    c = container()
    assert c["stopTimeout"] == "${var.stop_timeout}"
    assert MODULE.default("stop_timeout") == 30
    assert any("<= 120" in v["condition"] for v in MODULE.variables["stop_timeout"]["validation"])


@test
def test_container_logs_awslogs_explicit_mode():
    log = container()["logConfiguration"]
    assert log["logDriver"] == "awslogs"
    opts = MODULE.locals["log_options"]
    for key in ('"awslogs-group" = local.log_group_name', '"mode" = var.log_driver_mode', '"max-buffer-size"'):
        assert key in opts, f"{key} missing from log options"
    assert MODULE.default("log_driver_mode") == "non-blocking"
    assert MODULE.default("log_max_buffer_size") == "25m"


@test
def test_container_secrets_by_arn_and_plain_environment():
    c = container()
    assert "valueFrom = var.secrets[k]" in c["secrets"]
    assert "local.environment" in c["environment"]
    env = MODULE.locals["environment"]
    assert "DEVICE_CIDRS = join(\",\", var.device_cidrs)" in env and env.rstrip("})").endswith("var.environment"), env
    assert "local.ntp_environment" in env, env
    ntp = MODULE.locals["ntp_environment"]
    assert "var.enable_ntp" in ntp and "NOCBOX_NTP" in ntp and "var.ntp_upstreams" in ntp, ntp
    conditions = " ".join(v["condition"] for v in MODULE.variables["secrets"]["validation"])
    assert "secretsmanager" in conditions and "ssm" in conditions


@test
def test_container_ports_unprivileged():
    for var, port in (("syslog_port", 5514), ("traps_port", 5162), ("ntp_port", 5123), ("api_port", 8080)):
        assert MODULE.default(var) == port
        assert any(">= 1024" in v["condition"] for v in MODULE.variables[var]["validation"]), var
    assert container()["portMappings"] == "${local.port_mappings}"
    assert MODULE.default("syslog_port_mapping_protocols") == ["udp"]


# ---------------------------------------------------------------------------------------------
# Service
# ---------------------------------------------------------------------------------------------


@test
def test_service_circuit_breaker_grace_period_private_tasks():
    svc = MODULE.resource("aws_ecs_service", "this")
    assert svc["launch_type"] == "FARGATE"
    cb = block(svc, "deployment_circuit_breaker")
    assert cb["enable"] is True and cb["rollback"] is True
    assert MODULE.resolve(svc["health_check_grace_period_seconds"]) == 60
    assert MODULE.resolve(svc["desired_count"]) == 1
    net = block(svc, "network_configuration")
    assert net["assign_public_ip"] is False
    assert net["security_groups"] == ["${aws_security_group.task.id}"]
    assert MODULE.resolve(svc["platform_version"]) == "LATEST"


@test
def test_service_registers_container_port_of_each_input():
    lb = dynamic(MODULE.resource("aws_ecs_service", "this"), "load_balancer")
    assert lb["for_each"] == "${local.enabled_inputs}"
    content = lb["content"][0]
    assert content["target_group_arn"] == "${aws_lb_target_group.this[load_balancer.key].arn}"
    assert content["container_port"] == "${load_balancer.value.container_port}"
    assert content["container_name"] == container()["name"] == "${var.container_name}"


# ---------------------------------------------------------------------------------------------
# Security groups
# ---------------------------------------------------------------------------------------------


def sg_rules(kind):
    return {n: b for (t, n), b in MODULE.resources.items() if t == f"aws_vpc_security_group_{kind}_rule"}


@test
def test_task_ingress_only_devices_and_nlb_health_checks():
    rules = {n: b for n, b in sg_rules("ingress").items() if b["security_group_id"] == "${aws_security_group.task.id}"}
    assert set(rules) == {"task_from_devices", "task_health_checks"}, set(rules)
    devices = rules["task_from_devices"]
    assert devices["for_each"] == "${local.input_ingress}"
    assert devices["from_port"] == devices["to_port"] == "${each.value.container_port}"
    assert devices["cidr_ipv4"] == "${each.value.cidr}"
    assert "var.device_cidrs" in MODULE.locals["input_ingress"]
    hc = rules["task_health_checks"]
    assert hc["from_port"] == hc["to_port"] == "${var.api_port}" and hc["ip_protocol"] == "tcp"
    assert hc["referenced_security_group_id"] == "${aws_security_group.nlb.id}"


@test
def test_nlb_ingress_only_devices_on_listener_ports():
    rules = {n: b for n, b in sg_rules("ingress").items() if b["security_group_id"] == "${aws_security_group.nlb.id}"}
    assert set(rules) == {"nlb_from_devices"}, set(rules)
    r = rules["nlb_from_devices"]
    assert r["from_port"] == r["to_port"] == "${each.value.listener_port}" and r["cidr_ipv4"] == "${each.value.cidr}"
    egress = {n: b for n, b in sg_rules("egress").items() if b["security_group_id"] == "${aws_security_group.nlb.id}"}
    for b in egress.values():
        assert b["referenced_security_group_id"] == "${aws_security_group.task.id}", "NLB egress only to the tasks"


@test
def test_task_egress_only_what_nocbox_needs():
    egress = {n: b for n, b in sg_rules("egress").items() if b["security_group_id"] == "${aws_security_group.task.id}"}
    assert set(egress) == {"task_https", "task_https_prefix_lists", "task_ntp_upstream", "task_snmp", "task_ping",
                           "task_tcp_checks"}, set(egress)
    https = egress["task_https"]
    assert (https["ip_protocol"], https["from_port"], https["to_port"]) == ("tcp", 443, 443)
    assert MODULE.default("egress_https_cidrs") == ["0.0.0.0/0"]
    ntp = egress["task_ntp_upstream"]
    assert (ntp["ip_protocol"], ntp["from_port"], ntp["to_port"]) == ("udp", 123, 123)
    assert MODULE.default("ntp_upstream_cidrs") == ["169.254.169.123/32"]
    snmp = egress["task_snmp"]
    assert snmp["ip_protocol"] == "udp" and "var.device_cidrs" in snmp["for_each"] and "var.snmp_ports" in snmp["for_each"]
    assert MODULE.default("snmp_ports") == [161]
    assert "var.device_cidrs" in egress["task_ping"]["for_each"] and egress["task_ping"]["ip_protocol"] == "icmp"
    assert "var.device_cidrs" in egress["task_tcp_checks"]["for_each"]


@test
def test_security_group_rules_described_never_all_protocols():
    for kind in ("ingress", "egress"):
        for name, b in sg_rules(kind).items():
            assert b.get("description"), f"{kind} rule {name} has no description"
            assert b["ip_protocol"] not in ("-1", "all"), f"{kind} rule {name} allows every protocol"
            assert b.get("cidr_ipv4") != "0.0.0.0/0", f"{kind} rule {name} hard-codes 0.0.0.0/0"
    for name in ("nlb", "task"):
        sg = MODULE.resource("aws_security_group", name)
        assert sg["description"] and "ingress" not in sg and "egress" not in sg


@test
def test_variables_validate_cidrs():
    for var in ("device_cidrs", "egress_https_cidrs", "ntp_upstream_cidrs"):
        assert any("cidrnetmask" in v["condition"] for v in MODULE.variables[var]["validation"]), var
    assert "default" not in MODULE.variables["device_cidrs"]


# ---------------------------------------------------------------------------------------------
# IAM and logs
# ---------------------------------------------------------------------------------------------


@test
def test_execution_role_least_privilege():
    doc = MODULE.data[("aws_iam_policy_document", "execution")]
    statements = list(doc.get("statement", []))
    statements += [d["statement"]["content"][0] for d in doc.get("dynamic", []) if "statement" in d]
    by_sid = {s["sid"]: s for s in statements}
    for s in statements:
        if s["resources"] == ["*"]:
            assert s["actions"] == ["ecr:GetAuthorizationToken"], f"{s['sid']} uses * for {s['actions']}"
        for action in s["actions"]:
            assert "*" not in action, f"wildcard action {action}"
    assert by_sid["ReadSecrets"]["actions"] == ["secretsmanager:GetSecretValue"]
    assert by_sid["ReadSecrets"]["resources"] == "${local.secret_manager_arns}"
    assert by_sid["ReadParameters"]["actions"] == ["ssm:GetParameters"]
    assert by_sid["ReadParameters"]["resources"] == "${local.ssm_parameter_arns}"
    assert by_sid["DecryptSecrets"]["resources"] == "${var.secrets_kms_key_arns}"
    assert by_sid["EcrPullImage"]["resources"] == "${local.ecr_repository_arns}"
    assert by_sid["WriteContainerLogs"]["resources"] == ["${aws_cloudwatch_log_group.this.arn}:*"]
    assert "values(var.secrets)" in MODULE.locals["secret_manager_arns"]


@test
def test_task_role_has_no_permissions_by_default():
    assert not [n for (t, n), b in MODULE.resources.items() if t == "aws_iam_role_policy" and "task" in b["role"]]
    att = MODULE.resource("aws_iam_role_policy_attachment", "task")
    assert att["for_each"] == "${toset(var.task_role_policy_arns)}" and MODULE.default("task_role_policy_arns") == []
    assert MODULE.resource("aws_iam_role", "task")["assume_role_policy"] != MODULE.resource("aws_iam_role", "execution")["assume_role_policy"]


@test
def test_log_group_retention_and_optional_kms():
    lg = MODULE.resource("aws_cloudwatch_log_group", "this")
    assert lg["retention_in_days"] == "${var.log_retention_days}"
    assert MODULE.default("log_retention_days") == 30
    assert lg["kms_key_id"] == "${var.log_kms_key_arn}" and MODULE.default("log_kms_key_arn") is None


# ---------------------------------------------------------------------------------------------
# Conventions, references, example, skips
# ---------------------------------------------------------------------------------------------


@test
def test_versions():
    tf = MODULE.terraform[0]
    assert tf["required_version"] == ">= 1.3"
    aws = tf["required_providers"][0]["aws"]
    assert aws["source"] == "hashicorp/aws" and aws["version"] == ">= 5.0"


@test
def test_every_variable_and_output_documented_and_typed():
    for name, body in MODULE.variables.items():
        assert body.get("description"), f"variable {name} has no description"
        assert body.get("type"), f"variable {name} has no type"
    for name, body in list(MODULE.outputs.items()) + list(EXAMPLE.outputs.items()):
        assert body.get("description"), f"output {name} has no description"


@test
def test_every_reference_is_declared():
    text = strip_comments("\n".join(MODULE.text.values()))
    for var in set(re.findall(r"\bvar\.([A-Za-z_][\w-]*)", text)):
        assert var in MODULE.variables, f"var.{var} used but not declared"
    for local in set(re.findall(r"\blocal\.([A-Za-z_]\w*)", text)):
        assert local in MODULE.locals, f"local.{local} used but not defined"
    for dtype, name in set(re.findall(r"\bdata\.(aws_\w+)\.(\w+)", text)):
        assert (dtype, name) in MODULE.data, f"data.{dtype}.{name} used but not defined"
    for rtype, name in set(re.findall(r"(?<![.\w])(aws_\w+)\.(\w+)", text)):
        assert (rtype, name) in MODULE.resources, f"{rtype}.{name} used but not defined"
    unused = set(MODULE.variables) - set(re.findall(r"\bvar\.([A-Za-z_][\w-]*)", text))
    assert not unused, f"variables declared but never used: {sorted(unused)}"


@test
def test_example_calls_module_with_declared_inputs():
    mod = EXAMPLE.modules["nocbox"]
    assert mod["source"] == "../../"
    args = {k for k in mod if k not in ("source", "version", "providers", "depends_on") and not k.startswith("__")}
    undeclared = args - set(MODULE.variables)
    assert not undeclared, f"example passes undeclared inputs {sorted(undeclared)}"
    required = {n for n, b in MODULE.variables.items() if "default" not in b}
    assert required <= args, f"example misses required inputs {sorted(required - args)}"
    mappings = EXAMPLE.resolve(mod["subnet_mappings"])
    assert len(mappings) == 2 and all(m["private_ipv4_address"] for m in mappings)
    assert EXAMPLE.resolve(mod["device_cidrs"])
    assert ".dkr.ecr." in mod["image"]
    for arn in mod["secrets"].values():
        assert arn.startswith("arn:aws:secretsmanager:") or arn.startswith("arn:aws:ssm:")
    assert EXAMPLE.terraform[0]["required_version"] == ">= 1.3"


@test
def test_checkov_skips_have_reasons():
    texts = list(MODULE.text.values()) + list(EXAMPLE.text.values())
    skips = [m for t in texts for m in re.findall(r"checkov:skip=([^\n]*)", t)]
    assert skips, "expected the documented skips"
    for skip in skips:
        m = re.fullmatch(r"(CKV2?_[A-Z]+_\d+):(.+)", skip.strip())
        assert m and len(m.group(2).strip()) >= 40, f"checkov skip without a written reason: {skip}"
    assert sorted(re.match(r"(CKV2?_[A-Z]+_\d+)", s).group(1) for s in skips) == ["CKV_AWS_158", "CKV_AWS_338", "CKV_AWS_91"]


@test
def test_tftest_uses_mock_provider():
    paths = glob.glob(os.path.join(MODULE_DIR, "tests", "*.tftest.hcl"))
    assert paths, "no .tftest.hcl files"
    runs = 0
    for path in paths:
        doc = load(path)
        assert any("aws" in m for m in doc.get("mock_provider", [])), f"{path}: no mock_provider \"aws\""
        runs += sum(len(r) for r in doc.get("run", []))
    assert runs >= 4, runs


@test
def test_readme_reference_matches_code():
    sys.dont_write_bytecode = True  # keep terraform/tests free of __pycache__
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import tfdocs

    text, start, end = tfdocs.readme_section()
    assert text[start:end].strip() == tfdocs.render().strip(), (
        "terraform/README.md is out of date: run terraform/tests/tfdocs.py --write"
    )


def main():
    passed = failed = 0
    for fn in TESTS:
        try:
            fn()
        except Exception as e:  # noqa: BLE001 - report every failure, keep going
            failed += 1
            # a bare assert has no message: show where it failed
            detail = str(e) if str(e) else traceback.format_exc(limit=-1).strip()
            print(f"FAIL {fn.__name__}: {type(e).__name__}: {detail}")
        else:
            passed += 1
            print(f"ok   {fn.__name__}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
