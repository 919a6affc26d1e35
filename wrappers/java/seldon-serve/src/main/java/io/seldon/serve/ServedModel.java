package io.seldon.serve;

import java.util.List;
import java.util.Map;

/**
 * The model as a protocol besides Seldon's serves it (the Open Inference Protocol,
 * {@code io.seldon.serve.v2}): its metadata, its health, and one payload in, one out. The
 * wrapper's Microservice is the one implementation; Main hands it to the protocol. Public for
 * that package, not for models.
 */
public interface ServedModel {
  /** The model's metadata (name, versions, platform, inputs, outputs), as /metadata answers it. */
  Map<String, Object> metadata();

  /** The name /v2/models/&lt;name&gt; serves it by (ModelMetadata.openInferenceName). */
  String openInferenceName();

  /** Whether the model's own health check passes (a model without one is healthy). */
  boolean ready();

  /** The unit's one-message verb on a payload: what the model answered. */
  Payload infer(Payload input);

  /** The model's route on a payload (Seldon's executor routes a v2 graph so): the child, as [[n]]. */
  Payload route(Payload input);

  /** The model's aggregate of several payloads (a combiner's children's answers in a v2 graph). */
  Payload aggregate(List<Payload> inputs);
}
