package io.seldon.serve;

import io.seldon.protos.PredictionProtos.Feedback;
import io.seldon.protos.PredictionProtos.Meta;
import io.seldon.protos.PredictionProtos.SeldonMessage;
import io.seldon.protos.PredictionProtos.SeldonMessageList;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The Seldon verbs over one model object, on protobuf messages. REST and gRPC both call in
 * here, so a verb behaves the same whichever way it was asked. What the model's class overrides
 * is looked up once; a request only calls what is there.
 */
final class Microservice {
  enum Verb {
    PREDICT("predict"),
    TRANSFORM_INPUT("transform_input"),
    TRANSFORM_OUTPUT("transform_output"),
    ROUTE("route"),
    AGGREGATE("aggregate"),
    SEND_FEEDBACK("send_feedback");

    final String label;

    Verb(String label) {
      this.label = label;
    }
  }

  /** The verbs each service type answers, as Seldon's executor calls them. */
  static final Map<String, Set<Verb>> VERBS_BY_SERVICE_TYPE = Map.of(
      "MODEL", EnumSet.of(Verb.PREDICT, Verb.SEND_FEEDBACK),
      "ROUTER", EnumSet.of(Verb.ROUTE, Verb.SEND_FEEDBACK),
      "TRANSFORMER", EnumSet.of(Verb.TRANSFORM_INPUT),
      "OUTPUT_TRANSFORMER", EnumSet.of(Verb.TRANSFORM_OUTPUT),
      "COMBINER", EnumSet.of(Verb.AGGREGATE),
      "OUTLIER_DETECTOR", EnumSet.of(Verb.TRANSFORM_INPUT));

  private final PredictionService model;
  private final String modelName;
  private final String serviceType;
  private final Set<Verb> verbs;
  private final String unitId;
  private final PrometheusMetrics metrics;
  private final Overrides overrides;
  private final Map<String, Object> metadata;

  Microservice(PredictionService model, String serviceType, String unitId, PrometheusMetrics metrics)
      throws StartupException {
    this.model = model;
    this.modelName = model.getClass().getSimpleName();
    this.serviceType = serviceType;
    this.verbs = VERBS_BY_SERVICE_TYPE.get(serviceType);
    this.unitId = unitId;
    this.metrics = metrics;
    this.overrides = new Overrides(model.getClass());
    Map<String, ?> initMetadata;
    try {
      initMetadata = model.initMetadata();
    } catch (RuntimeException e) {
      throw new StartupException(modelName + ".initMetadata() failed: " + UserCode.describe(e));
    }
    this.metadata = ModelMetadata.merge(modelName, initMetadata);
  }

  Map<String, Object> metadata() {
    return metadata;
  }

  String unitId() {
    return unitId;
  }

  // ---- the verbs -------------------------------------------------------------------------

  SeldonMessage predict(SeldonMessage request) {
    require(Verb.PREDICT);
    if (overrides.predictRaw) {
      return UserCode.call(() -> model.predictRaw(request));
    }
    if (!overrides.predict) {
      throw SeldonException.notServed(modelName + " overrides neither predict nor predictRaw", 501);
    }
    Payload input = Messages.decode(request);
    return respond(UserCode.call(() -> model.predict(input)), input);
  }

  SeldonMessage transformInput(SeldonMessage request) {
    return transform(Verb.TRANSFORM_INPUT, overrides.transformInputRaw, request, model::transformInputRaw,
        model::transformInput);
  }

  SeldonMessage transformOutput(SeldonMessage request) {
    return transform(Verb.TRANSFORM_OUTPUT, overrides.transformOutputRaw, request, model::transformOutputRaw,
        model::transformOutput);
  }

  /** A model method taking one argument, as UserCode calls it. */
  private interface Method<I, O> {
    O apply(I input) throws Exception;
  }

  private SeldonMessage transform(Verb verb, boolean useRaw, SeldonMessage request,
      Method<SeldonMessage, SeldonMessage> raw, Method<Payload, Payload> method) {
    require(verb);
    if (useRaw) {
      return UserCode.call(() -> raw.apply(request));
    }
    Payload input = Messages.decode(request);
    return respond(UserCode.call(() -> method.apply(input)), input);
  }

  SeldonMessage route(SeldonMessage request) {
    require(Verb.ROUTE);
    if (overrides.routeRaw) {
      return UserCode.call(() -> model.routeRaw(request));
    }
    if (!overrides.route) {
      throw SeldonException.notServed(modelName + " overrides neither route nor routeRaw", 501);
    }
    Payload input = Messages.decode(request);
    Payload branch = UserCode.call(() -> model.route(input));
    return respond(Payload.branch(branchIndex(branch)), input);
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
    require(Verb.AGGREGATE);
    if (requests.getSeldonMessagesCount() == 0) {
      throw SeldonException.badData(
          "aggregate needs {\"seldonMessages\": [...]} or a non-empty list of SeldonMessages");
    }
    if (overrides.aggregateRaw) {
      return UserCode.call(() -> model.aggregateRaw(requests));
    }
    if (!overrides.aggregate) {
      throw SeldonException.notServed(modelName + " overrides neither aggregate nor aggregateRaw", 501);
    }
    List<Payload> inputs = new ArrayList<>();
    Map<String, com.google.protobuf.Value> tags = new LinkedHashMap<>();
    for (SeldonMessage message : requests.getSeldonMessagesList()) {
      inputs.add(Messages.decode(message));
      tags.putAll(message.getMeta().getTagsMap());
    }
    Meta merged = Meta.newBuilder().setPuid(requests.getSeldonMessages(0).getMeta().getPuid()).putAllTags(tags).build();
    Payload result = UserCode.call(() -> model.aggregate(List.copyOf(inputs)));
    return respond(result, inputs.get(0), merged);
  }

