import com.google.protobuf.ListValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.seldon.protos.PredictionProtos.Meta;
import io.seldon.protos.PredictionProtos.SeldonMessage;
import io.seldon.serve.PredictionService;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * predictRaw receives the whole SeldonMessage (protobuf, over REST and gRPC alike) and returns a
 * whole message: here, which parts the request had, under the same puid.
 */
public class RawModel implements PredictionService {
  @Override
  public SeldonMessage predictRaw(SeldonMessage request) {
    List<String> received = new ArrayList<>();
    if (request.hasMeta()) {
      received.add("meta");
    }
    if (request.hasStatus()) {
      received.add("status");
    }
    switch (request.getDataOneofCase()) {
      case DATA -> received.add("data");
      case JSONDATA -> received.add("jsonData");
      case STRDATA -> received.add("strData");
      case BINDATA -> received.add("binData");
      default -> { }
    }
    Collections.sort(received);
    Struct answer = Struct.newBuilder()
        .putFields("received", strings(received))
        .putFields("names", strings(request.getData().getNamesList()))
        .build();
    return SeldonMessage.newBuilder()
        .setJsonData(Value.newBuilder().setStructValue(answer))
        .setMeta(Meta.newBuilder().setPuid(request.getMeta().getPuid()))
        .build();
  }

  private static Value strings(List<String> items) {
    ListValue.Builder list = ListValue.newBuilder();
    items.forEach(item -> list.addValues(Value.newBuilder().setStringValue(item)));
    return Value.newBuilder().setListValue(list).build();
  }
}
