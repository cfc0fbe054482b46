# Quarantine Hugging Face packages whose publisher is not trusted.
#
# The publisher is the organisation in the repo id "org/model". Trusted
# organisations come from data: {"weightwall": {"trusted_publishers": ["google", ...]}}.
# Without that list nothing is trusted, and a package without a name is never
# trusted: the policy fails closed.
package cloudsmith

import rego.v1

default match := false

trusted := {org | some org in data.weightwall.trusted_publishers}

publisher := split(input.v0.package.name, "/")[0] if contains(input.v0.package.name, "/")

match if {
	input.v0.package.format == "huggingface"
	not publisher in trusted
}

reason contains msg if {
	input.v0.package.format == "huggingface"
	not publisher
	msg := "package name has no publisher (expected org/model)"
}

reason contains msg if {
	input.v0.package.format == "huggingface"
	not publisher in trusted
	msg := sprintf("publisher %q is not in data.weightwall.trusted_publishers", [publisher])
}
