package io.seldon.serve;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * REQUEST_TIMEOUT_SECONDS: the calls into the model in progress, by thread, and a watchdog that
 * interrupts one once it has run too long. Java cannot stop a thread safely, so a model waiting
 * (sleep, I/O, a lock) is interrupted and answered 504 at once, while one computing without
 * pause answers when it returns; either way the other threads go on serving.
 */
final class Deadlines {
  private static volatile long limitNanos; // 0: calls are not timed
  private static final Map<Thread, Long> RUNNING = new ConcurrentHashMap<>();
  private static final Set<Thread> INTERRUPTED = ConcurrentHashMap.newKeySet();

  private Deadlines() {}

  static void start(long limitMillis) {
    if (limitMillis <= 0) {
      return;
    }
    limitNanos = limitMillis * 1_000_000L;
    Thread watchdog = new Thread(Deadlines::watch, "request-deadlines");
    watchdog.setDaemon(true);
    watchdog.start();
  }

  static double seconds() {
    return limitNanos / 1e9;
  }

  /** Marks the calling thread's call into the model as begun (a no-op when untimed). */
  static void begin() {
    if (limitNanos > 0) {
      RUNNING.put(Thread.currentThread(), System.nanoTime());
    }
  }

  /** Ends the calling thread's call; true if the watchdog interrupted it (its flag is cleared). */
  static boolean end() {
    if (limitNanos == 0) {
      return false;
    }
    Thread self = Thread.currentThread();
    RUNNING.remove(self);
    if (INTERRUPTED.remove(self)) {
      Thread.interrupted(); // the pool thread serves its next request uninterrupted
      return true;
    }
    return false;
  }

  private static void watch() {
    long tick = Math.max(1, Math.min(100, limitNanos / 10_000_000L));
    while (true) {
      try {
        Thread.sleep(tick);
      } catch (InterruptedException e) {
        return;
      }
      long now = System.nanoTime();
      RUNNING.forEach((thread, began) -> {
        if (now - began > limitNanos && INTERRUPTED.add(thread)) {
          thread.interrupt();
        }
      });
    }
  }
}
