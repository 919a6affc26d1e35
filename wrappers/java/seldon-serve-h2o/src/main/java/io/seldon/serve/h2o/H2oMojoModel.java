package io.seldon.serve.h2o;

import io.seldon.serve.Parameters;
import io.seldon.serve.Payload;
import io.seldon.serve.PredictionService;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Serves an H2O MOJO with no code: the no-code path of the Java image (a source folder with
 * only a MOJO zip) runs this class. The MOJO is the {@code mojo} parameter, else H2O_MOJO, else
 * the one .zip in the working directory.
 */
public class H2oMojoModel implements PredictionService {
  private final String configured;
  private H2oMojo mojo;

  public H2oMojoModel(Parameters parameters) {
    this.configured = parameters.getString("mojo", System.getenv("H2O_MOJO"));
  }

  @Override
  public void load() throws IOException {
    mojo = H2oMojo.load(configured == null || configured.isBlank() ? onlyZip(Path.of("")) : Path.of(configured));
  }

  static Path onlyZip(Path directory) throws IOException {
    List<Path> zips = new ArrayList<>();
    try (DirectoryStream<Path> found = Files.newDirectoryStream(directory.toAbsolutePath(), "*.zip")) {
      found.forEach(zips::add);
    }
    if (zips.size() != 1) {
      throw new IOException("found " + zips.size() + " .zip files in " + directory.toAbsolutePath()
          + " " + zips + ": set H2O_MOJO to the MOJO's path");
    }
    return zips.get(0);
  }

  @Override
  public Payload predict(Payload input) {
    return mojo.predict(input);
  }

  @Override
  public Map<String, ?> initMetadata() {
    return mojo.metadata();
  }
}
