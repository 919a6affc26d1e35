package io.seldon.serve;

import io.seldon.protos.PredictionProtos.Feedback;
import io.seldon.protos.PredictionProtos.Meta;
import io.seldon.protos.PredictionProtos.SeldonMessage;
import io.seldon.protos.PredictionProtos.SeldonMessageList;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The Seldon verbs over one model object, on protobuf messages. REST and gRPC both call in
 * here, so a verb behaves the same whichever way it was asked. What the model's class overrides
 * is looked up once; a request only calls what is there.
 *
 * <p>Every verb is served whatever SERVICE_TYPE says: Seldon's operator never tells a container
 * its role in the graph, and an image built as one type is deployed as another. A verb the class
 * lacks answers as Seldon's wrapper does: predict an empty result, the transforms the identity,
 * feedback an empty answer, route and aggregate a 400.
 */
final class Microservice implements ServedModel {
  /** Seldon's image for a unit whose PREDICTIVE_UNIT_IMAGE is not set. */
  static final String NO_IMAGE = "NOT_IMPLEMENTED:NOT_IMPLEMENTED";

  /** Seldon's answer ([]) where the model has no answer of its own: predict or feedback it lacks. */
  private static final Payload NOTHING = Payload.of(new double[0]);

  private final PredictionService model;
  private final String modelName;
  private final String serviceType;
  /** The verb an Open Inference request calls (the contract's, by service type), or null. */
  private final String inferVerb;
  private final String unitId;
  private final Map<String, String> unitPath;
  private final PrometheusMetrics metrics;
  private final Overrides overrides;
  private final Map<String, Object> metadata;
  private final String openInferenceName;

  /**
   * `env` names the unit as Seldon's operator does: PREDICTIVE_UNIT_ID (routing of feedback, and
   * with PREDICTIVE_UNIT_IMAGE the answers' meta.requestPath; with MLSERVER_MODEL_NAME its v2 name).
   */
  Microservice(PredictionService model, String serviceType, Map<String, String> env, PrometheusMetrics metrics)
      throws StartupException {
    this.model = model;
    this.modelName = model.getClass().getSimpleName();
    this.serviceType = serviceType;
    this.inferVerb = Contract.inferVerb(serviceType);
    this.unitId = env.getOrDefault("PREDICTIVE_UNIT_ID", "");
    this.unitPath = unitId.isEmpty() ? Map.of() : Map.of(unitId, env.getOrDefault("PREDICTIVE_UNIT_IMAGE", NO_IMAGE));
    this.metrics = metrics;
    this.overrides = new Overrides(model.getClass());
    Map<String, ?> initMetadata;
    try {
      initMetadata = model.initMetadata();
    } catch (RuntimeException e) {
      throw new StartupException(modelName + ".initMetadata() failed: " + UserCode.describe(e));
    }
    this.metadata = ModelMetadata.merge(modelName, initMetadata);
    this.openInferenceName = ModelMetadata.openInferenceName(initMetadata, modelName, env);
  }

  @Override
  public Map<String, Object> metadata() {
    return metadata;
  }

  @Override
  public String openInferenceName() {
    return openInferenceName;
  }

  String unitId() {
    return unitId;
  }

  // ---- the verbs (each call of the model a span of its own when tracing is on) ------------

  SeldonMessage predict(SeldonMessage request) {
    return Tracing.model("predict", unitId, () -> predictNow(request));
  }

  private SeldonMessage predictNow(SeldonMessage request) {
    if (overrides.predictRaw) {
      return UserCode.call(() -> model.predictRaw(request));
    }
    Payload input = Messages.decode(request);
    Payload result = overrides.predict ? UserCode.call(() -> model.predict(input)) : NOTHING;
    return respond(result, input, input.meta().proto());
  }

  SeldonMessage transformInput(SeldonMessage request) {
    return Tracing.model("transform_input", unitId, () -> transformInputNow(request));
  }

  private SeldonMessage transformInputNow(SeldonMessage request) {
    return transform(overrides.transformInputRaw, request, model::transformInputRaw, model::transformInput);
  }

  SeldonMessage transformOutput(SeldonMessage request) {
    return Tracing.model("transform_output", unitId, () -> transformOutputNow(request));
  }

  private SeldonMessage transformOutputNow(SeldonMessage request) {
    return transform(overrides.transformOutputRaw, request, model::transformOutputRaw, model::transformOutput);
  }

