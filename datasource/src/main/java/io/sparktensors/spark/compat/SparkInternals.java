package io.sparktensors.spark.compat;

import java.lang.reflect.InvocationTargetException;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.analysis.FunctionRegistry;
import org.apache.spark.sql.execution.QueryExecution;

/**
 * The two internals this library reaches that moved between Spark lines: a session's function registry and a
 * Dataset's query execution. Spark 3.5 has them on {@code SparkSession} and {@code Dataset}; Spark 4 on their
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
