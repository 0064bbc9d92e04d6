package io.sparktensors.checkpoint;

import io.sparktensors.errors.TensorErrors;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.Locale;

/**
 * The one way sizes are read, in every option and flag: a number of bytes, or a number (fractions allowed)
 * with a unit, case-insensitive:
 *
 * <ul>
 *   <li>{@code KB MB GB TB}: powers of 1000, as huggingface_hub reads shard sizes ({@code "5GB"} is
 *       5,000,000,000 bytes);
 *   <li>{@code KiB MiB GiB TiB}: powers of 1024;
 *   <li>{@code k m g t} (one letter): powers of 1024, as Spark's own size settings ({@code "64m"} is
 *       67,108,864 bytes).
 * </ul>
 *
 * So {@code "1g"} is 2^30 bytes and {@code "1GB"} is 10^9. A size is at least one byte and fits 63 bits.
 */
public final class ByteSizes {
    private static final String[][] UNITS = {
        {"kib", "1024"},
        {"mib", "1048576"},
        {"gib", "1073741824"},
        {"tib", "1099511627776"},
        {"kb", "1000"},
        {"mb", "1000000"},
        {"gb", "1000000000"},
        {"tb", "1000000000000"},
        {"k", "1024"},
        {"m", "1048576"},
        {"g", "1073741824"},
        {"t", "1099511627776"},
        {"b", "1"}
    };

    private ByteSizes() {}

    /**
     * Reads a size.
     *
     * @throws IllegalArgumentException naming the text and the units there are
     */
    public static long parse(String text) {
        String s = text.trim();
        String lower = s.toLowerCase(Locale.ROOT);
        long multiplier = 1;
        String number = s;
        for (String[] unit : UNITS) {
            if (lower.endsWith(unit[0])) {
                multiplier = Long.parseLong(unit[1]);
                number = s.substring(0, s.length() - unit[0].length()).trim();
                break;
            }
        }
        try {
            BigDecimal bytes = new BigDecimal(number).multiply(BigDecimal.valueOf(multiplier));
            long whole = bytes.setScale(0, RoundingMode.DOWN).longValueExact(); // int(value * multiplier)
            if (whole < 1) {
                throw TensorErrors.cannot("use the size '" + text + "'", "a size must be at least one byte", null);
            }
            return whole;
        } catch (NumberFormatException | ArithmeticException e) {
            throw TensorErrors.cannot(
                    "read the size '" + text + "'",
                    "it is not a size",
                    "Give bytes, or a number with KB, MB, GB, TB (powers of 1000), KiB, MiB, GiB, TiB or k, m, g, t "
                            + "(powers of 1024)",
                    e);
        }
    }
}
