# Quarantine packages with a file whose content (not its name) is a format that
# can run code when loaded (pickle, PyTorch checkpoints, joblib, Keras Lambda
# layers, ...), and packages weightwall could not fully scan or found unsafe.
#
# Reads weightwall's own section of the input, input.v0.weightwall.files[]:
#   {"path", "format", "code_capable", "verdict": "clean"|"unsafe"|"error",
#    "max_severity", "findings": [{"severity", "module", "name", ...}]}
# A package without that section is refused: no scan, no entry.
package cloudsmith

import rego.v1

default match := false

files := input.v0.weightwall.files

code_capable contains f.path if {
	some f in files
	f.code_capable == true
}

unsafe contains f.path if {
	some f in files
	f.verdict == "unsafe"
}

unscanned contains f.path if {
	some f in files
	not f.verdict in {"clean", "unsafe"}
}

match if count(code_capable) > 0

match if count(unsafe) > 0

match if count(unscanned) > 0

match if not files

reason contains msg if {
	some f in files
	f.code_capable == true
	msg := sprintf("%s: %s content can run code when loaded", [f.path, f.format])
}

reason contains msg if {
	some f in files
	f.verdict == "unsafe"
	some finding in f.findings
	finding.severity != "NONE"
	msg := sprintf("%s: %s finding %s.%s", [f.path, finding.severity, finding.module, finding.name])
}

reason contains msg if {
	some path in unscanned
	msg := sprintf("%s: could not be fully scanned", [path])
}

reason contains "no weightwall scan results in the input" if not files
