package io.sparktensors.spark.functions;

import io.sparktensors.errors.TensorErrors;
import io.sparktensors.spark.compat.ScalaCollections;
import io.sparktensors.spark.compat.SparkInternals;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.ExpressionInfo;
import org.apache.spark.sql.catalyst.expressions.Inline;
import org.apache.spark.sql.catalyst.expressions.Literal;
import org.apache.spark.sql.catalyst.plans.logical.LogicalPlan;
import org.apache.spark.sql.catalyst.rules.Rule;
import org.apache.spark.sql.functions;
import scala.Function1;

/**
 * The tensor SQL functions, and their DataFrame API. Register them once per session, either with
 * {@link #register(SparkSession)} or by starting the session with
 * {@code spark.sql.extensions=io.sparktensors.spark.functions.TensorExtensions}; then they work from SQL,
 * from these methods and from PySpark ({@code F.call_function("tensor_stats", ...)} or {@code F.expr}).
 *
 * <ul>
 *   <li>{@code tensor_to_array(data, dtype)}: {@code array<float>}; {@code tensor_to_double_array}: {@code array<double>}
 *   <li>{@code tensor_stats(data, dtype)}: count, nans, infs, zeros, min, max, mean, std, l2 (and m2,
 *       sum_squares, which let {@code tensor_stats_merge} merge chunks exactly)
 *   <li>{@code tensor_stats_merge(stats)}: aggregate of chunk statistics into tensor statistics
 *   <li>{@code tensor_cast(data, dtype, target)}: F64/F32/F16/BF16 to F32/F16/BF16, round to nearest even
 *   <li>{@code tensor_diff_stats(a, b, dtype)}: count, differing, max_abs, max_rel, mse, non_finite
 *   <li>{@code tensor_rows(data, dtype, shape[, chunk_start])}: a generator of (index, vector) rows of a 2-D tensor
 *   <li>{@code tensor_from_array(array, dtype)}: struct(data, shape) of a (nested, rectangular) array
 *   <li>{@code tensor_stack(array, dtype)}: aggregate: the rows' arrays stacked into one [rows, ...] tensor
 * </ul>
 */
public final class TensorFunctions {
    /** A function: its name, one-line usage, and how it is built from its arguments. */
    record Definition(String name, String usage, int minArgs, int maxArgs, Function<Expression[], Expression> build) {}

    static final List<Definition> DEFINITIONS = List.of(
            new Definition(
                    "tensor_to_array",
                    "tensor_to_array(data, dtype) - the values as array<float>",
                    2,
                    2,
                    a -> new TensorToArray(a[0], a[1])),
            new Definition(
                    "tensor_to_double_array",
                    "tensor_to_double_array(data, dtype) - the values as "
                            + "array<double> (exact but for 64-bit integers beyond 2^53)",
                    2,
                    2,
                    a -> new TensorToArray.Doubles(a[0], a[1])),
            new Definition(
                    "tensor_stats",
                    "tensor_stats(data, dtype) - count, nans, infs, zeros, min, max, mean, std, "
                            + "l2 of the finite values",
                    2,
                    2,
                    a -> new TensorStatsExpression(a[0], a[1])),
            new Definition(
                    "tensor_stats_merge",
                    "tensor_stats_merge(stats) - aggregate: chunk statistics merged into " + "tensor statistics",
                    1,
                    1,
                    a -> new TensorStatsMerge(a[0]).toAggregateExpression()),
            new Definition(
                    "tensor_cast",
                    "tensor_cast(data, dtype, target) - float data re-encoded as F32, F16 or BF16",
                    3,
                    3,
                    a -> new TensorCast(a[0], a[1], a[2])),
            new Definition(
                    "tensor_diff_stats",
                    "tensor_diff_stats(a, b, dtype) - count, differing, max_abs, max_rel, " + "mse, non_finite",
                    3,
                    3,
                    a -> new TensorDiffStats(a[0], a[1], a[2])),
            new Definition(
                    "tensor_rows",
                    "tensor_rows(data, dtype, shape[, chunk_start]) - generator: one (index, "
                            + "vector) row per row of a 2-D tensor",
                    3,
                    4,
                    a -> new Inline(new TensorRows(
                            a[0],
                            a[1],
                            a[2],
                            a.length > 3 ? a[3] : Literal.create(0L, org.apache.spark.sql.types.DataTypes.LongType)))),
            new Definition(
                    "tensor_from_array",
                    "tensor_from_array(array, dtype) - struct(data, shape): a (nested, "
                            + "rectangular) array as one tensor of dtype (F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL)",
                    2,
                    2,
                    a -> new TensorFromArray(a[0], a[1])),
            new Definition(
                    "tensor_stack",
                    "tensor_stack(array, dtype) - aggregate: struct(data, shape) of the rows' "
                            + "arrays stacked into one [rows, ...] tensor, in the order Spark merges rows",
                    2,
                    2,
                    a -> new TensorStack(a[0], a[1]).toAggregateExpression()));

