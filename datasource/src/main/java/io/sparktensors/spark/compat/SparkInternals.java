package io.sparktensors.spark.compat;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.analysis.FunctionRegistry;
import org.apache.spark.sql.catalyst.plans.logical.LogicalPlan;
import org.apache.spark.sql.catalyst.rules.Rule;
import org.apache.spark.sql.execution.QueryExecution;

/**
 * The internals this library reaches that moved between Spark lines: a session's function registry and extra
 * optimizations, and a Dataset's query execution. Spark 3.5 has them on {@code SparkSession} and {@code Dataset}; Spark 4 on their
 * {@code org.apache.spark.sql.classic} subclasses. Both lines have the same public methods on the class of
 * the object at run time, so one reflective call serves both.
 */
public final class SparkInternals {
    private SparkInternals() {}

    /** The function registry of {@code spark}'s session state. */
    public static FunctionRegistry functionRegistry(SparkSession spark) {
        Object state = call(spark, "sessionState");
        return (FunctionRegistry) call(state, "functionRegistry");
    }

    /** The query execution of a Dataset (its analysed, optimised and physical plans). */
    public static QueryExecution queryExecution(Dataset<?> data) {
        return (QueryExecution) call(data, "queryExecution");
    }

    /** The rules of {@code spark}'s session's extra optimizations ({@code spark.experimental().extraOptimizations()}). */
    @SuppressWarnings("unchecked")
    public static List<Rule<LogicalPlan>> extraOptimizations(SparkSession spark) {
        Object experimental = call(spark, "experimental");
        return ScalaCollections.asJava(
                (scala.collection.Seq<Rule<LogicalPlan>>) call(experimental, "extraOptimizations"));
    }

    /**
     * Sets {@code spark}'s extra optimizations: a setter whose parameter is a {@code scala.collection.Seq} on
     * Scala 2.12 and a {@code scala.collection.immutable.Seq} on 2.13, which an immutable list is on both.
     */
    public static void setExtraOptimizations(SparkSession spark, List<Rule<LogicalPlan>> rules) {
        Object experimental = call(spark, "experimental");
        try {
            for (Method m : experimental.getClass().getMethods()) {
                if (m.getName().equals("extraOptimizations_$eq") && m.getParameterCount() == 1) {
                    m.invoke(experimental, ScalaCollections.toScalaList(rules));
                    return;
                }
            }
            throw new NoSuchMethodException("extraOptimizations_$eq");
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(
                    "This Spark cannot take extra optimizations: use a Spark version spark-tensors supports (3.5, 4.x)",
                    e);
        }
    }

    private static Object call(Object target, String method) {
        try {
            return target.getClass().getMethod(method).invoke(target);
        } catch (InvocationTargetException e) {
            Throwable cause = e.getCause();
            throw cause instanceof RuntimeException re ? re : new IllegalStateException(cause);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(
                    "This Spark has no " + target.getClass().getName() + "." + method
                            + "(): use a Spark version spark-tensors supports (3.5, 4.x)",
                    e);
        }
    }
}