  /** A model method taking one argument, as UserCode calls it. */
  private interface Method<I, O> {
    O apply(I input) throws Exception;
  }

  private SeldonMessage transform(boolean useRaw, SeldonMessage request, Method<SeldonMessage, SeldonMessage> raw,
      Method<Payload, Payload> method) {
    if (useRaw) {
      return UserCode.call(() -> raw.apply(request));
    }
    Payload input = Messages.decode(request);
    return respond(UserCode.call(() -> method.apply(input)), input, input.meta().proto());
  }

  SeldonMessage route(SeldonMessage request) {
    return Tracing.model("route", unitId, () -> routeNow(request));
  }

  private SeldonMessage routeNow(SeldonMessage request) {
    if (overrides.routeRaw) {
      return UserCode.call(() -> model.routeRaw(request));
    }
    if (!overrides.route) {
      throw notDefined("route");
    }
    Payload input = Messages.decode(request);
    Payload branch = UserCode.call(() -> model.route(input));
    // Seldon builds a route's answer with meta=None: of the request's meta only the puid is kept.
    return respond(Payload.branch(branchIndex(branch)), input, puidOnly(request.getMeta()));
  }

  private static int branchIndex(Payload branch) {
    String got;
    if (branch == null) {
      got = "null";
    } else if (branch.kind().isData() && branch.isNumeric()) {
      double[] values = branch.values();
      if (values.length == 1 && values[0] == Math.rint(values[0]) && Math.abs(values[0]) < Integer.MAX_VALUE) {
        return (int) values[0];
      }
      got = "numbers of shape " + java.util.Arrays.toString(branch.shape());
    } else if (branch.kind() == Payload.Kind.STRING) {
      got = "strData: '" + branch.string() + "'";
    } else {
      got = Payload.describe(branch.kind());
    }
    throw SeldonException.internal(
        "route() must return an int (the child to route to) as Payload.branch(n), not " + got);
  }

  SeldonMessage aggregate(SeldonMessageList requests) {
    return Tracing.model("aggregate", unitId, () -> aggregateNow(requests));
  }

  private SeldonMessage aggregateNow(SeldonMessageList requests) {
    if (requests.getSeldonMessagesCount() == 0) {
      throw SeldonException.badData(
          "aggregate needs {\"seldonMessages\": [...]} or a non-empty list of SeldonMessages");
    }
    if (overrides.aggregateRaw) {
      return UserCode.call(() -> model.aggregateRaw(requests));
    }
    if (!overrides.aggregate) {
      throw notDefined("aggregate");
    }
    List<Payload> inputs = new ArrayList<>();
    // Seldon's merge: the first message's puid, every message's tags, requestPath and metrics.
    Meta.Builder merged = Meta.newBuilder().setPuid(requests.getSeldonMessages(0).getMeta().getPuid());
    for (SeldonMessage message : requests.getSeldonMessagesList()) {
      inputs.add(Messages.decode(message));
      merged.putAllTags(message.getMeta().getTagsMap())
          .putAllRequestPath(message.getMeta().getRequestPathMap())
          .addAllMetrics(message.getMeta().getMetricsList());
    }
    Payload result = UserCode.call(() -> model.aggregate(List.copyOf(inputs)));
    return respond(result, inputs.get(0), merged.build());
  }

  SeldonMessage sendFeedback(Feedback feedback) {
    return Tracing.model("send_feedback", unitId, () -> sendFeedbackNow(feedback));
  }

  private SeldonMessage sendFeedbackNow(Feedback feedback) {
    float reward = feedback.getReward();
    if (!(reward >= 0 && reward < Float.POSITIVE_INFINITY)) { // NaN too
      // It adds to the Prometheus counter seldon_api_model_feedback_reward, which cannot go down.
      throw SeldonException.badData("feedback reward must be a finite number >= 0, not " + reward);
    }
    if (metrics != null) {
      metrics.recordFeedback(feedback.getReward());
    }
    if (overrides.sendFeedbackRaw) {
      return UserCode.call(() -> model.sendFeedbackRaw(feedback));
    }
    SeldonMessage requestMessage = feedback.getRequest();
    Payload request = requestMessage.getDataOneofCase() != SeldonMessage.DataOneofCase.DATAONEOF_NOT_SET
        ? Messages.decode(requestMessage)
        : Payload.ndarray(List.of());
    // Seldon's executor sends feedback to every unit of a graph: without a handler it is counted, not refused.
    Payload result = NOTHING;
    if (overrides.sendFeedback) {
      Payload truth = feedback.hasTruth() ? Messages.decode(feedback.getTruth()) : null;
      Integer branch = feedback.getResponse().getMeta().getRoutingMap().get(unitId);
      Payload answer = UserCode.call(() -> model.sendFeedback(request, reward, truth, branch));
      result = answer == null ? NOTHING : answer;
    }
    // As for route, Seldon carries only the request's puid into a feedback answer.
    return respond(result, request, puidOnly(requestMessage.getMeta()));
  }