  SeldonMessage sendFeedback(Feedback feedback) {
    require(Verb.SEND_FEEDBACK);
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
    SeldonMessage requestMessage = feedback.hasRequest() && feedback.getRequest().getDataOneofCase()
        != SeldonMessage.DataOneofCase.DATAONEOF_NOT_SET ? feedback.getRequest() : null;
    Payload request = requestMessage != null
        ? Messages.decode(requestMessage)
        : Payload.ndarray(List.of());
    if (!overrides.sendFeedback) {
      // Seldon's executor sends feedback to every unit of a graph: without a handler it is counted, not refused.
      return respond(Payload.ndarray(List.of()), request);
    }
    Payload truth = feedback.hasTruth() ? Messages.decode(feedback.getTruth()) : null;
    Map<String, Integer> routing = feedback.getResponse().getMeta().getRoutingMap();
    Integer branch = routing.get(unitId);
    Payload result = UserCode.call(() -> model.sendFeedback(request, reward, truth, branch));
    return respond(result == null ? Payload.ndarray(List.of()) : result, request);
  }

  /**
   * The Open Inference Protocol's call (OpenInference): the unit's one-message verb on a v2
   * request's payload, answering what the model returned.
   */
  Payload infer(Payload input) {
    Payload result = switch (serviceType) {
      case "MODEL" -> inferWith(overrides.predictRaw, overrides.predict, model::predictRaw, model::predict, input,
          "predict or predictRaw");
      case "TRANSFORMER", "OUTLIER_DETECTOR" -> inferWith(overrides.transformInputRaw, true,
          model::transformInputRaw, model::transformInput, input, null);
      case "OUTPUT_TRANSFORMER" -> inferWith(overrides.transformOutputRaw, true, model::transformOutputRaw,
          model::transformOutput, input, null);
      case "ROUTER" -> overrides.routeRaw
          ? inferWith(true, false, model::routeRaw, null, input, null)
          : Payload.of(TypedTensor.of(TypedTensor.Datatype.INT64, new long[] {1, 1}, new long[] {
              branchIndex(inferWith(false, overrides.route, null, model::route, input, "route or routeRaw"))}));
      default -> throw SeldonException.notServed("a " + serviceType
          + " aggregates several messages; an Open Inference Protocol request is one", 400);
    };
    if (result == null) {
      throw SeldonException.internal(modelName + " returned null; return a Payload");
    }
    List<Metric> userMetrics = UserCode.call(model::metrics);
    if (userMetrics != null && !userMetrics.isEmpty() && metrics != null) {
      metrics.recordUser(userMetrics);
    }
    return result;
  }

  private Payload inferWith(boolean useRaw, boolean served, Method<SeldonMessage, SeldonMessage> raw,
      Method<Payload, Payload> method, Payload input, String missing) {
    if (useRaw) {
      SeldonMessage request = Messages.encode(asSeldon(input), null, input.names(), null);
      return Messages.decode(UserCode.call(() -> raw.apply(request)));
    }
    if (!served) {
      throw SeldonException.notServed(modelName + " overrides neither " + missing, 501);
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

  /** The model's own health answer, or null when it has none. */
  SeldonMessage healthStatus() {
    if (!overrides.healthStatus) {
      return null;
    }
    Payload status = UserCode.call(model::healthStatus);
    return status == null ? null : Messages.encode(status, null, null, null);
  }

  // ---- shared steps ----------------------------------------------------------------------

  /** Refuses a verb this service type does not serve (before its body is even read). */
  void require(Verb verb) {
    if (!verbs.contains(verb)) {
      List<String> served = verbs.stream().map(v -> v.label).sorted().toList();
      throw SeldonException.notServed(
          verb.label + " is not served by a " + serviceType + " (it serves " + String.join(", ", served) + ")", 404);
    }
  }

  private SeldonMessage respond(Payload result, Payload request) {
    return respond(result, request, null);
  }

  private SeldonMessage respond(Payload result, Payload request, Meta requestMeta) {
    if (result == null) {
      throw SeldonException.internal(modelName + " returned null; return a Payload");
    }
    List<String> classNames = UserCode.call(model::classNames);
    Map<String, ?> tags = UserCode.call(model::tags);
    List<Metric> userMetrics = UserCode.call(model::metrics);
    if (userMetrics != null && !userMetrics.isEmpty() && metrics != null) {
      metrics.recordUser(userMetrics);
    }
    Meta meta = requestMeta != null ? requestMeta : request.meta().proto();
    return Messages.encode(result, request, classNames, Messages.responseMeta(meta, tags, userMetrics));
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

    Overrides(Class<?> cls) {
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

    /** The methods a service type cannot do without ("predict or predictRaw"), or null. */
    String missing(String serviceType) {
      return switch (serviceType) {
        case "MODEL" -> predict || predictRaw ? null : "predict or predictRaw";
        case "ROUTER" -> route || routeRaw ? null : "route or routeRaw";
        case "COMBINER" -> aggregate || aggregateRaw ? null : "aggregate or aggregateRaw";
        default -> null; // transformers default to the identity
      };
    }
  }

  static boolean overrides(Class<?> cls, String name, Class<?>... parameters) {
    try {
      return cls.getMethod(name, parameters).getDeclaringClass() != PredictionService.class;
    } catch (NoSuchMethodException e) {
      return false;
    }
  }
}
