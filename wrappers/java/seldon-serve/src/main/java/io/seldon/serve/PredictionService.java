package io.seldon.serve;

import io.seldon.protos.PredictionProtos.Feedback;
import io.seldon.protos.PredictionProtos.SeldonMessage;
import io.seldon.protos.PredictionProtos.SeldonMessageList;
import java.util.List;
import java.util.Map;

/**
 * What a model implements: the methods of its service type (SERVICE_TYPE, which the image's
 * build checks), and any of the optional hooks. Every verb is served whatever the type, since
 * Seldon may deploy a unit in another role; a method the class does not override answers as
 * Seldon's wrapper does: predict an empty result, the transforms their input, feedback an empty
 * answer, route and aggregate a 400 (bad data) error.
 *
 * <ul>
 *   <li>MODEL: {@link #predict} (or {@link #predictRaw}), optionally {@link #sendFeedback}
 *   <li>ROUTER: {@link #route}, and {@link #sendFeedback} to learn from rewards
 *   <li>TRANSFORMER: {@link #transformInput}; OUTPUT_TRANSFORMER: {@link #transformOutput}
 *   <li>COMBINER: {@link #aggregate}
 * </ul>
 *
 * <p>The class needs a public constructor taking {@link Parameters} or none. One instance serves
 * every request, from several threads at once: keep shared state thread-safe. Throw {@link
 * SeldonException} to answer with a status of your choice; any other exception answers 500.
 * The {@code *Raw} methods receive and return whole protobuf messages, as Seldon's own Java
 * wrapper did.
 */
public interface PredictionService {
  /** Called once before serving: load the model's files here. */
  default void load() throws Exception {}

  default Payload predict(Payload input) throws Exception {
    throw new UnsupportedOperationException("predict");
  }

  default SeldonMessage predictRaw(SeldonMessage request) throws Exception {
    throw new UnsupportedOperationException("predictRaw");
  }

  /** The input transformed for the next unit; the default is the identity. */
  default Payload transformInput(Payload input) throws Exception {
    return input;
  }

  default SeldonMessage transformInputRaw(SeldonMessage request) throws Exception {
    throw new UnsupportedOperationException("transformInputRaw");
  }

  /** The output transformed on its way back; the default is the identity. */
  default Payload transformOutput(Payload input) throws Exception {
    return input;
  }

  default SeldonMessage transformOutputRaw(SeldonMessage request) throws Exception {
    throw new UnsupportedOperationException("transformOutputRaw");
  }

  /** The child (0-based) to send this request to: return {@link Payload#branch(int)}. */
  default Payload route(Payload input) throws Exception {
    throw new UnsupportedOperationException("route");
  }

  default SeldonMessage routeRaw(SeldonMessage request) throws Exception {
    throw new UnsupportedOperationException("routeRaw");
  }

  /** One answer from the answers of this unit's children. */
  default Payload aggregate(List<Payload> inputs) throws Exception {
    throw new UnsupportedOperationException("aggregate");
  }

  default SeldonMessage aggregateRaw(SeldonMessageList requests) throws Exception {
    throw new UnsupportedOperationException("aggregateRaw");
  }

  /**
   * A reward for an earlier request. {@code truth} may be null; {@code routing} is the child this
   * unit chose for that request (a router's), or null.
   *
   * @return a payload to answer with, or null
   */
  default Payload sendFeedback(Payload request, double reward, Payload truth, Integer routing) throws Exception {
    return null;
  }

  default SeldonMessage sendFeedbackRaw(Feedback feedback) throws Exception {
    throw new UnsupportedOperationException("sendFeedbackRaw");
  }

  /** Column names of every answer (a classifier's classes), or null to keep the answer's own. */
  default List<String> classNames() {
    return null;
  }

  /** Tags added to every answer's meta (they win over the request's tags of the same name). */
  default Map<String, ?> tags() {
    return null;
  }

  /** Metrics reported with every answer. */
  default List<Metric> metrics() {
    return null;
  }

  /** name, versions, platform, inputs, outputs, custom; MODEL_METADATA overrides what it sets. */
  default Map<String, ?> initMetadata() {
    return null;
  }

  /** The answer of /health/status; null answers a plain success. */
  default Payload healthStatus() throws Exception {
    return null;
  }
}
