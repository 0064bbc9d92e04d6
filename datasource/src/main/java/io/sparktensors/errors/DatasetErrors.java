package io.sparktensors.errors;

import java.util.Arrays;
import java.util.List;

/**
 * Why a DataFrame cannot be written as, or read from, a training-data layout ({@code layout=dataset} or
 * {@code kv}), worded as {@link TensorErrors} words them: the input or the request is at fault.
 */
public final class DatasetErrors {
    private static final String WRITE = "write the dataset";

    private DatasetErrors() {}

    public static IllegalArgumentException unsupportedType(String column, String type) {
        return TensorErrors.cannot(
                WRITE,
                "column '" + column + "' has the type " + type + ", which has no tensor form",
                "Use numeric or boolean scalars, (nested) arrays of them, ML vectors, "
                        + "or binary with a declared shape (option shape." + column + "); drop or cast other columns");
    }

    public static IllegalArgumentException nullValue(String column, long row, int partition) {
        return TensorErrors.cannot(
                WRITE,
                "column '" + column + "' holds a null in row " + row + " of input partition " + partition,
                "Fill or filter nulls first (df.na.fill, df.where(col.isNotNull)): a tensor has no nulls");
    }

    public static IllegalArgumentException ragged(String column, long row, int partition, long[] first, long[] found) {
        return TensorErrors.cannot(
                WRITE,
                "column '" + column + "' is ragged: row " + row + " of input partition "
                        + partition + " has lengths " + Arrays.toString(found) + " where earlier rows have "
                        + Arrays.toString(first),
                "Use option ragged=pad to pad arrays with zeros (COLUMN.lengths tensors keep the lengths), "
                        + "or make the arrays one length");
    }

    public static IllegalArgumentException notRectangular(
            String column, long row, int partition, int dimension, long first, long found) {
        return TensorErrors.cannot(
                WRITE,
                "column '" + column + "' is ragged: row " + row + " of input partition " + partition
                        + " has arrays of lengths " + first + " and " + found + " along dimension " + dimension,
                "Use option ragged=pad to pad arrays with zeros (COLUMN.lengths tensors keep the lengths), "
                        + "or make the arrays rectangular");
    }

    public static IllegalArgumentException raggedAcrossTasks(
            String column, String firstFile, long[] first, String file, long[] found) {
        return TensorErrors.cannot(
                WRITE,
                "column '" + column + "' is ragged across tasks: its rows have shape " + Arrays.toString(first)
                        + " in " + firstFile + " but " + Arrays.toString(found) + " in " + file
                        + " (no file was published)",
                "Use option ragged=pad to pad arrays with zeros (COLUMN.lengths tensors keep the lengths), "
                        + "or make the arrays one length in every partition");
    }

    public static IllegalArgumentException raggedAgainstExisting(
            String column, String existingFile, long[] existing, String file, long[] found) {
        return TensorErrors.cannot(
                WRITE,
                "column '" + column + "' does not match the dataset it is appended to: its rows have shape "
                        + Arrays.toString(existing) + " in the existing " + existingFile + " but "
                        + Arrays.toString(found) + " in the new " + file + " (no file was published)",
                "Append arrays of the dataset's length, write to a new folder, or overwrite it");
    }

    public static IllegalArgumentException binaryLength(
            String column, long row, int partition, int length, long expected, long[] shape, String dtype) {
        return TensorErrors.cannot(
                WRITE,
                "column '" + column + "' holds " + length + " bytes in row " + row
                        + " of input partition " + partition + " but shape " + Arrays.toString(shape) + " of " + dtype
                        + " needs "
                        + expected,
                "Check option shape." + column + " and dtype." + column);
    }

    public static IllegalArgumentException binaryWithoutShape(String column) {
        return TensorErrors.cannot(
                WRITE,
                "binary column '" + column + "' has no declared shape",
                "Give each row's shape with option shape." + column + "=D1,D2,... (and its dtype with dtype." + column
                        + ", default U8)");
    }

    public static IllegalArgumentException badColumnDtype(String column, String dtype, String type) {
        return TensorErrors.cannot(
                WRITE,
                "column '" + column + "' of type " + type + " cannot be stored as " + dtype,
                "Floating columns convert to F32, F16 or BF16; binary columns take any dtype; other columns keep theirs");
    }

    public static IllegalArgumentException unknownColumn(String option, String column, List<String> columns) {
        return TensorErrors.cannot(
                WRITE,
                "option " + option + " names no column ('" + column + "')",
                "The input's columns are " + columns);
    }

    public static IllegalArgumentException tooLarge(String column, long bytes) {
        return TensorErrors.cannot(
                WRITE,
                "column '" + column + "' needs more than " + bytes + " bytes in one file",
                "Lower option rowsPerFile or maxFileSize");
    }

    public static IllegalArgumentException kvKey(String keyColumn, List<String> columns) {
        return TensorErrors.cannot(
                WRITE,
                "layout=kv needs option keyColumn naming a column; found '" + keyColumn + "'",
                "The input's columns are " + columns);
    }

    public static IllegalArgumentException kvNullKey(String keyColumn) {
        return TensorErrors.cannot(WRITE, "key column '" + keyColumn + "' holds a null", "Give every row a key");
    }

    public static IllegalArgumentException notADataset(String file, String layout) {
        return TensorErrors.cannot(
                "read the " + layout + " layout",
                "file " + file + " has no Spark schema in its " + "__metadata__ (it was not written with layout="
                        + layout + ")",
                "Read it without the layout option, as tensors");
    }
}
