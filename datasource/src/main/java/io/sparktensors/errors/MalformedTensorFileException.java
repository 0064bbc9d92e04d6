package io.sparktensors.errors;

import java.io.IOException;
import java.util.Optional;

/**
 * The one exception for input that breaks its format's rules: a corrupt, truncated, hostile or
 * unsupported file. It always names the file, names the tensor when one is at fault, and says what to do.
 * Callers that skip bad files ({@code ignoreCorruptFiles}) catch this type.
 */
public class MalformedTensorFileException extends IOException {
    private static final long serialVersionUID = 1L;

    private final String file;
    private final String tensor;
    private final String fault;

    public MalformedTensorFileException(String file, String tensor, String fault) {
        this(file, tensor, fault, null);
    }

    public MalformedTensorFileException(String file, String tensor, String fault, Throwable cause) {
        super(message(file, tensor, fault), cause);
        this.file = file;
        this.tensor = tensor;
        this.fault = fault;
    }

    /**
     * A local file truncated while the scan read its mapped pages ({@code cause}: the JVM's InternalError for a
     * page that is gone); {@code tensor} may be null.
     */
    public static MalformedTensorFileException changedWhileRead(String file, String tensor, Throwable cause) {
        return new MalformedTensorFileException(
                file,
                tensor,
                "the file changed while it was read (it is shorter than when the scan started); re-run the query "
                        + "on files that are not being rewritten",
                cause);
    }

    private static String message(String file, String tensor, String fault) {
        StringBuilder sb =
                new StringBuilder("Malformed tensor file '").append(file).append('\'');
        if (tensor != null) {
            sb.append(", tensor '").append(printable(tensor)).append('\'');
        }
        return sb.append(": ").append(fault).toString();
    }

    /** Text from a hostile file goes into messages with control characters escaped and its length bounded. */
    public static String printable(String s) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < s.length() && sb.length() < 200; i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                sb.append(String.format("\\u%04x", (int) c));
            } else {
                sb.append(c);
            }
        }
        return s.length() > 200 ? sb + "..." : sb.toString();
    }

    /** The file at fault. */
    public String file() {
        return file;
    }

    /** The tensor at fault, when the fault lies in one tensor's entry. */
    public Optional<String> tensor() {
        return Optional.ofNullable(tensor);
    }

    /** The fault alone, without file and tensor. */
    public String fault() {
        return fault;
    }
}
