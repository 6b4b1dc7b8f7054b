# Refuse a plan in which a security group admits SSH (TCP 22, or every protocol) from
# anywhere on the internet (0.0.0.0/0 or ::/0): inline `ingress` blocks of
# aws_security_group, aws_security_group_rule of type ingress, and
# aws_vpc_security_group_ingress_rule (girder's rules). Reach instances through SSM
# Session Manager instead.
package terraform.policies.no_public_ssh

import rego.v1

open_cidrs := {"0.0.0.0/0", "::/0"}

# Created, updated or replaced: the resource exists after the apply.
kept(rc) if rc.change.after != null

ingress_rules contains [rc.address, rule] if {
	some rc in input.plan.resource_changes
	rc.type == "aws_security_group"
	kept(rc)
	is_array(rc.change.after.ingress)
	some rule in rc.change.after.ingress
}

ingress_rules contains [rc.address, rc.change.after] if {
	some rc in input.plan.resource_changes
	rc.type == "aws_security_group_rule"
	kept(rc)
	rc.change.after.type == "ingress"
}

ingress_rules contains [rc.address, rc.change.after] if {
	some rc in input.plan.resource_changes
	rc.type == "aws_vpc_security_group_ingress_rule"
	kept(rc)
}

protocol(rule) := lower(sprintf("%v", [object.get(rule, "ip_protocol", object.get(rule, "protocol", ""))]))

covers_ssh(rule) if protocol(rule) in {"-1", "all"}

covers_ssh(rule) if {
	protocol(rule) in {"tcp", "6"}
	rule.from_port <= 22
	rule.to_port >= 22
}

open_sources(rule) := {cidr |
	some key in ["cidr_blocks", "ipv6_cidr_blocks"]
	cidrs := object.get(rule, key, [])
	is_array(cidrs)
	some cidr in cidrs
	cidr in open_cidrs
} | {cidr |
	some key in ["cidr_ipv4", "cidr_ipv6"]
	cidr := object.get(rule, key, "")
	cidr in open_cidrs
}

deny contains msg if {
	some pair in ingress_rules
	[address, rule] := pair
	covers_ssh(rule)
	some cidr in open_sources(rule)
	msg := sprintf("%s admits SSH (port 22) from %s: use SSM Session Manager", [address, cidr])
}
