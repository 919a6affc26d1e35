package io.seldon.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.UUID;
import org.junit.jupiter.api.Test;

class MessagesTest {
  @Test
  void aPuidIsTheUuidsHexDigits() {
    assertEquals("123e4567e89b42d3a456426614174000",
        Messages.hexOf(UUID.fromString("123e4567-e89b-42d3-a456-426614174000")));
    assertEquals("ffffffffffffffff0000000000000001", Messages.hexOf(new UUID(-1L, 1L)));
  }

  @Test
  void newPuidsAreRandomVersion4Uuids() {
    String puid = Messages.newPuid();
    assertTrue(puid.matches("[0-9a-f]{12}4[0-9a-f]{3}[89ab][0-9a-f]{15}"), puid);
    assertNotEquals(puid, Messages.newPuid());
  }
}
