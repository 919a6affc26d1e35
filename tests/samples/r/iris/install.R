# Packages the model needs beyond R_DEBIAN_PACKAGES, installed into R_LIBS_USER. From CRAN
# this would be install.packages("name"); here, a package shipped with the source. Checking
# first lets an incremental build (s2i build --incremental) skip what it restored.
if (!requireNamespace("irisfeatures", quietly = TRUE)) {
  install.packages("pkgs/irisfeatures", repos = NULL, type = "source")
}
