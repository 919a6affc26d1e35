package io.seldon.serve;

import java.io.File;
import java.io.IOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;

/**
 * MODEL_NAME to a running model: find the class (a full name, or a simple name found in the
 * application's own jars), construct it with its Parameters, and call load().
 */
final class ModelLoader {
  private ModelLoader() {}

  static Class<? extends PredictionService> find(String modelName) throws StartupException {
    Class<?> cls = forName(modelName);
    if (cls == null && !modelName.contains(".")) {
      List<String> matches = simpleNameMatches(modelName);
      if (matches.size() > 1) {
        throw new StartupException("MODEL_NAME=" + modelName + " matches " + String.join(", ", matches)
            + ": give the full class name");
      }
      cls = matches.isEmpty() ? null : forName(matches.get(0));
    }
    if (cls == null) {
      throw new StartupException("MODEL_NAME=" + modelName + ": no such class in the application ("
          + String.join(", ", applicationJars()) + ")");
    }
    if (!PredictionService.class.isAssignableFrom(cls)) {
      throw new StartupException(cls.getName() + " does not implement io.seldon.serve.PredictionService");
    }
    return cls.asSubclass(PredictionService.class);
  }

  static PredictionService construct(Class<? extends PredictionService> cls, Parameters parameters)
      throws StartupException {
    String name = cls.getSimpleName();
    try {
      Constructor<? extends PredictionService> withParameters = constructor(cls, Parameters.class);
      if (withParameters != null) {
        return withParameters.newInstance(parameters);
      }
      Constructor<? extends PredictionService> plain = constructor(cls);
      if (plain == null) {
        throw new StartupException(name + " needs a public constructor taking Parameters, or one taking nothing");
      }
      if (!parameters.asMap().isEmpty()) {
        throw new StartupException(name + " has no constructor taking Parameters, but PREDICTIVE_UNIT_PARAMETERS"
            + " sets " + String.join(", ", parameters.asMap().keySet()));
      }
      return plain.newInstance();
    } catch (InvocationTargetException e) {
      throw new StartupException(name + "(parameters) failed: " + UserCode.describe(e.getCause()));
    } catch (ReflectiveOperationException e) {
      throw new StartupException(name + " cannot be constructed: " + UserCode.describe(e));
    }
  }

  /**
   * MODEL_LOAD_TIMEOUT_SECONDS: a load (constructor and load()) still running `seconds` after the
   * deadline was made ends the JVM with one line and status 2, as a failed start does; closed once
   * the model is loaded. 0 sets no limit.
   */
  static final class LoadDeadline implements AutoCloseable {
    private final Thread watchdog;

    LoadDeadline(long seconds, String what) {
      watchdog = seconds <= 0 ? null : new Thread(() -> {
        try {
          Thread.sleep(seconds * 1000);
        } catch (InterruptedException e) {
          return; // loaded in time
        }
        Log.error("cannot start: " + what + " did not finish within " + seconds + " s (MODEL_LOAD_TIMEOUT_SECONDS)");
        Runtime.getRuntime().halt(2);
      }, "load-deadline");
      if (watchdog != null) {
        watchdog.setDaemon(true);
        watchdog.start();
      }
    }

    @Override
    public void close() {
      if (watchdog != null) {
        watchdog.interrupt();
      }
    }
  }

  static void load(PredictionService model) throws StartupException {
    try {
      model.load();
    } catch (Exception | LinkageError e) {
      Log.debug(Log.stackTrace(e));
      throw new StartupException(model.getClass().getSimpleName() + ".load() failed: " + UserCode.describe(e));
    }
  }

  private static Constructor<? extends PredictionService> constructor(
      Class<? extends PredictionService> cls, Class<?>... parameters) {
    try {
      return cls.getConstructor(parameters);
    } catch (NoSuchMethodException e) {
      return null;
    }
  }

  private static Class<?> forName(String name) throws StartupException {
    try {
      return Class.forName(name, false, ModelLoader.class.getClassLoader());
    } catch (ClassNotFoundException e) {
      return null;
    } catch (LinkageError e) {
      throw new StartupException(name + " cannot be loaded: " + UserCode.describe(e));
    }
  }

  /** The jars on the class path that are the application's, not Maven's repository. */
  static List<String> applicationJars() {
    List<String> jars = new ArrayList<>();
    for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
      if (entry.endsWith(".jar") && !entry.contains("/.m2/") && !entry.contains("/seldon-serve")) {
        jars.add(entry);
      }
    }
    return jars;
  }

  private static List<String> simpleNameMatches(String simpleName) {
    List<String> matches = new ArrayList<>();
    for (String jar : applicationJars()) {
      try (JarFile file = new JarFile(jar)) {
        Enumeration<JarEntry> entries = file.entries();
        while (entries.hasMoreElements()) {
          String entry = entries.nextElement().getName();
          if (entry.equals(simpleName + ".class") || entry.endsWith("/" + simpleName + ".class")) {
            matches.add(entry.substring(0, entry.length() - ".class".length()).replace('/', '.'));
          }
        }
      } catch (IOException e) {
        Log.warning("cannot read " + jar + ": " + e.getMessage());
      }
    }
    return matches;
  }
}