  /**
   * The Open Inference Protocol's call (io.seldon.serve.v2): the unit's one-message verb on a v2
   * request's payload, answering what the model returned.
   */
  @Override
  public Payload infer(Payload input) {
    if (inferVerb == null) {
      throw SeldonException.notServed("a " + serviceType
          + " aggregates several messages; an Open Inference Protocol request is one", 400);
    }
    return Tracing.model("infer", unitId, () -> inferNow(inferVerb, input));
  }

  @Override
  public Payload route(Payload input) {
    return Tracing.model("route", unitId, () -> inferNow("route", input));
  }

  @Override
  public Payload aggregate(List<Payload> inputs) {
    return Tracing.model("aggregate", unitId, () -> aggregateNow(inputs));
  }

  private Payload aggregateNow(List<Payload> inputs) {
    Payload result;
    if (overrides.aggregateRaw) {
      SeldonMessageList.Builder messages = SeldonMessageList.newBuilder();
      inputs.forEach(input -> messages.addSeldonMessages(Messages.encode(asSeldon(input), null, input.names(), null)));
      result = Messages.decode(UserCode.call(() -> model.aggregateRaw(messages.build())));
    } else if (overrides.aggregate) {
      result = UserCode.call(() -> model.aggregate(List.copyOf(inputs)));
    } else {
      throw notDefined("aggregate");
    }
    return answered(result);
  }

  private Payload inferNow(String verb, Payload input) {
    Payload result = switch (verb) {
      case "predict" -> overrides.predict || overrides.predictRaw
          ? inferWith(overrides.predictRaw, model::predictRaw, model::predict, input)
          : NOTHING;
      case "transformInput" -> inferWith(overrides.transformInputRaw, model::transformInputRaw,
          model::transformInput, input);
      case "transformOutput" -> inferWith(overrides.transformOutputRaw, model::transformOutputRaw,
          model::transformOutput, input);
      case "route" -> {
        if (overrides.routeRaw) {
          yield inferWith(true, model::routeRaw, null, input);
        }
        if (!overrides.route) {
          throw notDefined("route");
        }
        int branch = branchIndex(UserCode.call(() -> model.route(input)));
        yield Payload.of(TypedTensor.of(TypedTensor.Datatype.INT64, new long[] {1, 1}, new long[] {branch}));
      }
      // A verb the contract names that takes one message but this switch lacks: a wrapper bug.
      default -> throw new IllegalStateException("no Open Inference call for the verb " + verb);
    };
    return answered(result);
  }

  /** What the model answered a v2 call, its own metrics recorded. */
  private Payload answered(Payload result) {
    if (result == null) {
      throw SeldonException.internal(modelName + " returned null; return a Payload");
    }
    List<Metric> userMetrics = UserCode.call(model::metrics);
    if (userMetrics != null && !userMetrics.isEmpty() && metrics != null) {
      metrics.recordUser(userMetrics);
    }
    return result;
  }

  private Payload inferWith(boolean useRaw, Method<SeldonMessage, SeldonMessage> raw,
      Method<Payload, Payload> method, Payload input) {
    if (useRaw) {
      SeldonMessage request = Messages.encode(asSeldon(input), null, input.names(), null);
      return Messages.decode(UserCode.call(() -> raw.apply(request)));
    }
    return UserCode.call(() -> method.apply(input));
  }

  /** A v2 payload as a model taking SeldonMessages sees it: data.tensor, or strData for one string. */
  private static Payload asSeldon(Payload input) {
    if (input.isNumeric()) {
      return Payload.tensor(input.shape(), input.values());
    }
    String[] strings = input.tensor().strings();
    if (strings.length != 1) {
      throw SeldonException.badData("a model taking SeldonMessages gets numbers or one string, not "
          + input.tensor());
    }
    return Payload.string(strings[0]);
  }

  /** Whether healthStatus answers (the Open Inference Protocol's readiness). */
  @Override
  public boolean ready() {
    try {
      healthStatus();
      return true;
    } catch (SeldonException e) {
      return false;
    }
  }

