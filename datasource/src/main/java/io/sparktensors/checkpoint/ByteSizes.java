package io.sparktensors.checkpoint;

import java.math.BigDecimal;
import java.util.Locale;

/**
 * Sizes as users write them for shards: plain bytes, the decimal units huggingface_hub parses (KB, MB, GB,
 * TB: powers of 1000, fractions allowed, e.g. "5GB", "1.5GB"), and the binary units KiB, MiB, GiB, TiB.
 */
public final class ByteSizes {
  private ByteSizes() {}

  public static long parse(String text) {
    String s = text.trim();
    String upper = s.toUpperCase(Locale.ROOT);
    long multiplier = 1;
    String number = s;
    String[][] units = {{"KIB", "1024"}, {"MIB", "1048576"}, {"GIB", "1073741824"}, {"TIB", "1099511627776"},
        {"KB", "1000"}, {"MB", "1000000"}, {"GB", "1000000000"}, {"TB", "1000000000000"}};
    for (String[] unit : units) {
      if (upper.endsWith(unit[0])) {
        multiplier = Long.parseLong(unit[1]);
        number = s.substring(0, s.length() - unit[0].length()).trim();
        break;
      }
    }
    try {
      BigDecimal bytes = new BigDecimal(number).multiply(BigDecimal.valueOf(multiplier));
      long whole = bytes.setScale(0, java.math.RoundingMode.DOWN).longValueExact(); // int(value * multiplier)
      if (whole < 1) {
        throw new IllegalArgumentException("A size must be at least one byte: '" + text + "'");
      }
      return whole;
    } catch (NumberFormatException | ArithmeticException e) {
      throw new IllegalArgumentException("Cannot read the size '" + text
          + "': give bytes or a number with KB, MB, GB, TB (powers of 1000) or KiB, MiB, GiB, TiB.", e);
    }
  }
}
