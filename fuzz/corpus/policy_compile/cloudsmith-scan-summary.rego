package cloudsmith
import rego.v1
default match := false
incomplete_or_unsafe if {
    input.v0.model_security.availability != "COMPLETE"
}
incomplete_or_unsafe if {
    input.v0.model_security.scan_summary != "SAFE"
}
match if {
    "huggingface" == input.v0.package.format
    incomplete_or_unsafe
}
