package io.sparktensors.format;

/**
 * JSON string literals written byte for byte as the reference tools write them: serde_json (the safetensors
 * writer) escapes only what JSON requires, with lower-case hex escapes for control characters; Python's
 * json module (transformers' index files) also escapes every non-ASCII character.
 */
public final class JsonStrings {
    private JsonStrings() {}

    /**
     * Appends {@code s} as a quoted JSON string.
     *
     * @param asciiOnly escape every character outside printable ASCII, as Python's {@code json.dumps} does
     */
    public static StringBuilder append(StringBuilder sb, String s, boolean asciiOnly) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20 || (asciiOnly && c > 0x7e)) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        return sb.append('"');
    }
}
