package io.sparktensors.errors;

import java.util.Arrays;
import java.util.List;

/**
 * Why a checkpoint cannot be written (the writer and the re-shard job), each error worded once, as
 * {@link TensorErrors} words them. All are {@link IllegalArgumentException}s: the input or the request is at
 * fault, and nothing was published.
 */
public final class WriteErrors {
    private static final String WRITE = "write the checkpoint";

    private WriteErrors() {}

    private static IllegalArgumentException tensor(String name, String reason, String fix) {
        return TensorErrors.cannot(
                WRITE, "tensor '" + MalformedTensorFileException.printable(name) + "' " + reason, fix);
    }

    public static IllegalArgumentException nullName() {
        return TensorErrors.cannot(WRITE, "a tensor has no name (a null in column 'name')", "Give every row a name");
    }

    public static IllegalArgumentException duplicateTensor(String name, String firstFile, String secondFile) {
        return TensorErrors.cannot(
                WRITE,
                "Tensor '" + MalformedTensorFileException.printable(name) + "' appears in more than one file ("
                        + firstFile + " and " + secondFile + ")",
                "Tensor names must be unique: read one of the files, or filter the duplicates out");
    }

    public static IllegalArgumentException duplicateTensor(String name) {
        return tensor(name, "appears twice", "Tensor names must be unique");
    }

    public static IllegalArgumentException duplicateOutput(String name, String first, String second) {
        return TensorErrors.cannot(
                WRITE,
                "two source tensors become '" + name + "' (" + first + " and " + second + ")",
                "Names must stay unique after renaming: change the renames or exclude one of them");
    }

    public static IllegalArgumentException inconsistentTensor(String name) {
        return tensor(name, "appears with different dtypes, shapes or chunk counts", "Tensor names must be unique");
    }

    public static IllegalArgumentException tooManyChunks(String name, int rows, int chunkCount) {
        return tensor(
                name,
                "appears " + rows + " times for " + chunkCount + " chunk(s)",
                "Remove duplicate tensor names or overlapping chunks");
    }

    public static IllegalArgumentException missingChunks(String name, int rows, int chunkCount) {
        return tensor(
                name,
                "has " + rows + " of its " + chunkCount + " chunks: chunks are missing",
                "Write every chunk of a chunked tensor (filter by name, not by chunk)");
    }

    public static IllegalArgumentException unknownDtype(String name, String dtype) {
        return tensor(name, "has the unknown dtype '" + dtype + "'", "Use a safetensors dtype such as F32 or BF16");
    }

    public static IllegalArgumentException invalidShape(String name, long[] shape) {
        return tensor(
                name,
                "has the invalid shape " + (shape == null ? "null" : Arrays.toString(shape)),
                "Dimensions must be zero or more");
    }

    public static IllegalArgumentException shapeOverflows(String name, long[] shape, ArithmeticException cause) {
        return TensorErrors.cannot(
                WRITE,
                "tensor '" + MalformedTensorFileException.printable(name) + "': its shape " + Arrays.toString(shape)
                        + " overflows 64 bits",
                null,
                cause);
    }

    public static IllegalArgumentException partialBytes(String name, long[] shape, String dtype) {
        return tensor(name, Arrays.toString(shape) + " of " + dtype + " does not fill whole bytes", null);
    }

    public static IllegalArgumentException nullData(String name) {
        return tensor(name, "has a null in column 'data'", null);
    }

    public static IllegalArgumentException wrongLength(
            String name, long actual, long[] shape, String dtype, long expected) {
        return tensor(
                name,
                "holds " + actual + " bytes but shape " + Arrays.toString(shape) + " of " + dtype + " needs "
                        + expected,
                null);
    }

    public static IllegalArgumentException append(String path) {
        return TensorErrors.cannot(
                "append to the checkpoint at " + path,
                "its shard names and index describe the whole set of tensors",
                "Write a new path, or use mode(\"overwrite\") to replace it");
    }

    public static IllegalArgumentException missingColumn(String column, List<String> columns) {
        return TensorErrors.cannot(
                "write safetensors",
                "the input has no column '" + column + "'",
                "It needs the reader's columns name, dtype, shape and data (and chunk, chunk_count for chunked tensors); "
                        + "it has " + columns);
    }

    public static IllegalArgumentException wrongColumnType(String column, String expected, String actual) {
        return TensorErrors.cannot(
                "write safetensors", "column '" + column + "' must be " + expected + ", found " + actual, null);
    }

    public static IllegalArgumentException badPrefix(String prefix) {
        return TensorErrors.cannot(
                "use the file prefix '" + prefix + "'",
                "it must be a plain file name that does not start with '.' or '_'",
                null);
    }

    public static IllegalArgumentException badTargetDtype(String dtype) {
        return TensorErrors.cannot(
                "convert to dtype '" + dtype + "'", "only floating tensors are converted", "Use F32, F16 or BF16");
    }
}
