package io.sparktensors.errors;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.util.List;

/**
 * The user-facing errors, built in one place and worded one way: "Cannot &lt;action&gt;: &lt;reason&gt;.
 * &lt;what to do&gt;". A request that cannot be met is an {@link IllegalArgumentException} (the command line
 * reports it as bad usage); a file that breaks its format is a {@link MalformedTensorFileException}; storage
 * that does not hold what was asked for is an {@link IOException}.
 */
public final class TensorErrors {
    private TensorErrors() {}

    /** "Cannot ACTION: REASON. FIX" (the fix may be null). */
    public static String message(String action, String reason, String fix) {
        StringBuilder sb =
                new StringBuilder("Cannot ").append(action).append(": ").append(reason);
        if (!reason.endsWith(".")) {
            sb.append('.');
        }
        if (fix != null && !fix.isEmpty()) {
            sb.append(' ').append(fix);
            if (!fix.endsWith(".") && !fix.endsWith(")")) {
                sb.append('.');
            }
        }
        return sb.toString();
    }

    /** A request that cannot be met as given. */
    public static IllegalArgumentException cannot(String action, String reason, String fix) {
        return new IllegalArgumentException(message(action, reason, fix));
    }

    /** A request that cannot be met, with what failed underneath. */
    public static IllegalArgumentException cannot(String action, String reason, String fix, Throwable cause) {
        return new IllegalArgumentException(message(action, reason, fix), cause);
    }

    /** An option whose value cannot be used. */
    public static IllegalArgumentException badOption(String key, String value, String expected) {
        return cannot("use the option " + key + "='" + value + "'", expected, null);
    }

    /** An option whose value cannot be used, with the parse failure. */
    public static IllegalArgumentException badOption(String key, String value, String expected, Throwable cause) {
        return cannot("use the option " + key + "='" + value + "'", expected, null, cause);
    }

    /** A required option or argument that was not given. */
    public static IllegalArgumentException missing(String what, String howToGiveIt) {
        return cannot("start", "no " + what + " given", howToGiveIt);
    }

    /** A SQL function given what it cannot compute on. */
    public static IllegalArgumentException function(String function, String reason, String fix) {
        return cannot("evaluate " + function, reason, fix);
    }

    /** Tensor values that cannot be decoded or compared as asked. */
    public static IllegalArgumentException values(String reason, String fix) {
        return cannot("decode the tensor values", reason, fix);
    }

    /** A format name that names none. */
    public static IllegalArgumentException unknownFormatName(String name, List<String> known) {
        return cannot("read the format '" + name + "'", "no such checkpoint format", "Known formats: " + known);
    }

    /** A path that names nothing. */
    public static FileNotFoundException pathNotFound(String qualifiedPath) {
        return new FileNotFoundException("Path does not exist: " + qualifiedPath
                + ". Check the path, and that the Hadoop configuration reaches its file system.");
    }

    /** A target that exists where the save mode wants none. */
    public static IllegalArgumentException targetExists(String qualifiedPath, String fix) {
        return cannot("write to " + qualifiedPath, "the path already exists", fix);
    }

    /** A file whose format neither the scan nor its name says. */
    public static IOException unknownFormat(String fileName) {
        return new IOException(
                message(
                        "tell the format of '" + fileName + "'",
                        "its name marks no known format",
                        "Name the format: spark.read.format(\"pytorch\") (or safetensors, tensorflow, keras, onnx, gguf, dcp)"));
    }

    /** A folder with several indexes and none of them the default. */
    public static IOException severalIndexes(String folder, List<String> indexes) {
        return new IOException(
                message("read folder " + folder, "it holds several indexes " + indexes, "Name the index file to read"));
    }

    /** A folder that holds nothing to read. */
    public static FileNotFoundException emptyFolder(String folder, String format) {
        return new FileNotFoundException(message(
                "read folder " + folder,
                "it holds no checkpoint file" + (format != null ? " of the format " + format : "") + " and no index",
                "Give the folder that holds the model files, or name a file"));
    }

    /** A set of per-rank files of which some ranks' files are missing. */
    public static FileNotFoundException missingRankFiles(String folder, int worldSize, List<String> missing) {
        return new FileNotFoundException(message(
                "read the per-rank files in " + folder,
                "their names say " + worldSize + " ranks saved them, but " + String.join(", ", missing)
                        + (missing.size() == 1 ? " is" : " are") + " missing",
                "Copy every rank's file (each holds only its rank's shard of the tensors), or name one rank file"
                        + " alone to list its local shards"));
    }
}
