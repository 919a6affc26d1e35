# Reads strData as XML and answers with the names of the root's children: a model whose
# R package (xml2) links to a shared library (libxml2) the builder image does not have.
# R_DEBIAN_PACKAGES=r-cran-xml2 brings both, prebuilt.
library(xml2)

initialise_seldon <- function(params) structure(list(), class = "xml_reader")

predict.xml_reader <- function(model, newdata) {
  if (!is.character(newdata)) seldon_error("send the XML as strData")
  document <- read_xml(newdata)
  paste(xml_name(xml_children(document)), collapse = ",")
}