  /** The model's own health answer, or null when it has none. */
  SeldonMessage healthStatus() {
    if (!overrides.healthStatus) {
      return null;
    }
    Payload status = UserCode.call(model::healthStatus);
    // Seldon encodes it as the answer to a request without data: numbers as a tensor.
    return status == null ? null : Messages.encode(status, Payload.string(""), null, null);
  }

  // ---- shared steps ----------------------------------------------------------------------

  /**
   * Seldon's answer to route or aggregate on a class without it: a 400 (its SeldonNotImplementedError
   * is bad data), "Route not defined" as Seldon words it, then which methods would serve it.
   */
  private SeldonException notDefined(String verb) {
    return SeldonException.badData(Character.toUpperCase(verb.charAt(0)) + verb.substring(1) + " not defined: "
        + modelName + " overrides neither " + verb + " nor " + verb + "Raw");
  }

  /** The meta Seldon carries where it passes no meta of the request's: the puid alone. */
  private static Meta puidOnly(Meta meta) {
    return meta.getPuid().isEmpty() ? Meta.getDefaultInstance() : Meta.newBuilder().setPuid(meta.getPuid()).build();
  }

  /** The answer to `request`: `carried` is the part of the request's meta the answer keeps. */
  private SeldonMessage respond(Payload result, Payload request, Meta carried) {
    if (result == null) {
      throw SeldonException.internal(modelName + " returned null; return a Payload");
    }
    List<String> classNames = UserCode.call(model::classNames);
    Map<String, ?> tags = UserCode.call(model::tags);
    List<Metric> userMetrics = UserCode.call(model::metrics);
    if (userMetrics != null && !userMetrics.isEmpty() && metrics != null) {
      metrics.recordUser(userMetrics);
    }
    return Messages.encode(result, request, classNames, Messages.responseMeta(carried, unitPath, tags, userMetrics));
  }

  /** Which methods the model's class overrides, looked up once; Check asks it too. */
  static final class Overrides {
    final boolean predict;
    final boolean predictRaw;
    final boolean transformInputRaw;
    final boolean transformOutputRaw;
    final boolean route;
    final boolean routeRaw;
    final boolean aggregate;
    final boolean aggregateRaw;
    final boolean sendFeedback;
    final boolean sendFeedbackRaw;
    final boolean healthStatus;
    private final Class<?> cls;

    Overrides(Class<?> cls) {
      this.cls = cls;
      predict = overrides(cls, "predict", Payload.class);
      predictRaw = overrides(cls, "predictRaw", SeldonMessage.class);
      transformInputRaw = overrides(cls, "transformInputRaw", SeldonMessage.class);
      transformOutputRaw = overrides(cls, "transformOutputRaw", SeldonMessage.class);
      route = overrides(cls, "route", Payload.class);
      routeRaw = overrides(cls, "routeRaw", SeldonMessage.class);
      aggregate = overrides(cls, "aggregate", List.class);
      aggregateRaw = overrides(cls, "aggregateRaw", SeldonMessageList.class);
      sendFeedback = overrides(cls, "sendFeedback", Payload.class, double.class, Payload.class, Integer.class);
      sendFeedbackRaw = overrides(cls, "sendFeedbackRaw", Feedback.class);
      healthStatus = overrides(cls, "healthStatus");
    }

    /**
     * The methods a service type cannot do without ("predict or predictRaw") when the class
     * overrides neither, or null: the contract names the verb a type requires (a transformer
     * none, it defaults to the identity).
     */
    String missing(String serviceType) {
      String verb = Contract.requiredVerb(serviceType);
      if (verb == null || overridesAny(cls, verb) || overridesAny(cls, verb + "Raw")) {
        return null;
      }
      return verb + " or " + verb + "Raw";
    }
  }

  /** Whether cls overrides any of PredictionService's methods of this name. */
  static boolean overridesAny(Class<?> cls, String name) {
    for (java.lang.reflect.Method method : PredictionService.class.getMethods()) {
      if (method.getName().equals(name) && overrides(cls, name, method.getParameterTypes())) {
        return true;
      }
    }
    return false;
  }

  static boolean overrides(Class<?> cls, String name, Class<?>... parameters) {
    try {
      return cls.getMethod(name, parameters).getDeclaringClass() != PredictionService.class;
    } catch (NoSuchMethodException e) {
      return false;
    }
  }
}
