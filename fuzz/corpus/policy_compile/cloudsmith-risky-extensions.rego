package cloudsmith
import rego.v1
default match := false
pkg := input.v0.package
hf_pkg if "huggingface" == pkg.format

risky_file_extensions := {".h5", ".hdf5", ".pdparams", ".keras", ".bin", ".pkl", ".dat", ".pt", ".pth", ".ckpt", ".npy", ".joblib", ".dill", ".pb", ".gguf", ".zip",}

match if {
    hf_pkg
    some file in pkg.files
    file.file_extension in risky_file_extensions 
}