    private TensorFunctions() {}

    /**
     * Registers every tensor function in {@code spark}'s session, as temporary functions, and adds the rule
     * that computes {@code tensor_stats} and {@code sha2(data, 256)} of tensor scans inside the scan to the
     * session's extra optimizations (idempotent).
     */
    public static void register(SparkSession spark) {
        var registry = SparkInternals.functionRegistry(spark);
        for (Definition d : DEFINITIONS) {
            registry.createOrReplaceTempFunction(d.name(), builder(d), "java_udf");
        }
        List<Rule<LogicalPlan>> rules = new ArrayList<>(SparkInternals.extraOptimizations(spark));
        if (rules.stream().noneMatch(r -> r instanceof InScanColumns)) {
            rules.add(new InScanColumns());
            SparkInternals.setExtraOptimizations(spark, rules);
        }
    }

    static ExpressionInfo info(Definition d) {
        return new ExpressionInfo(TensorFunctions.class.getName(), null, d.name(), d.usage(), "");
    }

    /**
     * The builder Spark calls with the arguments: a {@code Seq} of Scala 2.12 ({@code scala.collection.Seq}) or
     * 2.13 ({@code scala.collection.immutable.Seq}), the same class after erasure.
     */
    @SuppressWarnings({"unchecked", "rawtypes"})
    static <S> Function1<S, Expression> builder(Definition d) {
        Function1<scala.collection.Seq<Expression>, Expression> f = args -> {
            List<Expression> list = ScalaCollections.asJava(args);
            if (list.size() < d.minArgs() || list.size() > d.maxArgs()) {
                throw TensorErrors.function(
                        d.name(),
                        d.name() + " takes "
                                + (d.minArgs() == d.maxArgs() ? d.minArgs() : d.minArgs() + " or " + d.maxArgs())
                                + " arguments, not " + list.size(),
                        d.usage());
            }
            return d.build().apply(list.toArray(new Expression[0]));
        };
        return (Function1) f;
    }

    public static Column tensorToArray(Column data, Column dtype) {
        return functions.call_function("tensor_to_array", data, dtype);
    }

    public static Column tensorToDoubleArray(Column data, Column dtype) {
        return functions.call_function("tensor_to_double_array", data, dtype);
    }

    public static Column tensorStats(Column data, Column dtype) {
        return functions.call_function("tensor_stats", data, dtype);
    }

    public static Column tensorStatsMerge(Column stats) {
        return functions.call_function("tensor_stats_merge", stats);
    }

    public static Column tensorCast(Column data, Column dtype, String target) {
        return functions.call_function("tensor_cast", data, dtype, functions.lit(target));
    }

    public static Column tensorDiffStats(Column a, Column b, Column dtype) {
        return functions.call_function("tensor_diff_stats", a, b, dtype);
    }

    public static Column tensorFromArray(Column array, String dtype) {
        return functions.call_function("tensor_from_array", array, functions.lit(dtype));
    }

    public static Column tensorStack(Column array, String dtype) {
        return functions.call_function("tensor_stack", array, functions.lit(dtype));
    }

    public static Column tensorRows(Column data, Column dtype, Column shape, Column chunkStart) {
        return functions.call_function("tensor_rows", data, dtype, shape, chunkStart);
    }
}
